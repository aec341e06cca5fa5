import { PredictInput, type Deployment, type PredictOutput, type TabularPrediction } from '#shared/contracts/deploy';
import type { V2InferRequest } from '#shared/contracts/deploy-v2';
import { AppError, httpStatusOf } from '#shared/errors';
import type { Deployments, Lease } from './deployments';
import { predictTabular, tensorsFromV2, v2DatatypeOf, v2Output } from './onnx/index';
import { aRuntime, type OnnxModel } from './runtimes';
import { CLIENT_CLOSED_REQUEST, REQUEST_ID_HEADER, unlogged, type Caller } from './reply';

/** What a request's work produced: the reply, and its output as text for the request log (made only if sampled). */
export interface OnnxOutcome<T> {
  body: T;
  output: () => string;
}

/**
 * What a request's work is given: the model version answering, and the signal that cancels the work (a getter:
 * over HTTP the signal is made when first asked for, so pass it on without reading it unless needed).
 */
export interface OnnxWork {
  onnx: OnnxModel;
  version: number | null;
  /** The request's id in the request log when it is sampled into it. */
  logId: string | null;
  readonly signal: AbortSignal | undefined;
}

/**
 * Runs `work` on a held ONNX deployment and records the request (metrics; the request log when sampled, with
 * `input()` made only then).
 */
async function runOnnx<T>(
  deployments: Deployments,
  lease: Lease,
  endpoint: string,
  input: () => string,
  caller: Caller | undefined,
  work: (at: OnnxWork) => Promise<OnnxOutcome<T>>,
): Promise<T> {
  const started = performance.now();
  try {
    const onnx = lease.model.onnx;
    if (!onnx) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `'${lease.deployment.name}' is ${aRuntime(lease.deployment.runtime)} deployment, not an ONNX model`,
      );
    }
    const outcome = await work({
      onnx,
      version: lease.version,
      logId: lease.logId,
      // Asked for only if the request has to wait: the gateway makes a request's signal on demand.
      get signal() {
        return caller?.signal;
      },
    });
    deployments.record(lease, {
      endpoint,
      outcome: 'ok',
      httpStatus: 200,
      durationMs: performance.now() - started,
      promptTokens: null,
      completionTokens: null,
      input,
      output: outcome.output,
      error: null,
    });
    return outcome.body;
  } catch (err) {
    const cancelled = caller?.signal.aborted ?? false;
    const logId = deployments.record(lease, {
      endpoint,
      outcome: cancelled ? 'cancelled' : 'error',
      httpStatus: cancelled ? CLIENT_CLOSED_REQUEST : err instanceof AppError ? httpStatusOf(err) : 500,
      durationMs: performance.now() - started,
      promptTokens: null,
      completionTokens: null,
      input,
      output: null,
      error: err instanceof Error ? err.message : String(err),
    });
    // A failure's id in the log goes to its client too, as an answer's does.
    if (logId !== null) caller?.setHeader(REQUEST_ID_HEADER, logId);
    throw err;
  }
}

/**
 * Serves one request on an ONNX deployment: holds it (loading it on a cold start; `version` addresses one of its
 * versions explicitly), runs `work` on the model version the traffic split picks, and records the request. With a
 * shadow version, the same work runs on it after the client's answer is settled; its outcome is only counted.
 */
export async function serveOnnx<T>(
  deployments: Deployments,
  name: string,
  endpoint: string,
  input: () => string,
  caller: Caller | undefined,
  work: (at: OnnxWork) => Promise<OnnxOutcome<T>>,
  version?: number,
): Promise<{ body: T; version: number | null; logId: string | null }> {
  let lease: Lease;
  try {
    lease = await deployments.acquire(name, version, { unlogged: unlogged(caller) });
  } catch (err) {
    const status = err instanceof AppError ? httpStatusOf(err) : 500;
    const logId = deployments.refused(name, endpoint, status, err, input, caller);
    if (logId !== null) caller?.setHeader(REQUEST_ID_HEADER, logId);
    throw err;
  }
  try {
    const body = await runOnnx(deployments, lease, endpoint, input, caller, work);
    return { body, version: lease.version, logId: lease.logId };
  } finally {
    lease.release();
    const { shadow } = lease;
    if (shadow) {
      // Recorded as the shadow version's error when it fails; nobody waits for it.
      void runOnnx(deployments, shadow, endpoint, input, undefined, work)
        .catch(() => undefined)
        .finally(() => shadow.release());
    }
  }
}

/** The model version a deployment serves (null for a file). */
export function servedVersion(d: Pick<Deployment, 'source'>): number | null {
  return d.source.kind === 'model-version' ? d.source.version : null;
}

/**
 * `deployments.predict`: JSON rows through a tabular model's saved preprocessing, or input tensors by name for any
 * ONNX or TF.js model. GGUF deployments are asked through the OpenAI API instead.
 */
export async function predictOnnx(deployments: Deployments, request: PredictInput): Promise<PredictOutput> {
  const { deployment, rows, inputs } = PredictInput.parse(request);
  if ((rows === undefined) === (inputs === undefined)) {
    throw AppError.invalid(
      'rows',
      'give either rows (objects of column values, for a tabular model) or inputs (tensors by name)',
    );
  }
  const d = deployments.get(deployment);
  if (d.runtime === 'gguf') {
    throw AppError.invalid(
      'deployment',
      `'${d.name}' is a ${d.runtime.toUpperCase()} deployment: ask it through the OpenAI API (/v1/chat/completions, /v1/completions, /v1/embeddings)`,
    );
  }
  const { body } = await serveOnnx(
    deployments,
    d.name,
    'predict',
    () => JSON.stringify(rows ?? inputs),
    undefined,
    async ({ onnx, version, logId }): Promise<OnnxOutcome<PredictOutput>> => {
      const head = { deployment: d.name, modelVersion: version, requestId: logId };
      if (rows !== undefined) {
        if (!onnx.tabular) {
          throw AppError.invalid(
            'rows',
            `'${d.name}' is not a tabular model (it serves ${onnx.preprocessing?.kind ?? 'tensors'}); send its input tensors as inputs: {"<name>": {"shape": […], "data": […]}}`,
          );
        }
        const { predictions } = await predictTabular(onnx.runtime, onnx.tabular, rows);
        return {
          body: { ...head, predictions },
          output: () => JSON.stringify(predictions satisfies TabularPrediction[]),
        };
      }
      const { signature } = onnx.runtime;
      const v2: V2InferRequest = {
        inputs: Object.entries(inputs ?? {}).map(([name, tensor]) => {
          const spec = signature.inputs.find((s) => s.name === name);
          // An unknown name keeps FP32 here: validation then says the model has no such input.
          const datatype = tensor.datatype ?? (spec ? v2DatatypeOf(spec.dtype) : 'FP32');
          return { name, shape: tensor.shape, datatype, data: tensor.data };
        }),
      };
      const { outputs } = await onnx.runtime.infer(tensorsFromV2(v2, signature).inputs);
      const out: NonNullable<PredictOutput['outputs']> = {};
      for (const spec of signature.outputs) {
        const tensor = outputs[spec.name];
        if (!tensor) continue;
        const { shape, datatype, data } = v2Output(spec.name, tensor);
        out[spec.name] = { shape, datatype, data };
      }
      return { body: { ...head, outputs: out }, output: () => JSON.stringify(out) };
    },
  );
  return body;
}
