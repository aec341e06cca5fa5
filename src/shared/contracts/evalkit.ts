import { evaluationEndpoints, evaluationEvents } from './evalkit-evaluations';
import { llmEvalEndpoints, llmEvalEvents } from './evalkit-llm';
import { monitoringEndpoints, monitoringEvents } from './evalkit-monitoring';

/**
 * EvalKit: evaluation runs of model versions and deployments on dataset versions (with gates before alias moves and
 * load benchmarks), LLM evals, drift monitors with alerts, and A/B tests. Each part declares its own schemas in
 * `evalkit-<part>.ts`; this is their union.
 */
export const evalkitEndpoints = { ...evaluationEndpoints, ...llmEvalEndpoints, ...monitoringEndpoints } as const;

export const evalkitEvents = { ...evaluationEvents, ...llmEvalEvents, ...monitoringEvents } as const;
