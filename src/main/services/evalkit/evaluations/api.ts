import type { z } from 'zod';
import type {
  Benchmark,
  BenchmarkInput,
  Evaluation,
  EvaluationInput,
  EvaluationSummary,
  Gate,
  GateInput,
  GateStatus,
} from '#shared/contracts/evalkit-evaluations';

/** EvalKit's evaluation runs and gates, as other services and the routes see them. */
export interface EvaluationsService {
  /**
   * Checks the request and queues an `evalkit.evaluate` job. Exactly one of `model` (with `version` number or
   * `@alias`, default the newest) or `deployment`. Refused with a 400 naming the field (nothing stored) for an
   * unknown model, version, alias, deployment, dataset, dataset version or file, a target or slice column the table
   * does not have, and a model that is not ONNX (GGUF models are evaluated by LLM evals). The job predicts every row
   * through DeployEngine (a model version not deployed gets a temporary deployment, removed afterwards), computes the
   * metrics of the task, the slices and bootstrap intervals, and records the result as a run of ModelHub's
   * `evaluations` experiment (metrics, tags naming the model and dataset versions, `evaluation/report.json`), tagging
   * the model version with `aidos.evaluation`. A failure ends it `failed` with the reason.
   */
  create(input: z.output<typeof EvaluationInput>): Promise<EvaluationSummary>;
  /** Newest first. */
  list(query: {
    model?: string | undefined;
    version?: number | undefined;
    deployment?: string | undefined;
    limit: number;
  }): EvaluationSummary[];
  get(id: string): Evaluation;
  /** A model's gates (all gates without `model`). */
  gates(model?: string): Gate[];
  /** Sets a gate of an existing model, replacing the one of the same model, alias and metric. */
  setGate(input: z.output<typeof GateInput>): Gate;
  deleteGate(id: string): void;
  /**
   * A model version against every gate of its model, by its latest succeeded evaluation. Gates are enforced when an
   * alias moves (ModelHub's REST and MLflow APIs): a move to a version that did not pass a gate of that alias (or of
   * every alias) is refused with FAILED_PRECONDITION naming the gate and the metric.
   */
  gateStatus(model: string, version: number): GateStatus;
  /**
   * Queues an `evalkit.benchmark` job loading a deployment over HTTP as its users do (KServe v2 `infer` with zero
   * tensors of the model's input shapes for ONNX and TF.js, `/v1/chat/completions` with the prompt for GGUF): `concurrency`
   * closed-loop clients for `durationSeconds` after one untimed warm-up request. 400 naming `deployment` when it does
   * not exist. The result (requests, errors, throughput, latency percentiles) is stored with the model version served.
   */
  createBenchmark(input: z.output<typeof BenchmarkInput>): Benchmark;
  /** Newest first. */
  listBenchmarks(query: { deployment?: string | undefined; limit: number }): Benchmark[];
  getBenchmark(id: string): Benchmark;
}
