import type { ForeignApi, ForeignRequest, ForeignRoute } from '#gateway/routes';
import type { Deployment } from '#shared/contracts/deploy';
import type {
  V2ErrorResponse,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadata,
  V2ServerMetadata,
} from '#shared/contracts/deploy-v2';
import { AppError, httpStatusOf } from '#shared/errors';
import type { Deployments } from './deployments';
import {
  parseV2InferRequest,
  readServingSignature,
  tensorsFromV2,
  v2ModelMetadata,
  v2Response,
  type ServingSignature,
} from './onnx/index';
import { serveOnnx, servedVersion } from './onnx-serve';
import { REQUEST_ID_HEADER, answerJson } from './reply';
import { readTfjsServingSignature } from './tfjs/index';

/**
 * The protocol's `platform` of each tensor runtime: its `<backend>_<format>` names (Triton's) for ONNX; TF.js has no
 * name there, so it is named as TensorFlow.js's Python package and converter are.
 */
const V2_PLATFORMS = { onnx: 'onnxruntime_onnx', tfjs: 'tensorflowjs' } as const;

/** A deployment as the v2 routes read it: its stored settings and state. */
type ServedDeployment = Omit<Deployment, 'placement' | 'replicas' | 'inputColumns'>;

/**
 * The ONNX deployment a `/v2/models/{name}[/versions/{version}]` path names: `{name}` is the deployment's name and
 * `{version}` the model version it serves. Anything else is a 404 in the protocol's words: no such deployment, a
 * GGUF one (served by the OpenAI routes), or another version than the one served.
 */
function modelOf(deployments: Deployments, params: Record<string, string>): ServedDeployment {
  const name = params.name ?? '';
  const d = deployments.byName(name);
  if (!d) throw new AppError('NOT_FOUND', `model '${name}' is not served here: no deployment has that name`);
  if (d.runtime === 'gguf') {
    throw new AppError(
      'NOT_FOUND',
      `model '${name}' is a ${d.runtime.toUpperCase()} deployment, not served by the v2 protocol (use /v1, OpenAI's API)`,
    );
  }
  const version = params.version;
  if (version !== undefined && !versionsOf(d).some((v) => String(v) === version)) {
    const served = servedVersion(d);
    throw new AppError(
      'NOT_FOUND',
      `model '${name}' version '${version}' is not served (${served === null ? 'a model file has no versions' : `it serves version ${versionsOf(d).join(' and ')}`})`,
    );
  }
  return d;
}

/** The model versions a deployment serves: its main one, and a canary or shadow beside it. */
function versionsOf(d: ServedDeployment): number[] {
  return [servedVersion(d), d.traffic && servedVersion(d.traffic)].filter((v): v is number => v !== null);
}

/**
 * KServe's Open Inference Protocol (V2, REST) over the ONNX and TF.js deployments, so that Triton's and KServe's
 * clients (`tritonclient.http`, `kserve` SDK) work against `http://127.0.0.1:8000`: server health and metadata, model
 * metadata and readiness, and inference. Errors take the protocol's shape, `{ "error": "..." }`. Every route takes
 * the `read` scope, like the OpenAI routes, health included: the app's only unauthenticated probe is `/healthz`.
 */
