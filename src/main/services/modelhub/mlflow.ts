import type { Readable } from 'node:stream';
import type { ForeignApi, ForeignRequest, ForeignRoute } from '#gateway/routes';
import type { HttpMethod, Scope } from '#shared/api/endpoint';
import type { Experiment, KeyValue, Run, RunInfo, RunInput } from '#shared/contracts/modelhub';
import { RUN_STATUSES } from '#shared/contracts/modelhub';
import { AppError, type ErrorCode } from '#shared/errors';
import { actorOf } from '#services/security/contract';
import type { ArtifactEntry, ArtifactStore } from './artifacts';
import { loggedModelRoot, type LoggedModel, type LoggedModels } from './logged-models';
import type { ModelVersion, RegisteredModel, RegistryService } from './registry';
import { jsonNumber } from './series';
import type { TrackingService, ViewType } from './service';
import type { StoredPoint } from './store';

/**
 * MLflow's REST API (mlflow/protos/service.proto) over ModelHub, so that MLflow clients log here unchanged
 * with MLFLOW_TRACKING_URI pointing at the core. Requests follow the protos' JSON mapping: GET requests carry
 * their fields in the query string, int64s may arrive as strings, NaN and ±Infinity as strings. Responses
 * leave out empty lists and unset fields, as MLflow's server does.
 */

const PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/', '/api/2.0/mlflow-artifacts/'] as const;

/** Our error codes as MLflow's (databricks_pb2 ErrorCode) and the statuses its server sends with them. */
const MLFLOW_ERRORS: Record<ErrorCode, { code: string; status: number }> = {
  INVALID_ARGUMENT: { code: 'INVALID_PARAMETER_VALUE', status: 400 },
  NOT_FOUND: { code: 'RESOURCE_DOES_NOT_EXIST', status: 404 },
  CONFLICT: { code: 'RESOURCE_ALREADY_EXISTS', status: 400 },
  FAILED_PRECONDITION: { code: 'INVALID_STATE', status: 400 },
  UNAUTHENTICATED: { code: 'UNAUTHENTICATED', status: 401 },
  PERMISSION_DENIED: { code: 'PERMISSION_DENIED', status: 403 },
  RESOURCE_EXHAUSTED: { code: 'REQUEST_LIMIT_EXCEEDED', status: 429 },
  UNAVAILABLE: { code: 'TEMPORARILY_UNAVAILABLE', status: 503 },
  INTERNAL: { code: 'INTERNAL_ERROR', status: 500 },
};

function mlflowError(error: { code: ErrorCode; message: string; status: number }): { status: number; body: unknown } {
  const mapped = MLFLOW_ERRORS[error.code];
  // 413 (too large) and 404 for an unknown route keep their status; MLflow names the latter ENDPOINT_NOT_FOUND.
  if (error.status === 413)
    return { status: 413, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: error.message } };
  if (error.code === 'NOT_FOUND' && error.message.startsWith('no route ')) {
    return { status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: error.message } };
  }
  return { status: mapped.status, body: { error_code: mapped.code, message: error.message } };
}

/** The request's fields: the JSON body, or for GET the query string. */
class Fields {
  constructor(private readonly values: Record<string, unknown>) {}

