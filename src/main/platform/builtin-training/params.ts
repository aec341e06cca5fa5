import { AppError } from '#shared/errors';
import type { Preprocessing } from './preprocessing';

export {
  BUILTIN_TRAINER_KINDS,
  BuiltinTrainerKind,
  BuiltinTrainerParams,
  type BuiltinTrainerParamsInput,
} from '#shared/contracts/builtin-trainer';

/** How training reports to its caller. `epochEnd` and `checkpoint` are awaited before training continues. */
export interface TrainerIo {
  /** Human progress lines. */
  log(message: string): void;
  /**
   * After each epoch (counted from 1): `loss` and, with a validation set, `val_loss`; classifiers add `accuracy` /
   * `val_accuracy`; regressors add `mae` / `val_mae` (in the target's units; the losses are the MSE of the
   * standardised target).
   */
  epochEnd(epoch: number, metrics: Record<string, number>): Promise<void>;
  /** After `epochEnd`, every epoch: everything resuming needs (see `TrainerResumeState`). */
  checkpoint(epoch: number, state: Uint8Array): Promise<void>;
}

/** A checkpoint to resume from: training continues at `epoch + 1`. */
export interface TrainerResumeState {
  epoch: number;
  state: Uint8Array;
}

export interface TrainerResult {
  /** The ONNX model (opset 13) of the best epoch's weights. */
  onnx: Uint8Array;
  /** How to feed the model and read its output (JSON-serialisable; see `Preprocessing`). */
  preprocessing: Preprocessing;
  /**
   * The best epoch's metrics (`val_*` with a validation set, else the training ones), `best_epoch`, and `test_*`
   * computed with the best weights when the data has a test set.
   */
  metrics: Record<string, number>;
  /** Epochs actually run (fewer than asked when early stopping ended training). */
  epochs: number;
}

/** What training rejects with when its AbortSignal fires (in-process) or its thread is terminated for it. */
export class TrainingCancelledError extends AppError {
  constructor() {
    super('FAILED_PRECONDITION', 'built-in training was cancelled');
  }
}
