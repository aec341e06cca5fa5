import type { Locator } from 'playwright-core';
import { TrainingJobDetail } from './training-jobs';

/**
 * A built-in trainer's job page (src/renderer/trainos/TrainingJobPage.tsx): the shared job page, with the facts
 * only a built-in job has (its trainer, the model it registers) and the clone form's trainer settings.
 */
export class BuiltinJobDetail extends TrainingJobDetail {
  /** The Trainer fact: "tabular-classifier target=species epochs=3 …". */
  get trainer(): Locator {
    return this.root.getByTestId('training-job-trainer');
  }

  /** The Registers fact's link to the registered model its ONNX export becomes a version of. */
  get registersLink(): Locator {
    return this.root.getByTestId('training-job-registers');
  }

  get metrics(): Locator {
    return this.root.getByTestId('training-job-metrics');
  }

  /** A trainer setting of the clone form (`epochs`, `learningRate`, `target`…). */
  trainerField(name: string): Locator {
    return this.form.root.locator(`#tj-trainer-${name}`);
  }
}