  static of(req: ForeignRequest, method: HttpMethod): Fields {
    // MLflow 3's routes carry ids in the path (`logged-models/{model_id}`).
    const fromPath = Object.fromEntries(Object.entries(req.params).filter(([k]) => k !== '*'));
    if (method === 'GET' || method === 'DELETE') {
      const fromQuery = { ...req.query };
      // DELETE requests of MLflow's client carry a JSON body.
      const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
      return new Fields({ ...body, ...fromQuery, ...fromPath });
    }
    if (req.body !== undefined && (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))) {
      throw new AppError('INVALID_ARGUMENT', 'the request body must be a JSON object');
    }
    return new Fields({ ...((req.body as Record<string, unknown> | undefined) ?? {}), ...fromPath });
  }

  optionalString(name: string): string | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return this.single(name, v);
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw missingOrBad(name, 'must be a string');
  }

  private single(name: string, v: unknown[]): string {
    if (v.length !== 1 || typeof v[0] !== 'string') throw missingOrBad(name, 'must be given once');
    return v[0];
  }

  string(name: string, ...aliases: string[]): string {
    for (const n of [name, ...aliases]) {
      const v = this.optionalString(n);
      if (v !== undefined) return v;
    }
    throw new AppError(
      'INVALID_ARGUMENT',
      `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
      { field: name },
    );
  }

  optionalInt(name: string): number | undefined {
    const v = this.values[name];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw missingOrBad(name, `must be an integer, got ${JSON.stringify(v)}`);
    return n;
  }

  optionalBool(name: string): boolean | undefined {
    const v = this.values[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw missingOrBad(name, 'must be true or false');
  }

  strings(name: string): string[] {
    const v = this.values[name];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => {
      if (typeof x === 'string') return x;
      if (typeof x === 'number') return String(x);
      throw missingOrBad(name, 'must be a list of strings');
    });
  }

  objects(name: string): Record<string, unknown>[] {
    const v = this.values[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
      throw missingOrBad(name, 'must be a list of objects');
    }
    return v as Record<string, unknown>[];
  }
}

function missingOrBad(name: string, why: string): AppError {
  return new AppError('INVALID_ARGUMENT', `Invalid value for parameter '${name}': ${why}`, { field: name });
}

function keyValues(list: Record<string, unknown>[], what: string): KeyValue[] {
  return list.map((o, i) => {
    const f = new Fields(o);
    const key = f.optionalString('key');
    if (key === undefined) throw missingOrBad(`${what}[${i}].key`, 'is required');
    return { key, value: f.optionalString('value') ?? '' };
  });
}

/** A metric value: a number, or the strings MLflow's JSON uses for NaN and ±Infinity. */
function metricValue(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === 'NaN' || t === 'nan') return Number.NaN;
    if (t === 'Infinity' || t === 'inf') return Infinity;
    if (t === '-Infinity' || t === '-inf') return -Infinity;
    const n = Number(t);
    if (t !== '' && !Number.isNaN(n)) return n;
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    `Got invalid value ${JSON.stringify(v)} for metric '${field}' (timestamp=?). Please specify value as a valid double (64-bit floating point)`,
    { field },
  );
}

function metricsOf(list: Record<string, unknown>[]): StoredPoint[] {
  return list.map((o, i) => {
    // What clients send (a string key, numbers): taken as they are, without a wrapper and a copy per metric (a
    // log-batch holds up to 1,000). Anything else goes through the full conversion below.
    const { key: k, value: v, timestamp: t, step: s } = o;
    if (typeof k === 'string' && typeof v === 'number' && Number.isSafeInteger(t) && Number.isSafeInteger(s)) {
      return { key: k, value: v, timestamp: t as number, step: s as number };
    }
    const f = new Fields(o);
    const key = f.optionalString('key');
    if (key === undefined) throw missingOrBad(`metrics[${i}].key`, 'is required');
    if (o.value === undefined) throw missingOrBad(`metrics[${i}].value`, 'is required');
    const timestamp = f.optionalInt('timestamp');
    if (timestamp === undefined) throw missingOrBad(`metrics[${i}].timestamp`, 'is required');
    return { key, value: metricValue(o.value, key), timestamp, step: f.optionalInt('step') ?? 0 };
  });
}

function viewType(v: string | undefined): ViewType {
  if (v === undefined || v === 'ACTIVE_ONLY' || v === '1') return 'ACTIVE_ONLY';
  if (v === 'DELETED_ONLY' || v === '2') return 'DELETED_ONLY';
  if (v === 'ALL' || v === '3') return 'ALL';
  throw missingOrBad('view_type', `must be ACTIVE_ONLY, DELETED_ONLY or ALL, got '${v}'`);
}

function withList<T>(name: string, list: readonly T[]): Record<string, readonly T[]> {
  return list.length > 0 ? { [name]: list } : {};
}

function experimentJson(e: Experiment) {
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.updatedAt,
    creation_time: e.createdAt,
    ...withList('tags', e.tags),
  };
}

function runInfoJson(r: RunInfo) {
  return {
    run_uuid: r.id,
    experiment_id: r.experimentId,
    run_name: r.name,
    user_id: r.userId,
    status: r.status,
    start_time: r.startTime,
    ...(r.endTime !== null ? { end_time: r.endTime } : {}),
    artifact_uri: r.artifactUri,
    lifecycle_stage: r.lifecycleStage,
    run_id: r.id,
  };
}

function inputJson(i: RunInput) {
  return {
    ...withList('tags', i.tags),
    dataset: {
      name: i.name,
      digest: i.digest,
      source_type: i.sourceType,
      source: i.source,
      ...(i.schema !== null ? { schema: i.schema } : {}),
      ...(i.profile !== null ? { profile: i.profile } : {}),
    },
  };
}

/** A run as MLflow sends it; a new run has no `inputs` at all in MLflow's answer, a read one always has. */
function runJson(run: Run, { created = false } = {}) {
  return {
    info: runInfoJson(run.info),
    data: {
      ...withList('metrics', run.metrics),
      ...withList('params', run.params),
      ...withList('tags', run.tags),
    },
    ...(created ? {} : { inputs: { ...withList('dataset_inputs', run.inputs.map(inputJson)) } }),
  };
}

function inputsOf(list: Record<string, unknown>[]): RunInput[] {
  return list.map((o, i) => {
    const dataset = o.dataset;
    if (typeof dataset !== 'object' || dataset === null) throw missingOrBad(`datasets[${i}].dataset`, 'is required');
    const d = new Fields(dataset as Record<string, unknown>);
    const field = (name: string) => {
      const v = d.optionalString(name);
      if (v === undefined) throw missingOrBad(`datasets[${i}].dataset.${name}`, 'is required');
      return v;
    };
    return {
      name: field('name'),
      digest: field('digest'),
      sourceType: field('source_type'),
      source: field('source'),
      schema: d.optionalString('schema') ?? null,
      profile: d.optionalString('profile') ?? null,
      tags: keyValues(new Fields(o).objects('tags'), `datasets[${i}].tags`),
      datasetVersionId: null,
    };
  });
}

type Handler = (f: Fields, req: ForeignRequest) => unknown;

/** What artifact roots belong to. */
interface Owners {
  tracking: TrackingService;
  loggedModels: LoggedModels;
}

/**
 * `<experiment>/<run>/artifacts[/<path>]` (a run's files), `<experiment>/models/<model>/artifacts[/<path>]` (an
 * MLflow 3 logged model's) or `registry/<upload>[/<path>]` (a model file uploaded to the registry, read-only):
 * the artifact root and the path inside it.
 */
function artifactLocation(
  { tracking, loggedModels }: Owners,
  location: string,
  { forWriting = false } = {},
): { root: string; path: string } {
  const trimmed = location.replace(/\/+$/, '');
  const logged = /^(\d+)\/models\/(m-[0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(trimmed);
  if (logged) {
    const [, experimentId, modelId, path] = logged as unknown as [string, string, string, string | undefined];
    if (loggedModels.get(modelId).experimentId !== experimentId) {
      throw new AppError('NOT_FOUND', `Logged model ${modelId} is not in experiment ${experimentId}`, {
        model: modelId,
      });
    }
    return { root: loggedModelRoot(experimentId, modelId), path: path ?? '' };
  }
  const uploaded = /^registry\/([0-9A-Z]{26})(?:\/(.*))?$/.exec(trimmed);
  if (uploaded) {
    if (forWriting) {
      throw new AppError('PERMISSION_DENIED', `registered model files are read-only: '${location}'`);
    }
    return { root: `registry/${uploaded[1] as string}`, path: uploaded[2] ?? '' };
  }
  const m = /^(\d+)\/([0-9a-f]{32})\/artifacts(?:\/(.*))?$/.exec(trimmed);
  if (!m) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Invalid artifact path '${location}': expected <experiment_id>/<run_id>/artifacts/<path>`,
      {
        field: 'path',
      },
    );
  }
  const [, experimentId, runId, path] = m as unknown as [string, string, string, string | undefined];
  if (tracking.run(runId).info.experimentId !== experimentId) {
    throw new AppError('NOT_FOUND', `Run ${runId} is not in experiment ${experimentId}`, { run: runId });
  }
  return { root: `${experimentId}/${runId}/artifacts`, path: path ?? '' };
}