export function v2Api(deployments: Deployments, version: string): ForeignApi {
  // Metadata of a model not loaded (scaled to zero) reads the signature from its file (ONNX) or by loading it in
  // one TF.js replica for the while; cached by file, as is a loaded model's, so scaling to zero reads nothing.
  const signatures = new Map<string, Promise<ServingSignature>>();
  const signatureOf = (d: ServedDeployment): Promise<ServingSignature> => {
    const loaded = deployments.loadedOnnx(d.id);
    if (loaded) {
      const signature = Promise.resolve(loaded.runtime.signature);
      signatures.set(d.source.path, signature);
      return signature;
    }
    let cached = signatures.get(d.source.path);
    if (!cached) {
      cached = d.runtime === 'tfjs' ? readTfjsServingSignature(d.source.path) : readServingSignature(d.source.path);
      cached.catch(() => signatures.delete(d.source.path));
      signatures.set(d.source.path, cached);
    }
    return cached;
  };
  const metadata = async (req: ForeignRequest): Promise<V2ModelMetadata> => {
    const d = modelOf(deployments, req.params);
    const versions = versionsOf(d);
    return v2ModelMetadata({
      name: d.name,
      ...(versions.length === 0 ? {} : { versions: versions.map(String) }),
      platform: V2_PLATFORMS[d.runtime === 'tfjs' ? 'tfjs' : 'onnx'],
      signature: await signatureOf(d).catch((err: unknown) => {
        // A file that cannot be read is the deployment's fault, said as its state, not the request's (a 400).
        if (d.state !== 'failed') throw err;
        throw new AppError('FAILED_PRECONDITION', `model '${d.name}' failed: ${d.reason ?? 'its file cannot be read'}`);
      }),
    });
  };
  const ready = (req: ForeignRequest) => {
    const d = modelOf(deployments, req.params);
    // Scaled to zero still takes requests (the next one loads it); loading, stopped or failed do not.
    const scaledToZero = d.state === 'idle-unloaded' || (d.state === 'pending' && d.minReplicas === 0);
    if (d.state !== 'ready' && !scaledToZero) {
      throw new AppError(
        'FAILED_PRECONDITION',
        `model '${d.name}' is not ready: it is ${d.state}${d.reason ? ` (${d.reason})` : ''}`,
      );
    }
    return { name: d.name, ready: true };
  };
  const infer = async (req: ForeignRequest): Promise<unknown> => {
    const d = modelOf(deployments, req.params);
    let body: V2InferRequest;
    try {
      body = parseV2InferRequest(req.body);
    } catch (err) {
      const status = err instanceof AppError ? httpStatusOf(err) : 500;
      const logId = deployments.refused(d.name, 'infer', status, err, () => JSON.stringify(req.body), req);
      if (logId !== null) req.setHeader(REQUEST_ID_HEADER, logId);
      throw err;
    }
    const answer = await serveOnnx(
      deployments,
      d.name,
      'infer',
      () => JSON.stringify(body.inputs),
      req,
      async (at) => {
        const { onnx, version: answering } = at;
        const { signature } = onnx.runtime;
        const { inputs, outputs } = tensorsFromV2(body, signature);
        const result = await onnx.runtime.infer(inputs, {
          ...(outputs ? { outputs } : {}),
          // Passed on unread: the runtime asks for it only if the request has to wait.
          get signal() {
            return at.signal;
          },
        });
        const response: V2InferResponse = v2Response({
          modelName: d.name,
          ...(answering === null ? {} : { modelVersion: String(answering) }),
          // The client's id is echoed (the protocol says so); without one, the request's id in the log.
          ...(body.id !== undefined ? { id: body.id } : at.logId !== null ? { id: at.logId } : {}),
          outputs: result.outputs,
          order: outputs ?? signature.outputs.map((o) => o.name),
        });
        return { body: response, output: () => JSON.stringify(response.outputs) };
      },
      req.params.version === undefined ? undefined : Number(req.params.version),
    );
    return answerJson(answer.body, answer);
  };
  const model = '/v2/models/:name';
  const versioned = '/v2/models/:name/versions/:version';
  const routes: ForeignRoute[] = [
    { method: 'GET', url: '/v2/health/live', scope: 'read', handler: () => ({ live: true }) },
    // Models load on their first request when scaled to zero: the server is ready once it serves.
    { method: 'GET', url: '/v2/health/ready', scope: 'read', handler: () => ({ ready: true }) },
    {
      method: 'GET',
      url: '/v2',
      scope: 'read',
      handler: (): V2ServerMetadata => ({ name: 'aidos', version, extensions: [] }),
    },
    ...[model, versioned].flatMap((url): ForeignRoute[] => [
      { method: 'GET', url, scope: 'read', handler: metadata },
      { method: 'GET', url: `${url}/ready`, scope: 'read', handler: ready },
      { method: 'POST', url: `${url}/infer`, scope: 'read', handler: infer },
    ]),
  ];
  return {
    name: 'kserve-v2',
    prefixes: ['/v2'],
    routes,
    bodyAlwaysJson: true,
    errorReply: ({ message, status }) => ({ status, body: { error: message } satisfies V2ErrorResponse }),
    // An infer body that is not JSON (or too large) is still a request to the model named in its URL.
    bodyRefused: (refusal) => {
      if (!refusal.url.endsWith('/infer')) return;
      const error = new Error(refusal.message);
      const logId = deployments.refused(refusal.params.name, 'infer', refusal.status, error, () => '', refusal);
      if (logId !== null) refusal.setHeader(REQUEST_ID_HEADER, logId);
    },
  };
}
