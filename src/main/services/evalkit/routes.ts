import { routeTable } from '#gateway/routes';
import { evalkitEndpoints } from './contract';
import type { EvalkitService } from './contract';
import { evaluationRoutes } from './evaluations/routes';
import { llmEvalRoutes } from './llm/routes';
import { monitoringRoutes } from './monitoring/routes';

export function evalkitRoutes(evalkit: EvalkitService) {
  return routeTable(evalkitEndpoints, {
    ...evaluationRoutes(evalkit.evaluations),
    ...llmEvalRoutes(evalkit.llm),
    ...monitoringRoutes(evalkit.monitors),
  });
}