function filesJson(entries: readonly ArtifactEntry[], dir: string) {
  const strip = dir === '' ? 0 : dir.length + 1;
  return entries.map((e) => ({
    path: e.path.slice(strip),
    is_dir: e.isDir,
    ...(e.size !== null ? { file_size: e.size } : {}),
  }));
}

/** MLflow's artifact proxy (mlflow_artifacts.proto): uploads, downloads, listings and deletions of run files. */
function artifactRoutes(owners: Owners, artifacts: ArtifactStore): ForeignRoute[] {
  const base = '/api/2.0/mlflow-artifacts/artifacts';
  return [
    {
      method: 'PUT',
      url: `${base}/*`,
      scope: 'write',
      streamBody: true,
      handler: async (req) => {
        const { root, path } = artifactLocation(owners, req.params['*'] ?? '', { forWriting: true });
        if (path === '')
          throw new AppError('INVALID_ARGUMENT', 'an artifact upload needs a file path', { field: 'path' });
        await artifacts.put(root, path, req.stream as Readable);
        return {};
      },
    },
    {
      method: 'GET',
      url: `${base}/*`,
      scope: 'read',
      handler: (req) => {
        const { root, path } = artifactLocation(owners, req.params['*'] ?? '');
        return artifacts.file(root, path);
      },
    },
    {
      method: 'DELETE',
      url: `${base}/*`,
      scope: 'write',
      handler: (req) => {
        const { root, path } = artifactLocation(owners, req.params['*'] ?? '', { forWriting: true });
        if (!artifacts.delete(root, path))
          throw new AppError('NOT_FOUND', `artifact '${path}' does not exist`, { path });
        return {};
      },
    },
    {
      method: 'GET',
      url: base,
      scope: 'read',
      handler: (req) => {
        const { root, path } = artifactLocation(owners, Fields.of(req, 'GET').optionalString('path') ?? '');
        return { ...withList('files', filesJson(artifacts.list(root, path), path)) };
      },
    },
  ];
}

