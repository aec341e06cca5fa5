export { deployEndpoints, deployEvents } from '#shared/contracts/deploy';
import type {
  Deployment,
  DeploymentEvent,
  DeploymentInput,
  DeploymentStats,
  DeploymentUpdate,
  PredictInput,
  PredictOutput,
  RequestLogEntry,
} from '#shared/contracts/deploy';

/** Which of a deployment's logged requests to list: one status, one model version, or all. */
export interface RequestLogFilter {
  status?: RequestLogEntry['status'] | undefined;
  version?: number | undefined;
}

/**
 * DeployEngine as other services see it. Deployments are addressed by id or name. The inference APIs (OpenAI's
 * `/v1/...` for GGUF, KServe's `/v2/...` for ONNX) are served by the deploy module itself; EvalKit reads the request
 * log through `logs`.
 */
export interface DeployService {
  list(): Deployment[];
  get(ref: string): Deployment;
  /**
   * Deploys a registered model version (`model`, `version` number or `@alias`, default the newest) or a model file
   * (`file`). Refused (nothing stored) when the format has no runtime, the name is taken, or the memory estimate does
   * not fit; a model file that cannot be read or loaded leaves a `failed` deployment with the runtime's reason.
   * With `minReplicas` ≥ 1 it resolves once the model is loaded (or failed).
   */
  create(input: DeploymentInput): Promise<Deployment>;
  update(input: DeploymentUpdate): Promise<Deployment>;
  start(ref: string): Promise<Deployment>;
  stop(ref: string): Promise<Deployment>;
  /** Serves the previous model version (or file) again; the current one becomes the previous. */
  rollback(ref: string): Promise<Deployment>;
  /** The canary (or shadow) version becomes the main one, the main one the rollback target; the split ends. */
  promote(ref: string): Promise<Deployment>;
  remove(ref: string): Promise<void>;
  stats(ref: string): DeploymentStats;
  /**
   * Predicts with an ONNX deployment (loading it first when scaled to zero): `rows` through a tabular model's saved
   * preprocessing (400 naming `rows[i].column` for a missing or bad cell), or `inputs` tensors by name for any ONNX
   * model (400 naming `inputs.<name>`). A GGUF deployment is a 400: it is asked through the OpenAI API.
   */
  predict(input: PredictInput): Promise<PredictOutput>;
  events(ref: string, limit: number): DeploymentEvent[];
  logs(
    ref: string,
    page: { limit: number; cursor?: string | undefined } & RequestLogFilter,
  ): {
    items: RequestLogEntry[];
    nextCursor: string | null;
  };
}
