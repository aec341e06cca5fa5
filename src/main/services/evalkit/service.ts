import type { JobHandler } from '#platform/queue';
import type { EvalkitService } from './contract';
import type { EvalkitDeps } from './deps';
import { Evaluations } from './evaluations/service';
import { LlmEvals } from './llm/service';
import { Monitors } from './monitoring/service';

/** EvalKit: its parts share the platform and the services they read, and nothing else. */
export class Evalkit implements EvalkitService {
  readonly evaluations: Evaluations;
  readonly llm: LlmEvals;
  readonly monitors: Monitors;

  constructor(deps: EvalkitDeps) {
    this.evaluations = new Evaluations(deps);
    this.llm = new LlmEvals(deps);
    this.monitors = new Monitors(deps);
  }

  jobHandlers(): JobHandler[] {
    return [...this.evaluations.jobHandlers(), ...this.llm.jobHandlers(), ...this.monitors.jobHandlers()];
  }
}