function modelVersionJson(v: ModelVersion, { withAliases = true } = {}) {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    ...(v.userId !== '' ? { user_id: v.userId } : {}),
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    ...(v.runId !== null ? { run_id: v.runId } : {}),
    status: v.status,
    ...withList('tags', v.tags),
    run_link: v.runLink,
    ...(withAliases ? withList('aliases', v.aliases) : {}),
  };
}

function registeredModelJson(m: RegisteredModel) {
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    description: m.description,
    ...withList(
      'latest_versions',
      m.latestVersions.map((v) => modelVersionJson(v)),
    ),
    ...withList('tags', m.tags),
    ...withList(
      'aliases',
      m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) })),
    ),
  };
}

/** MLflow's model registry (model_registry.proto). */
function registryHandlers(
  registry: RegistryService,
  loggedModels: LoggedModels,
  describe: (source: string) => Promise<{ format: string; signature: unknown }>,
): [HttpMethod | HttpMethod[], string, Scope, Handler][] {
  const actor = (req: ForeignRequest) => actorOf(req.principal);
  return [
    [
      'POST',
      'registered-models/create',
      'write',
      (f) => ({
        registered_model: registeredModelJson(
          registry.createModel({
            name: f.string('name'),
            description: f.optionalString('description'),
            tags: keyValues(f.objects('tags'), 'tags'),
          }),
        ),
      }),
    ],
    [
      'GET',
      'registered-models/get',
      'read',
      (f) => ({ registered_model: registeredModelJson(registry.model(f.string('name'))) }),
    ],
    [
      'PATCH',
      'registered-models/update',
      'write',
      (f) => ({
        registered_model: registeredModelJson(
          registry.updateModel(f.string('name'), f.optionalString('description') ?? ''),
        ),
      }),
    ],
    [
      'POST',
      'registered-models/rename',
      'write',
      (f) => ({ registered_model: registeredModelJson(registry.renameModel(f.string('name'), f.string('new_name'))) }),
    ],
    [
      'DELETE',
      'registered-models/delete',
      'write',
      (f) => {
        registry.deleteModel(f.string('name'));
        return {};
      },
    ],
    [
      ['GET', 'POST'],
      'registered-models/search',
      'read',
      (f) => {
        const result = registry.searchModels({
          filter: f.optionalString('filter'),
          maxResults: f.optionalInt('max_results'),
          orderBy: f.strings('order_by'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList('registered_models', result.models.map(registeredModelJson)),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
    [
      ['GET', 'POST'],
      'registered-models/get-latest-versions',
      'read',
      (f) => {
        const stages = f.strings('stages');
        const latest = registry
          .model(f.string('name'))
          .latestVersions.filter(
            (v) => stages.length === 0 || stages.some((s) => s.toLowerCase() === v.stage.toLowerCase()),
          );
        return {
          ...withList(
            'model_versions',
            latest.map((v) => modelVersionJson(v)),
          ),
        };
      },
    ],
    [
      'POST',
      'registered-models/set-tag',
      'write',
      (f) => {
        registry.setModelTag(f.string('name'), f.string('key'), f.optionalString('value') ?? '');
        return {};
      },
    ],
    [
      'DELETE',
      'registered-models/delete-tag',
      'write',
      (f) => {
        registry.deleteModelTag(f.string('name'), f.string('key'));
        return {};
      },
    ],
    [
      'POST',
      'registered-models/alias',
      'write',
      (f, req) => {
        registry.setAlias(f.string('name'), f.string('alias'), f.string('version'), actor(req));
        return {};
      },
    ],
    [
      'DELETE',
      'registered-models/alias',
      'write',
      (f, req) => {
        registry.deleteAlias(f.string('name'), f.string('alias'), actor(req));
        return {};
      },
    ],
    [
      'GET',
      'registered-models/alias',
      'read',
      (f) => ({ model_version: modelVersionJson(registry.versionByAlias(f.string('name'), f.string('alias'))) }),
    ],
    [
      'POST',
      'model-versions/create',
      'write',
      async (f) => {
        // MLflow 3 registers a logged model: `model_id`, and a source of `models:/<model_id>`.
        const modelId = f.optionalString('model_id') || undefined;
        const logged = modelId !== undefined ? loggedModels.get(modelId) : undefined;
        const source = f.string('source');
        return {
          model_version: modelVersionJson(
            registry.createVersion({
              ...(await describe(logged && source.startsWith('models:/') ? logged.artifactUri : source)),
              name: f.string('name'),
              source,
              loggedModelId: modelId,
              runId: f.optionalString('run_id') || logged?.sourceRunId || undefined,
              runLink: f.optionalString('run_link'),
              description: f.optionalString('description'),
              tags: keyValues(f.objects('tags'), 'tags'),
            }),
          ),
        };
      },
    ],
    [
      'GET',
      'model-versions/get',
      'read',
      (f) => ({ model_version: modelVersionJson(registry.version(f.string('name'), f.string('version'))) }),
    ],
    [
      'PATCH',
      'model-versions/update',
      'write',
      (f) => ({
        model_version: modelVersionJson(
          registry.updateVersion(f.string('name'), f.string('version'), f.optionalString('description')),
        ),
      }),
    ],
    [
      'DELETE',
      'model-versions/delete',
      'write',
      (f, req) => {
        registry.deleteVersion(f.string('name'), f.string('version'), actor(req));
        return {};
      },
    ],
    [
      ['GET', 'POST'],
      'model-versions/search',
      'read',
      (f) => {
        const result = registry.searchVersions({
          filter: f.optionalString('filter'),
          maxResults: f.optionalInt('max_results'),
          orderBy: f.strings('order_by'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList(
            'model_versions',
            result.versions.map((v) => modelVersionJson(v, { withAliases: false })),
          ),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
    [
      'GET',
      'model-versions/get-download-uri',
      'read',
      (f) => ({ artifact_uri: registry.version(f.string('name'), f.string('version')).source }),
    ],
    [
      'POST',
      'model-versions/transition-stage',
      'write',
      (f, req) => ({
        model_version: modelVersionJson(
          registry.transitionStage(
            f.string('name'),
            f.string('version'),
            f.string('stage'),
            f.optionalBool('archive_existing_versions') ?? false,
            actor(req),
          ),
        ),
      }),
    ],
    [
      'POST',
      'model-versions/set-tag',
      'write',
      (f) => {
        registry.setVersionTag(f.string('name'), f.string('version'), f.string('key'), f.optionalString('value') ?? '');
        return {};
      },
    ],
    [
      'DELETE',
      'model-versions/delete-tag',
      'write',
      (f) => {
        registry.deleteVersionTag(f.string('name'), f.string('version'), f.string('key'));
        return {};
      },
    ],
  ];
}

function loggedModelJson(m: LoggedModel) {
  return {
    info: {
      model_id: m.id,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.createdAt,
      last_updated_timestamp_ms: m.updatedAt,
      artifact_uri: m.artifactUri,
      status: m.status,
      ...(m.modelType !== null ? { model_type: m.modelType } : {}),
      ...(m.sourceRunId !== null ? { source_run_id: m.sourceRunId } : {}),
      ...(m.statusMessage !== null ? { status_message: m.statusMessage } : {}),
      ...withList('tags', m.tags),
      ...withList(
        'registrations',
        m.registrations.map((r) => ({ name: r.name, version: String(r.version) })),
      ),
    },
    data: { ...withList('params', m.params) },
  };
}

/** MLflow 3's logged models and run outputs, which a 3.x client's `log_model` uses. */
function loggedModelHandlers(
  loggedModels: LoggedModels,
  artifacts: ArtifactStore,
): [HttpMethod | HttpMethod[], string, Scope, Handler][] {
  const id = (f: Fields) => f.string('model_id');
  return [
    [
      'POST',
      'logged-models',
      'write',
      (f) => ({
        model: loggedModelJson(
          loggedModels.create({
            experimentId: f.string('experiment_id'),
            name: f.optionalString('name'),
            modelType: f.optionalString('model_type'),
            sourceRunId: f.optionalString('source_run_id') || undefined,
            params: keyValues(f.objects('params'), 'params'),
            tags: keyValues(f.objects('tags'), 'tags'),
          }),
        ),
      }),
    ],
    ['GET', 'logged-models/:model_id', 'read', (f) => ({ model: loggedModelJson(loggedModels.get(id(f))) })],
    [
      'PATCH',
      'logged-models/:model_id',
      'write',
      (f) => ({ model: loggedModelJson(loggedModels.finalize(id(f), f.string('status'))) }),
    ],
    [
      'DELETE',
      'logged-models/:model_id',
      'write',
      (f) => {
        loggedModels.delete(id(f));
        return {};
      },
    ],
    [
      'PATCH',
      'logged-models/:model_id/tags',
      'write',
      (f) => {
        loggedModels.get(id(f));
        loggedModels.setTags(id(f), keyValues(f.objects('tags'), 'tags'));
        return { model: loggedModelJson(loggedModels.get(id(f))) };
      },
    ],
    [
      'DELETE',
      'logged-models/:model_id/tags/:tag_key',
      'write',
      (f) => {
        loggedModels.deleteTag(id(f), f.string('tag_key'));
        return {};
      },
    ],
    [
      'POST',
      'logged-models/:model_id/params',
      'write',
      (f) => {
        loggedModels.get(id(f));
        loggedModels.setParams(id(f), keyValues(f.objects('params'), 'params'));
        return {};
      },
    ],
    [
      'POST',
      'logged-models/search',
      'read',
      (f) => {
        const result = loggedModels.search({
          experimentIds: f.strings('experiment_ids'),
          maxResults: f.optionalInt('max_results'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList('models', result.models.map(loggedModelJson)),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
    [
      'GET',
      'logged-models/:model_id/artifacts/directories',
      'read',
      (f) => {
        const m = loggedModels.get(id(f));
        const dir = (f.optionalString('artifact_directory_path') ?? '').replace(/\/+$/, '');
        return {
          root_uri: m.artifactUri,
          ...withList('files', filesJson(artifacts.list(loggedModelRoot(m.experimentId, m.id), dir), '')),
        };
      },
    ],
    [
      'GET',
      'logged-models/:model_id/artifacts/files',
      'read',
      (f) => {
        const m = loggedModels.get(id(f));
        return artifacts.file(loggedModelRoot(m.experimentId, m.id), f.string('artifact_file_path'));
      },
    ],
    [
      'POST',
      'runs/outputs',
      'write',
      (f) => {
        loggedModels.logOutputs(
          f.string('run_id'),
          f.objects('models').map((o, i) => {
            const fo = new Fields(o);
            const modelId = fo.optionalString('model_id');
            if (modelId === undefined) throw missingOrBad(`models[${i}].model_id`, 'is required');
            return { modelId, step: fo.optionalInt('step') ?? 0 };
          }),
        );
        return {};
      },
    ],
  ];
}

export function mlflowApi(
  tracking: TrackingService,
  artifacts: ArtifactStore,
  registry: RegistryService,
  loggedModels: LoggedModels,
  describe: (source: string) => Promise<{ format: string; signature: unknown }>,
): ForeignApi {
  const runId = (f: Fields) => f.string('run_id', 'run_uuid');
  const handlers: [HttpMethod | HttpMethod[], string, Scope, Handler][] = [
    [
      'POST',
      'experiments/create',
      'write',
      (f) => ({
        experiment_id: tracking.createExperiment({
          name: f.string('name'),
          tags: keyValues(f.objects('tags'), 'tags'),
          artifactLocation: f.optionalString('artifact_location') || undefined,
        }),
      }),
    ],
    [
      'GET',
      'experiments/get',
      'read',
      (f) => ({ experiment: experimentJson(tracking.experiment(f.string('experiment_id'))) }),
    ],
    [
      'GET',
      'experiments/get-by-name',
      'read',
      (f) => ({ experiment: experimentJson(tracking.experimentByName(f.string('experiment_name'))) }),
    ],
    [
      ['GET', 'POST'],
      'experiments/search',
      'read',
      (f) => {
        const result = tracking.searchExperiments({
          filter: f.optionalString('filter'),
          viewType: viewType(f.optionalString('view_type')),
          maxResults: f.optionalInt('max_results'),
          orderBy: f.strings('order_by'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList('experiments', result.experiments.map(experimentJson)),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
    [
      'POST',
      'experiments/update',
      'write',
      (f) => {
        tracking.renameExperiment(f.string('experiment_id'), f.string('new_name'));
        return {};
      },
    ],
    [
      'POST',
      'experiments/delete',
      'write',
      (f) => {
        tracking.setExperimentLifecycle(f.string('experiment_id'), 'deleted');
        return {};
      },
    ],
    [
      'POST',
      'experiments/restore',
      'write',
      (f) => {
        tracking.setExperimentLifecycle(f.string('experiment_id'), 'active');
        return {};
      },
    ],
    [
      'POST',
      'experiments/set-experiment-tag',
      'write',
      (f) => {
        tracking.setExperimentTag(f.string('experiment_id'), f.string('key'), f.optionalString('value') ?? '');
        return {};
      },
    ],
    [
      'POST',
      'experiments/delete-experiment-tag',
      'write',
      (f) => {
        tracking.deleteExperimentTag(f.string('experiment_id'), f.string('key'));
        return {};
      },
    ],
    [
      'POST',
      'runs/create',
      'write',
      (f) => ({
        run: runJson(
          tracking.createRun({
            experimentId: f.optionalString('experiment_id'),
            userId: f.optionalString('user_id'),
            runName: f.optionalString('run_name') || undefined,
            startTime: f.optionalInt('start_time'),
            tags: keyValues(f.objects('tags'), 'tags'),
          }),
          { created: true },
        ),
      }),
    ],
    ['GET', 'runs/get', 'read', (f) => ({ run: runJson(tracking.run(runId(f))) })],
    [
      'POST',
      'runs/update',
      'write',
      (f) => {
        const status = f.optionalString('status');
        if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
          throw missingOrBad('status', `must be one of ${RUN_STATUSES.join(', ')}`);
        }
        const info = tracking.updateRun(runId(f), {
          status: status as RunInfo['status'] | undefined,
          endTime: f.optionalInt('end_time'),
          runName: f.optionalString('run_name') || undefined,
        });
        return { run_info: runInfoJson(info) };
      },
    ],
    [
      'POST',
      'runs/delete',
      'write',
      (f) => {
        tracking.setRunLifecycle(runId(f), 'deleted');
        return {};
      },
    ],
    [
      'POST',
      'runs/restore',
      'write',
      (f) => {
        tracking.setRunLifecycle(runId(f), 'active');
        return {};
      },
    ],
    [
      'POST',
      'runs/log-metric',
      'write',
      (f) => {
        const [metric] = metricsOf([
          {
            key: f.string('key'),
            value: f.optionalString('value'),
            timestamp: f.optionalInt('timestamp'),
            step: f.optionalInt('step'),
          },
        ]);
        tracking.logBatch(runId(f), { metrics: [metric as StoredPoint], params: [], tags: [] });
        return {};
      },
    ],
    [
      'POST',
      'runs/log-parameter',
      'write',
      (f) => {
        tracking.logBatch(runId(f), {
          metrics: [],
          params: [{ key: f.string('key'), value: f.optionalString('value') ?? '' }],
          tags: [],
        });
        return {};
      },
    ],
    [
      'POST',
      'runs/set-tag',
      'write',
      (f) => {
        tracking.logBatch(runId(f), {
          metrics: [],
          params: [],
          tags: [{ key: f.string('key'), value: f.optionalString('value') ?? '' }],
        });
        return {};
      },
    ],
    [
      'POST',
      'runs/delete-tag',
      'write',
      (f) => {
        tracking.deleteTag(runId(f), f.string('key'));
        return {};
      },
    ],
    [
      'POST',
      'runs/log-batch',
      'write',
      (f) => {
        tracking.logBatch(runId(f), {
          metrics: metricsOf(f.objects('metrics')),
          params: keyValues(f.objects('params'), 'params'),
          tags: keyValues(f.objects('tags'), 'tags'),
        });
        return {};
      },
    ],
    [
      'POST',
      'runs/log-inputs',
      'write',
      (f) => {
        tracking.logInputs(runId(f), inputsOf(f.objects('datasets')));
        return {};
      },
    ],
    [
      'POST',
      'runs/log-model',
      'write',
      (f) => {
        // The MLmodel document is kept where MLflow's server keeps it: in the run's `mlflow.log-model.history` tag.
        const id = runId(f);
        const model = f.string('model_json');
        let parsed: unknown;
        try {
          parsed = JSON.parse(model);
        } catch {
          throw missingOrBad('model_json', 'is not valid JSON');
        }
        const existing = tracking.run(id).tags.find((t) => t.key === 'mlflow.log-model.history')?.value;
        const history = existing ? (JSON.parse(existing) as unknown[]) : [];
        history.push(parsed);
        tracking.logBatch(id, {
          metrics: [],
          params: [],
          tags: [{ key: 'mlflow.log-model.history', value: JSON.stringify(history) }],
        });
        return {};
      },
    ],
    [
      ['GET', 'POST'],
      'runs/search',
      'read',
      (f) => {
        const result = tracking.searchRuns({
          experimentIds: f.strings('experiment_ids'),
          filter: f.optionalString('filter'),
          viewType: viewType(f.optionalString('run_view_type')),
          maxResults: f.optionalInt('max_results'),
          orderBy: f.strings('order_by'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList(
            'runs',
            result.runs.map((r) => runJson(r)),
          ),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
    [
      'GET',
      'artifacts/list',
      'read',
      (f) => {
        const run = tracking.run(runId(f)).info;
        const dir = f.optionalString('path') ?? '';
        const root = `${run.experimentId}/${run.id}/artifacts`;
        return {
          root_uri: run.artifactUri,
          ...withList('files', filesJson(artifacts.list(root, dir), '')),
        };
      },
    ],
    [
      'GET',
      'metrics/get-history',
      'read',
      (f) => {
        const result = tracking.metricHistory(runId(f), f.string('metric_key'), {
          maxResults: f.optionalInt('max_results'),
          pageToken: f.optionalString('page_token'),
        });
        return {
          ...withList(
            'metrics',
            result.points.map((p) => ({
              key: p.key,
              value: jsonNumber(p.value),
              timestamp: p.timestamp,
              step: p.step,
            })),
          ),
          ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
        };
      },
    ],
  ];
  handlers.push(...registryHandlers(registry, loggedModels, describe), ...loggedModelHandlers(loggedModels, artifacts));
  const routes: ForeignRoute[] = [];
  for (const [methods, path, scope, handler] of handlers) {
    for (const method of Array.isArray(methods) ? methods : [methods]) {
      for (const prefix of ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/']) {
        routes.push({ method, url: `${prefix}${path}`, scope, handler: (req) => handler(Fields.of(req, method), req) });
      }
    }
  }
  routes.push(...artifactRoutes({ tracking, loggedModels }, artifacts));
  return { name: 'mlflow', prefixes: PREFIXES, routes, errorReply: mlflowError };
}
