export { evalkitEndpoints, evalkitEvents } from '#shared/contracts/evalkit';
import type { EvaluationsService } from './evaluations/api';
import type { LlmEvalsService } from './llm/api';
import type { MonitorsService } from './monitoring/api';

export type { EvaluationsService, LlmEvalsService, MonitorsService };

/** EvalKit as other services see it: its three parts. */
export interface EvalkitService {
  readonly evaluations: EvaluationsService;
  readonly llm: LlmEvalsService;
  readonly monitors: MonitorsService;
}
