import os from 'node:os';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import type { BlobStore } from '#platform/blobstore';
import type { Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { ModelhubService } from '#services/modelhub/contract';
import type { VramArbiter } from '#services/trainos/contract';
import type { EventData } from '#shared/contracts/index';
import {
  DeploymentInput,
  DeploymentSettings,
  DeploymentUpdate,
  type Deployment,
  type DeploymentEvent,
  type DeploymentRuntime,
  type DeploymentSource,
  type DeploymentState,
  type DeploymentStats,
  type DeploymentTraffic,
  type PredictInput,
  type PredictOutput,
} from '#shared/contracts/deploy';
import type { Gpu } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import { ScalingMeter, decideReplicas } from './autoscaler';
import type { DeployService, RequestLogFilter } from './contract';
import { DeployMetrics, type VersionLoad } from './metrics';
import { fileSource, modelVersionSource } from './model-source';
import { predictOnnx, servedVersion } from './onnx-serve';
import {
  aRuntime,
  runtimeFor,
  type LoadEstimate,
  type LoadRequest,
  type LoadedModel,
  type OnnxModel,
  type PreparedLoad,
  type ServingRuntime,
} from './runtimes';
import { unlogged, type Caller } from './reply';
import { DeployStore, type StoredDeployment } from './store';

const MIB = 1024 * 1024;
/** Settings that change how a model is loaded: changing one reloads a loaded model. */
const LOAD_SETTINGS = [
  'device',
  'contextSize',
  'parallel',
  'maxQueue',
  'threads',
  'chatFormat',
  'maxBatchSize',
  'maxQueueDelayMs',
] as const;

export interface DeploymentsOptions {
  db: Db;
  bus: EventBus;
  logger: Logger;
  blobs: BlobStore;
  modelhub: ModelhubService;
  vram: Pick<VramArbiter, 'reserve' | 'release' | 'touch'>;
  gpus: () => Promise<readonly Gpu[]>;
  runtimes: Partial<Record<DeploymentRuntime, ServingRuntime>>;
  /** The platform's Prometheus registry. */
  registry: Registry;
  /** Where model files stored inside blob packs are copied to be opened. */
  cacheDir: string;
  /** RAM a load may take now, in bytes (default: the OS's available memory). */
  freeRamBytes?: () => number;
}

/** A deployment's in-memory side: its loaded model, the load in progress, requests in progress, its idle timer. */
/** How often a deployment's last request time is written to the store at most (it is exact in memory). */
const LAST_REQUEST_WRITE_MS = 1000;

interface Live {
  model: LoadedModel | null;
  loading: Promise<LoadedModel> | null;
  unloading: Promise<void> | null;
  /** Bumped by every unload: a load that started before it throws its model away. */
  epoch: number;
  /** Requests between `acquire` and `release`. */
  active: number;
  idleTimer: NodeJS.Timeout | null;
  placement: string | null;
  vramHeld: boolean;
  /** ONNX: the timings of the current autoscaling interval, and the controller's timer. */
  meter: ScalingMeter | null;
  /** The controller's looks in a row that were quiet enough to scale down on. */
  quietLooks: number;
  /**
   * When the last request ended, and when that was last written to the store: a write per request would be a
   * commit on the inference hot path, so the store's copy lags by at most LAST_REQUEST_WRITE_MS.
   */
  lastRequestAt: number | null;
  lastRequestWrittenAt: number;
  scaleTimer: NodeJS.Timeout | null;
  /** A replica change in progress (the controller skips its turn). */
  scaling: boolean;
  /** The canary or shadow version's model, loaded and unloaded with the main one. */
  second: SecondModel | null;
}

/** The second version of a deployment with traffic, loaded beside the main one (its replicas fixed, not autoscaled). */
interface SecondModel {
  version: number;
  model: LoadedModel;
  vramHeld: boolean;
}

/** A request's hold on a loaded deployment: released when the request (or its stream) ends. */
export interface Lease {
  deployment: StoredDeployment;
  model: LoadedModel;
  /** The model version answering (null for a file deployment). */
  version: number | null;
  /** This lease is the mirror of a client's request on the shadow version: its answer goes to nobody. */
  mirrored: boolean;
  /**
   * The id the request will have in the request log when it is sampled into it (null when not: a failure is still
   * logged, under an id of its own), told to the client in `x-aidos-request-id` to label it later.
   */
  logId: string | null;
  /** The caller asked to keep it out of the request log (`x-aidos-request-log: off`): failures too. */
  unlogged: boolean;
  /**
   * Shadow traffic: the same request is to be run on this lease too once the client has its answer (the API layer
   * runs it and releases it); null otherwise.
   */
  shadow: Lease | null;
  release(): void;
}

/**
 * What the API layer reports of each request it served. `input` and `output` may be functions: they are only
 * called when the request is sampled into the log (a tensor's JSON costs more than the rest of the bookkeeping).
 */
export interface RequestRecord {
  endpoint: string;
  outcome: 'ok' | 'error' | 'cancelled';
  httpStatus: number;
  durationMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  input: string | (() => string);
  output: string | null | (() => string | null);
  error: string | null;
}

function describeSource(source: DeploymentSource): string {
  if (source.kind === 'file') return `file ${source.path}`;
  return `${source.model} version ${source.version}${source.alias ? ` (@${source.alias})` : ''}`;
}

function defaultName(source: DeploymentSource): string {
  const base = source.kind === 'file' ? path.basename(source.path).replace(/\.(gguf|onnx)$/i, '') : source.model;
  const name = base
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  if (!name) throw AppError.invalid('name', `cannot make a deployment name from '${base}'; give one`);
  return name;
}

/** What `checkRam` says of a load: what is loaded, by which runtime, with which settings, for which field. */
interface RamCheck {
  what: string;
  runtime: DeploymentRuntime;
  settings: Pick<DeploymentSettings, 'maxReplicas'>;
  field?: string;
}

/** How much of the free RAM a refusal left out, as words after "is available". */
function keptFor(promised: number, free: number): string {
  if (promised <= 0) return '';
  const kept =
    promised >= free
      ? `all the ${formatBytes(free, 'down')} free`
      : `${formatBytes(promised, 'up')} of the ${formatBytes(free, 'down')} free`;
  return ` (${kept} is kept for loaded deployments scaling up to their maxReplicas)`;
}

/** A canary's or shadow's load, named as the `traffic.version` it is refused for. */
function secondVersionLoad(
  d: StoredDeployment,
  traffic: DeploymentTraffic,
  settings: Pick<DeploymentSettings, 'maxReplicas'>,
): RamCheck {
  const model = traffic.source.kind === 'model-version' ? traffic.source.model : d.name;
  return {
    what: `version ${servedVersion(traffic)} of '${model}'`,
    runtime: d.runtime,
    settings,
    field: 'traffic.version',
  };
}

/** The VRAM arbiter's id for the second version of a deployment (the main one holds the deployment's id). */
function secondVramId(id: string, version: number): string {
  return `${id}/v${version}`;
}

/**
 * Memory to a tenth of a MiB or GiB, rounded `up` (what is needed) or `down` (what is available), so that a load
 * refused for a few KiB never reads as needing what is available.
 */
function formatBytes(n: number, round: 'up' | 'down'): string {
  const [value, unit] = n >= 1024 * MIB ? [n / 1024 / MIB, 'GiB'] : [n / MIB, 'MiB'];
  const tenths = round === 'up' ? Math.ceil(value * 10 - 1e-9) : Math.floor(value * 10 + 1e-9);
  return `${tenths / 10} ${unit}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A model file the runtime cannot use: the deployment is kept, `failed` with the reason. */
/** A tabular preprocessing's feature columns, in the order its features are built (a one-hot column once). */
function featureColumnsOf(tabular: TabularPreprocessing | null): string[] | null {
  return tabular ? [...new Set(tabular.features.map((f) => f.column))] : null;
}

/**
 * An error about a model's file, with a registered version's blob path (which means nothing to a user) said as
 * the version.
 */
function faultText(err: unknown, source: DeploymentSource): string {
  const text = errorText(err);
  if (source.kind !== 'model-version') return text;
  return text.replaceAll(`'${source.path}'`, source.path).replaceAll(source.path, describeSource(source));
}

function isModelFault(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  const code = (err.details as { code?: unknown } | undefined)?.code;
  return code === 'invalid_model_file' || err.code === 'FAILED_PRECONDITION' || err.code === 'INTERNAL';
}

function cut(text: string, max: number): { text: string; cut: boolean } {
  return text.length <= max ? { text, cut: false } : { text: text.slice(0, max), cut: true };
}

/**
 * The deployments of this app (DeployEngine): rows in `deploy_deployments` with their state changes, the models
 * loaded for them, and the requests they serve.
 *
 * Loading: a deployment with `minReplicas` ≥ 1 is loaded when created or started and, after an app restart, in the
 * background once the core serves (one at a time); with `minReplicas` 0 it is loaded by its first request. Every
 * load first asks the runtime for a memory estimate: more RAM than is available is refused, and GPU memory is
 * reserved through TrainOS's VRAM arbiter as a parkable model (idle deployments are unloaded when a training job
 * asks for their memory). After `idleUnloadSeconds` without requests a model is unloaded and the next request
 * loads it again (a cold start).
 */
export class Deployments implements DeployService {
  private readonly store: DeployStore;
  private readonly lives = new Map<string, Live>();
  /** Deployments being deleted: refused to new requests, and never loaded. */
  private readonly deleting = new Set<string>();
  /** The update in progress of each deployment (they run one after another). */
  private readonly updating = new Map<string, Promise<Deployment>>();
  readonly metrics: DeployMetrics;
  private readonly freeRam: () => number;
  private readonly log: Logger;
  private starting: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly offPark: () => void;

  constructor(private readonly o: DeploymentsOptions) {
    this.store = new DeployStore(o.db);
    this.log = o.logger;
    this.freeRam = o.freeRamBytes ?? (() => os.freemem());
    this.metrics = new DeployMetrics(o.registry, () =>
      this.store.list().map((d) => {
        const live = this.lives.get(d.id);
        return {
          deployment: d.name,
          state: d.state,
          versions: d.traffic ? [servedVersion(d), servedVersion(d.traffic)] : [servedVersion(d)],
          loaded: live ? this.loadedVersions(d, live) : [],
        };
      }),
    );
    // Nothing is loaded in a new process: what was loaded (or loading) when the app last stopped is pending.
    for (const d of this.store.list()) {
      if (d.state === 'ready' || d.state === 'loading') {
        this.store.setState(d.id, 'pending', 'the app restarted: not loaded yet');
      }
    }
    this.offPark = o.bus.on('vram.park-requested', (event) => {
      const data = event.data as EventData<'vram.park-requested'>;
      for (const holder of data.holders) {
        if (holder.owner !== 'deploy') continue;
        // A second version's memory goes with its deployment's.
        const id = holder.id.replace(/\/v\d+$/, '');
        const live = this.lives.get(id);
        if (!live?.model || live.active > 0) continue;
        void this.unload(
          id,
          'idle-unloaded',
          `unloaded to free ${holder.mb} MB of GPU ${data.gpu} for ${data.label}`,
        ).catch((err: unknown) => this.log.warn({ err, deployment: holder.id }, 'parking a deployment failed'));
      }
    });
  }

  // ---- the contract ----

  list(): Deployment[] {
    return this.store.list().map((d) => this.view(d));
  }

  get(ref: string): Deployment {
    return this.view(this.find(ref));
  }

  async create(input: DeploymentInput): Promise<Deployment> {
    const spec = DeploymentInput.parse(input);
    if ((spec.model === undefined) === (spec.file === undefined)) {
      throw AppError.invalid('model', 'give either model (with an optional version or @alias) or file');
    }
    if (spec.file !== undefined && spec.version !== undefined) {
      throw AppError.invalid('version', 'goes with model; a file deployment has no versions');
    }
    const source =
      spec.file !== undefined
        ? fileSource(spec.file, spec.runtime)
        : await this.versionSource(spec.model as string, spec.version, spec.runtime);
    const runtime = runtimeFor(this.o.runtimes, source.format, spec.file !== undefined ? 'file' : 'model');
    if (spec.runtime !== undefined && spec.runtime !== runtime.format) {
      throw AppError.invalid(
        'runtime',
        `'${spec.runtime}' does not serve ${describeSource(source)} (format ${source.format}); leave runtime out or give '${runtime.format}'`,
      );
    }
    checkApplies(runtime.format, input);
    const settings = DeploymentSettings.parse(spec);
    checkSettings(runtime.format, settings);
    const name = spec.name ?? defaultName(source);
    const taken = this.store.find(name);
    if (taken) {
      // A deploy that failed keeps its name (to say why); the next try is usually the same name again.
      const hint =
        taken.state === 'failed'
          ? ` (it failed: ${taken.reason ?? 'see its events'}); delete it first or pick another name`
          : '; pick another name';
      throw new AppError('CONFLICT', `a deployment named '${name}' already exists${hint}`, { field: 'name' });
    }
    const gpu = await this.useGpu(settings.device);
    // The estimate comes first: a model that cannot fit is refused with nothing stored; an unreadable file is
    // kept as a failed deployment that says why.
    let fault: string | null = null;
    try {
      const prepared = await runtime.prepare(loadRequest(name, source, settings, gpu));
      this.checkRam(prepared.estimate, { what: `'${name}'`, runtime: runtime.format, settings });
    } catch (err) {
      if (!isModelFault(err)) throw err;
      fault = faultText(err, source);
    }
    const stored = this.store.insert(
      { name, runtime: runtime.format, source, settings },
      `created from ${describeSource(source)}`,
    );
    this.refBlobs(source, stored.id);
    this.emit(stored);
    if (fault !== null) {
      this.transition(stored.id, 'failed', `cannot be served: ${fault}`, { reason: fault });
    } else if (settings.minReplicas >= 1) {
      try {
        await this.ensureLoaded(stored.id);
      } catch (err) {
        if (err instanceof AppError && err.code === 'RESOURCE_EXHAUSTED') {
          // Refused: nothing half-made stays behind.
          await this.remove(stored.id);
          throw err;
        }
        // Otherwise it is `failed`, with the reason.
      }
    }
    return this.get(stored.id);
  }

  /**
   * Changes settings, the model, or the traffic split. Changes to one deployment apply one at a time: each reads
   * the settings the previous one left (two PATCHes at once each wrote back all settings, undoing the other).
   */
  async update(input: DeploymentUpdate): Promise<Deployment> {
    const { id } = this.find(DeploymentUpdate.parse(input).deployment);
    const run = (this.updating.get(id) ?? Promise.resolve()).catch(() => {}).then(() => this.applyUpdate(input));
    this.updating.set(id, run);
    try {
      return await run;
    } finally {
      if (this.updating.get(id) === run) this.updating.delete(id);
    }
  }

  private async applyUpdate(input: DeploymentUpdate): Promise<Deployment> {
    const patch = DeploymentUpdate.parse(input);
    const d = this.find(patch.deployment);
    const current = DeploymentSettings.parse(d);
    const settings: DeploymentSettings = {
      ...current,
      ...definedOnly({
        device: patch.device,
        parallel: patch.parallel,
        maxQueue: patch.maxQueue,
        minReplicas: patch.minReplicas,
        maxReplicas: patch.maxReplicas,
        chatFormat: patch.chatFormat,
        maxBatchSize: patch.maxBatchSize,
        maxQueueDelayMs: patch.maxQueueDelayMs,
      }),
      autoscaling: { ...current.autoscaling, ...definedOnly(patch.autoscaling ?? {}) },
      ...(patch.contextSize === undefined ? {} : { contextSize: patch.contextSize ?? undefined }),
      ...(patch.threads === undefined ? {} : { threads: patch.threads ?? undefined }),
      ...(patch.idleUnloadSeconds === undefined ? {} : { idleUnloadSeconds: patch.idleUnloadSeconds }),
      requestLog: { ...current.requestLog, ...definedOnly(patch.requestLog ?? {}) },
    };
    let source: DeploymentSource | undefined;
    if (patch.version !== undefined) {
      if (d.source.kind !== 'model-version') {
        throw AppError.invalid('version', 'a file deployment has no versions: give another file');
      }
      source = await this.versionSource(d.source.model, patch.version, d.runtime);
    }
    if (patch.file !== undefined) {
      if (d.source.kind !== 'file') throw AppError.invalid('file', 'a model deployment changes by version');
      source = fileSource(patch.file, d.runtime);
    }
    if (source) this.checkSameRuntime(d, source);
    checkApplies(d.runtime, input);
    checkSettings(d.runtime, settings);
    const gpu = await this.useGpu(settings.device);
    if (source) {
      // A new model that cannot be read is refused before anything changes: the one serving now goes on.
      const field = patch.file !== undefined ? 'file' : 'version';
      try {
        await runtimeFor(this.o.runtimes, source.format, field).prepare(loadRequest(d.name, source, settings, gpu));
      } catch (err) {
        if (!isModelFault(err)) throw err;
        throw AppError.invalid(
          field,
          `${describeSource(source)} cannot be served: ${faultText(err, source)}; '${d.name}' goes on with ${describeSource(d.source)}`,
        );
      }
    }
    const main = source ?? d.source;
    const second = patch.traffic ? await this.trafficFor(d, main, patch.traffic, settings, gpu) : null;
    let traffic: DeploymentTraffic | null | undefined =
      patch.traffic === undefined ? undefined : (second?.traffic ?? null);
    // A new main version that was the second one takes its place: the split ends.
    if (
      traffic === undefined &&
      source &&
      d.traffic &&
      servedVersion(d.traffic) === servedVersion({ source: source })
    ) {
      traffic = null;
    }
    const changed = Object.keys(settings).filter(
      (k) =>
        JSON.stringify(settings[k as keyof DeploymentSettings]) !==
        JSON.stringify(current[k as keyof DeploymentSettings]),
    );
    const trafficChanged = traffic !== undefined && JSON.stringify(traffic) !== JSON.stringify(d.traffic);
    if (changed.length === 0 && !source && !trafficChanged) return this.view(d);
    const reload = source !== undefined || LOAD_SETTINGS.some((k) => changed.includes(k));
    // A new second version beside a loaded main one is loaded before anything is stored: refused when it will
    // not fit, with nothing changed.
    const live = this.live(d.id);
    const epoch = live.epoch;
    const newSecond =
      traffic && !reload && live.model && live.second?.version !== servedVersion(traffic)
        ? await this.loadSecond(d, traffic, gpu)
        : null;
    if (traffic && second && !newSecond && !(live.model && !reload)) {
      // Not loaded now: it must fit in RAM when it is.
      this.checkRam(second.prepared.estimate, secondVersionLoad(d, traffic, settings));
    }
    const boundsChanged = changed.includes('minReplicas') || changed.includes('maxReplicas');
    // The estimate covers the most replicas the autoscaler may run: it follows new bounds, and the replicas a
    // loaded model may add must fit before anything is stored.
    const grows = live.model
      ? (['maxReplicas', 'minReplicas'] as const).find((k) => settings[k] > current[k])
      : undefined;
    const boundsEstimate =
      !reload && d.estimate && boundsChanged ? await this.boundsEstimate(d, settings, gpu, grows) : null;
    const message = [
      source ? `model: ${describeSource(source)}` : null,
      trafficChanged ? describeTraffic(traffic ?? null) : null,
      ...changed.map((k) => `${k} changed`),
    ]
      .filter(Boolean)
      .join('; ');
    const updated = this.store.update(
      d.id,
      { settings, ...(source ? { source } : {}), ...(traffic === undefined ? {} : { traffic }) },
      message,
    );
    if (source) this.refBlobs(source, d.id);
    if (traffic) this.refBlobs(traffic.source, d.id);
    this.emit(updated);
    if (traffic !== undefined && !reload) {
      const old = live.second;
      if (newSecond && (live.epoch !== epoch || !live.model)) {
        // Unloaded meanwhile: it loads with the main version next time.
        await this.disposeSecond(d.id, newSecond);
      } else if (newSecond || traffic === null) {
        live.second = newSecond;
        if (old) await this.disposeSecond(d.id, old);
      }
    }
    if (reload) await this.reload(d.id);
    else {
      if (boundsEstimate) this.store.setEstimate(d.id, boundsEstimate);
      this.scheduleIdle(d.id);
      // New bounds or autoscaling settings apply to the loaded model now.
      const live = this.lives.get(d.id);
      if (live?.model?.onnx) {
        this.startScaler(d.id);
        const n = live.model.replicas();
        const wanted = Math.min(Math.max(n, Math.max(1, settings.minReplicas)), settings.maxReplicas);
        if (wanted !== n) await this.scaleTo(d.id, live, live.model, wanted, 'the replica bounds changed');
      }
    }
    return this.get(d.id);
  }

  async start(ref: string): Promise<Deployment> {
    const d = this.find(ref);
    if (d.state === 'stopped' || d.state === 'failed') this.transition(d.id, 'pending', 'started');
    try {
      await this.ensureLoaded(d.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'RESOURCE_EXHAUSTED') throw err;
      // A failure is the deployment's state, with the reason.
    }
    return this.get(d.id);
  }

  async stop(ref: string): Promise<Deployment> {
    const d = this.find(ref);
    if (d.state !== 'stopped') await this.unload(d.id, 'stopped', 'stopped');
    return this.get(d.id);
  }

  async rollback(ref: string): Promise<Deployment> {
    const d = this.find(ref);
    const previous = d.previousSource;
    if (!previous) {
      throw new AppError('FAILED_PRECONDITION', `deployment '${d.name}' has no previous version to roll back to`);
    }
    this.checkSameRuntime(d, previous);
    const clash = d.traffic !== null && servedVersion(d.traffic) === servedVersion({ source: previous });
    const updated = this.store.update(
      d.id,
      {
        settings: DeploymentSettings.parse(d),
        source: previous,
        previousSource: d.source,
        ...(clash ? { traffic: null } : {}),
      },
      `rolled back to ${describeSource(previous)}${clash ? `; ${describeTraffic(null)}` : ''}`,
    );
    this.emit(updated);
    await this.reload(d.id);
    return this.get(d.id);
  }

  /** The canary (or shadow) version becomes the main one; the main one becomes the rollback target. */
  async promote(ref: string): Promise<Deployment> {
    const d = this.find(ref);
    if (!d.traffic) {
      throw new AppError(
        'FAILED_PRECONDITION',
        `deployment '${d.name}' has no canary or shadow version to promote; set one with traffic first`,
      );
    }
    const { source, mode } = d.traffic;
    const updated = this.store.update(
      d.id,
      { settings: DeploymentSettings.parse(d), source, previousSource: d.source, traffic: null },
      `promoted the ${mode} ${describeSource(source)}; ${describeSource(d.source)} is the rollback target`,
    );
    this.emit(updated);
    await this.reload(d.id);
    return this.get(d.id);
  }

  async remove(ref: string): Promise<void> {
    const d = this.find(ref);
    // Requests arriving meanwhile are refused as for an unknown name, and no load starts for it.
    this.deleting.add(d.id);
    try {
      await this.unload(d.id, null, '');
      this.lives.delete(d.id);
      this.store.delete(d.id);
    } finally {
      this.deleting.delete(d.id);
    }
    this.o.blobs.removeRefsOf({ owner: 'deploy', ref: d.id });
    await this.metrics.forget(d.name);
    this.o.bus.emit('deploy.deployment.updated', {
      deployment: { ...d, placement: null, replicas: null, inputColumns: null },
      deleted: true,
    });
  }

  stats(ref: string): DeploymentStats {
    const d = this.find(ref);
    const live = this.lives.get(d.id);
    const loaded = live ? this.loadedVersions(d, live) : [];
    return {
      id: d.id,
      name: d.name,
      state: d.state,
      ...this.metrics.summary(d.name),
      // Requests of the deployment, on whichever version they wait or run.
      inFlight: loaded.reduce((sum, v) => sum + v.inFlight, 0),
      queued: loaded.reduce((sum, v) => sum + v.queued, 0),
      replicas: loaded[0]?.replicas ?? 0,
      versions: this.versionStats(d, loaded),
    };
  }

  /** The main model version's load, then the canary's or shadow's, of those loaded now. */
  private loadedVersions(d: StoredDeployment, live: Live): VersionLoad[] {
    const of = (version: number | null, model: LoadedModel) => ({
      version,
      ...model.load(),
      replicas: model.replicas(),
    });
    return [
      ...(live.model ? [of(servedVersion(d), live.model)] : []),
      ...(live.second ? [of(live.second.version, live.second.model)] : []),
    ];
  }

  /** The main version first (listed even before its first request), then the second one, then retired ones. */
  private versionStats(d: StoredDeployment, loaded: VersionLoad[]): DeploymentStats['versions'] {
    const main = servedVersion(d);
    const second = d.traffic ? servedVersion(d.traffic) : null;
    const role = (version: number | null): DeploymentStats['versions'][number]['role'] =>
      version === main ? 'main' : version === second && d.traffic ? d.traffic.mode : 'retired';
    const served = this.metrics.versions(d.name, role);
    const empty = (version: number | null) => ({
      version,
      role: role(version),
      requests: { total: 0, errors: 0, cancelled: 0 },
      latencyMs: { p50: null, p95: null, p99: null },
      tokens: { prompt: 0, completion: 0 },
    });
    const current = d.traffic ? [main, second] : [main];
    const order = ['main', 'canary', 'shadow', 'retired'];
    const idle = { replicas: 0, inFlight: 0, queued: 0 };
    return [...current.filter((v) => !served.some((s) => s.version === v)).map(empty), ...served]
      .sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role))
      .map((v) => {
        const load = loaded.find((l) => l.version === v.version && v.role !== 'retired');
        return {
          ...v,
          ...idle,
          ...(load && { replicas: load.replicas, inFlight: load.inFlight, queued: load.queued }),
        };
      });
  }

  predict(input: PredictInput): Promise<PredictOutput> {
    return predictOnnx(this, input);
  }

  events(ref: string, limit: number): DeploymentEvent[] {
    return this.store.events(this.find(ref).id, limit);
  }

  logs(ref: string, page: { limit: number; cursor?: string | undefined } & RequestLogFilter) {
    return this.store.logs(this.find(ref).id, page.limit, page.cursor, page);
  }

  // ---- serving ----

  /** Deployments a client may send requests to (not stopped or failed), for OpenAI's model list. */
  servable(): Deployment[] {
    return this.list().filter((d) => d.state !== 'stopped' && d.state !== 'failed');
  }

  /**
   * The deployment of that name if it takes requests. Unknown names are a 404 (`model_not_found`); stopped and
   * failed deployments refuse with a 409 that says why.
   */
  servableNamed(name: string): StoredDeployment {
    const d = this.store.find(name);
    if (!d || this.deleting.has(d.id)) {
      throw new AppError('NOT_FOUND', `The model '${name}' does not exist: no deployment has that name`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    if (d.state === 'stopped') {
      throw new AppError(
        'FAILED_PRECONDITION',
        `deployment '${d.name}' is stopped; start it (aidos deployments start ${d.name})`,
        { param: 'model', code: 'model_stopped' },
      );
    }
    if (d.state === 'failed') {
      throw new AppError('FAILED_PRECONDITION', `deployment '${d.name}' failed: ${d.reason ?? 'unknown reason'}`, {
        param: 'model',
        code: 'model_failed',
      });
    }
    return d;
  }

  /** Holds a deployment for one request (`servableNamed`), loading it first when it is not loaded (a cold start). */
  async acquire(name: string, version?: number, options: { unlogged?: boolean } = {}): Promise<Lease> {
    const d = this.servableNamed(name);
    const live = this.live(d.id);
    live.active++;
    this.clearIdle(live);
    let model: LoadedModel;
    try {
      model = live.model ?? (await this.ensureLoaded(d.id));
    } catch (err) {
      live.active--;
      this.scheduleIdle(d.id);
      // A file that does not load is the deployment's fault (now `failed`), not the request's: a 409 as for later ones.
      if (err instanceof AppError && (err.details as { code?: unknown } | undefined)?.code === 'invalid_model_file') {
        throw new AppError('FAILED_PRECONDITION', `deployment '${d.name}' failed: ${faultText(err, d.source)}`, {
          param: 'model',
          code: 'model_failed',
        });
      }
      throw err;
    }
    this.o.vram.touch(d.id);
    const main = servedVersion(d);
    const second = live.second;
    const { sampleRate } = d.requestLog;
    const unlogged = options.unlogged ?? false;
    const lease = (answering: LoadedModel, answeringVersion: number | null, mirrored: boolean): Lease => {
      let released = false;
      return {
        deployment: d,
        model: answering,
        version: answeringVersion,
        mirrored,
        logId: !mirrored && !unlogged && sampleRate > 0 && Math.random() < sampleRate ? newId() : null,
        unlogged,
        shadow: null,
        release: () => {
          if (released) return;
          released = true;
          live.active--;
          const now = Date.now();
          live.lastRequestAt = now;
          if (now - live.lastRequestWrittenAt >= LAST_REQUEST_WRITE_MS) {
            live.lastRequestWrittenAt = now;
            this.store.touch(d.id, now);
          }
          this.scheduleIdle(d.id);
        },
      };
    };
    if (version !== undefined && version !== main) {
      // Addressed explicitly (`/v2/models/{name}/versions/{v}`): the second version, no mirroring.
      if (second?.version !== version) {
        live.active--;
        this.scheduleIdle(d.id);
        throw new AppError('NOT_FOUND', `model '${d.name}' version ${version} is not loaded`, {
          param: 'model',
          code: 'model_not_found',
        });
      }
      return lease(second.model, version, false);
    }
    if (version !== undefined || !second || !d.traffic) return lease(model, main, false);
    if (d.traffic.mode === 'canary') {
      return Math.random() * 100 < d.traffic.percent
        ? lease(second.model, second.version, false)
        : lease(model, main, false);
    }
    live.active++;
    return { ...lease(model, main, false), shadow: lease(second.model, second.version, true) };
  }

  /**
   * A deployment by its name only (the inference APIs' model names), or undefined: as stored, without the live
   * fields (placement, replicas, the latest request), which those APIs do not read: no copy made per request.
   */
  byName(name: string): StoredDeployment | undefined {
    const d = this.store.find(name);
    return d && d.name === name ? d : undefined;
  }

  /** The loaded ONNX model of a deployment, if it is loaded now (nothing is loaded by asking). */
  loadedOnnx(id: string): OnnxModel | undefined {
    return this.lives.get(id)?.model?.onnx;
  }

  /**
   * A request refused before it reached a model (its body did not parse, the deployment is stopped or failed, the
   * version is not served): counted and logged as the named deployment's error. A name no deployment has is not
   * (its series would be unbounded).
   */
  refused(
    name: unknown,
    endpoint: string,
    httpStatus: number,
    error: unknown,
    input: () => string,
    caller?: Pick<Caller, 'headers'>,
  ): string | null {
    const d = typeof name === 'string' ? this.byName(name) : undefined;
    if (!d || this.deleting.has(d.id)) return null;
    return this.record(
      { deployment: d, version: servedVersion(d), mirrored: false, logId: null, unlogged: unlogged(caller) },
      {
        endpoint,
        outcome: 'error',
        httpStatus,
        durationMs: 0,
        promptTokens: null,
        completionTokens: null,
        input,
        output: null,
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }

  /**
   * Counts a served request in the metrics and writes it to the request log when it was sampled or failed (the log
   * records what clients were answered: a shadow's mirrored requests are only counted; a sample rate of 0 turns it
   * off).
   */
  record(
    lease: Pick<Lease, 'deployment' | 'version' | 'mirrored' | 'logId' | 'unlogged'>,
    r: RequestRecord,
  ): string | null {
    const d = lease.deployment;
    this.metrics.served(d.name, {
      endpoint: r.endpoint,
      outcome: r.outcome,
      httpStatus: r.httpStatus,
      durationMs: r.durationMs,
      version: lease.version,
      shadow: lease.mirrored,
    });
    const { sampleRate, maxChars } = d.requestLog;
    if (lease.mirrored || lease.unlogged || sampleRate <= 0) return null;
    const id = lease.logId ?? (r.outcome === 'error' ? newId() : null);
    if (id === null) return null;
    try {
      const input = cut(typeof r.input === 'function' ? r.input() : r.input, maxChars);
      const outputText = typeof r.output === 'function' ? r.output() : r.output;
      const output = outputText === null ? null : cut(outputText, maxChars);
      this.store.addLog({
        id,
        deploymentId: d.id,
        at: Date.now(),
        endpoint: r.endpoint,
        modelVersion: lease.version,
        status: r.outcome,
        httpStatus: r.httpStatus,
        durationMs: Math.round(r.durationMs * 100) / 100,
        promptTokens: r.promptTokens,
        completionTokens: r.completionTokens,
        input: input.text,
        output: output?.text ?? null,
        error: r.error === null ? null : cut(r.error, maxChars).text,
        truncated: input.cut || (output?.cut ?? false),
      });
      return id;
    } catch (err) {
      // The log must never fail a request.
      this.log.warn({ err, deployment: d.name }, 'writing the request log failed');
      return null;
    }
  }

  // ---- lifecycle ----

  /** Loads the deployments that should be loaded (after a restart), one at a time, in the background. */
  startup(): void {
    this.starting = (async () => {
      for (const d of this.store.list()) {
        if (this.closed) return;
        if (d.state !== 'pending' || d.minReplicas < 1) continue;
        try {
          await this.ensureLoaded(d.id);
        } catch (err) {
          this.log.warn({ deployment: d.name, err: errorText(err) }, 'a deployment did not load at start');
        }
      }
    })();
  }

  /**
   * Unloads every model and gives its GPU memory back (at shutdown; states stay as they are). Requests still
   * waiting or running are told the server is shutting down.
   */
  async close(): Promise<void> {
    const shuttingDown = AppError.shuttingDown();
    this.closed = true;
    this.offPark();
    await this.starting;
    const lives = [...this.lives.entries()];
    for (const [, live] of lives) {
      live.epoch++;
      this.clearIdle(live);
      this.stopScaler(live);
    }
    await Promise.allSettled(lives.map(([, live]) => live.loading));
    await Promise.allSettled(
      lives.map(async ([id, live]) => {
        const model = live.model;
        const second = live.second;
        live.model = null;
        live.second = null;
        await live.unloading;
        await model?.dispose(shuttingDown);
        if (second) await this.disposeSecond(id, second, shuttingDown);
        if (live.vramHeld) this.o.vram.release(id);
        live.vramHeld = false;
      }),
    );
  }

  // ---- internals ----

  private find(ref: string): StoredDeployment {
    const d = this.store.find(ref);
    if (!d) throw AppError.notFound('deployment', ref);
    return d;
  }

  private view(d: StoredDeployment): Deployment {
    const live = this.lives.get(d.id);
    return {
      ...d,
      lastRequestAt: Math.max(d.lastRequestAt ?? 0, live?.lastRequestAt ?? 0) || null,
      placement: live?.placement ?? null,
      replicas: live?.model?.replicas() ?? null,
      inputColumns: featureColumnsOf(live?.model?.onnx?.tabular ?? null),
    };
  }

  private live(id: string): Live {
    let live = this.lives.get(id);
    if (!live) {
      live = {
        model: null,
        loading: null,
        unloading: null,
        epoch: 0,
        active: 0,
        idleTimer: null,
        placement: null,
        vramHeld: false,
        meter: null,
        quietLooks: 0,
        lastRequestAt: null,
        lastRequestWrittenAt: 0,
        scaleTimer: null,
        scaling: false,
        second: null,
      };
      this.lives.set(id, live);
    }
    return live;
  }

  private emit(d: StoredDeployment): void {
    this.o.bus.emit('deploy.deployment.updated', { deployment: this.view(d), deleted: false });
  }

  private transition(
    id: string,
    state: DeploymentState,
    message: string,
    extra: Parameters<DeployStore['setState']>[3] = {},
  ): void {
    this.emit(this.store.setState(id, state, message, extra));
  }

  /** `runtime`: the one wanted (a deployment's own when it changes version), which picks an ONNX version's TF.js export. */
  private versionSource(
    model: string,
    version: number | string | undefined,
    runtime: DeploymentRuntime | undefined,
  ): Promise<DeploymentSource> {
    return modelVersionSource(this.o.modelhub, this.o.blobs, this.o.cacheDir, model, version, runtime);
  }

  /** The blobs a deployment serves from stay while it exists (the model file and its preprocessing). */
  private refBlobs(source: DeploymentSource, id: string): void {
    for (const sha256 of [source.sha256, source.preprocessing?.sha256]) {
      if (sha256) this.o.blobs.addRef(sha256, { owner: 'deploy', ref: id });
    }
  }

  private checkSameRuntime(d: StoredDeployment, source: DeploymentSource): void {
    const runtime = runtimeFor(this.o.runtimes, source.format, source.kind === 'file' ? 'file' : 'version');
    if (runtime.format !== d.runtime) {
      throw AppError.invalid(
        source.kind === 'file' ? 'file' : 'version',
        `is ${aRuntime(runtime.format)} model and deployment '${d.name}' serves ${aRuntime(d.runtime)} one; create another deployment`,
      );
    }
  }

  /** Whether a load uses the GPU: `gpu` needs one, `auto` takes one when present. */
  private async useGpu(device: DeploymentSettings['device']): Promise<boolean> {
    if (device === 'cpu') return false;
    const gpus = await this.o.gpus();
    if (device === 'gpu' && gpus.length === 0) {
      throw AppError.invalid('device', 'this machine has no GPU; use cpu or auto');
    }
    return gpus.length > 0;
  }

  /**
   * A load whose estimated RAM is more than is available is refused (RESOURCE_EXHAUSTED, a 503), saying what it
   * needs, what is free and which settings lower it; `field` prefixes the message and is named in the details.
   */
  private checkRam(estimate: LoadEstimate, load: RamCheck): void {
    const { available, promised, free } = this.availableRam();
    if (estimate.ramBytes <= available) return;
    const gguf = load.runtime === 'gguf';
    const replicas = load.settings.maxReplicas;
    const forWhat = gguf
      ? `(weights and a context of ${estimate.contextSize} tokens)`
      : `for ${replicas} replica${replicas === 1 ? '' : 's'}`;
    const lower = gguf ? 'lower contextSize or parallel' : replicas > 1 ? 'lower maxReplicas' : null;
    const fix = lower ? `${lower}, or free memory` : 'free memory first (stop or delete another deployment)';
    throw AppError.insufficientMemory(
      `${load.field ? `${load.field}: ` : ''}${load.what} needs about ${formatBytes(estimate.ramBytes, 'up')} of RAM ${forWhat} and ${formatBytes(available, 'down')} is available${keptFor(promised, free)}; ${fix}`,
      {
        ...(load.field ? { field: load.field } : {}),
        neededBytes: estimate.ramBytes,
        availableBytes: available,
        promisedBytes: promised,
      },
    );
  }

  /**
   * The estimate for new replica bounds. `grows`, the bound a loaded model's raise came by: refused (a 503 naming
   * it) when the replicas added to what the old bounds covered do not fit in the RAM available.
   */
  private async boundsEstimate(
    d: StoredDeployment,
    settings: DeploymentSettings,
    gpu: boolean,
    grows: 'minReplicas' | 'maxReplicas' | undefined,
  ): Promise<LoadEstimate> {
    const prepared = await runtimeFor(this.o.runtimes, d.source.format, 'model').prepare(
      loadRequest(d.name, d.source, settings, gpu),
    );
    if (!grows) return prepared.estimate;
    const more = prepared.estimate.ramBytes - (d.estimate?.ramBytes ?? 0);
    const { available, promised, free } = this.availableRam();
    if (more <= available) return prepared.estimate;
    throw AppError.insufficientMemory(
      `${grows}: ${settings.maxReplicas} replicas of '${d.name}' need about ${formatBytes(prepared.estimate.ramBytes, 'up')} of RAM, ${formatBytes(more, 'up')} more than ${d.maxReplicas} did, and ${formatBytes(available, 'down')} is available${keptFor(promised, free)}; '${d.name}' goes on as it was`,
      { field: grows, neededBytes: more, availableBytes: available, promisedBytes: promised },
    );
  }

  /**
   * Free RAM less what loaded deployments are promised: each load was checked for its most replicas, so the
   * replicas it may still add are kept for it (else two deployments could each be let in on the same free memory
   * and the autoscaler grow both past it).
   */
  private availableRam(): { available: number; promised: number; free: number } {
    let promised = 0;
    for (const [id, live] of this.lives) {
      const d = live.model ? this.store.find(id) : undefined;
      if (!live.model || !d?.estimate || d.maxReplicas <= 1) continue;
      promised += d.estimate.ramBytes * Math.max(0, 1 - live.model.replicas() / d.maxReplicas);
    }
    promised = Math.round(promised);
    const free = this.freeRam();
    return { available: Math.max(0, free - promised), promised, free };
  }

  private ensureLoaded(id: string): Promise<LoadedModel> {
    const live = this.live(id);
    if (live.model) return Promise.resolve(live.model);
    if (!live.loading) {
      const loading = this.load(id, live.epoch).finally(() => {
        if (live.loading === loading) live.loading = null;
      });
      live.loading = loading;
    }
    return live.loading;
  }

  private async load(id: string, epoch: number): Promise<LoadedModel> {
    const live = this.live(id);
    await live.unloading;
    // Stopped (or changed) before it began: the unload that did it has set the state.
    if (live.epoch !== epoch) throw stoppedWhileLoading(this.find(id).name);
    const d = this.find(id);
    const previous = d.state;
    this.transition(id, 'loading', `loading ${describeSource(d.source)}`);
    const started = performance.now();
    let reserved = false;
    try {
      const runtime = runtimeFor(this.o.runtimes, d.source.format, 'model');
      const gpu = await this.useGpu(d.device);
      const prepared = await runtime.prepare(loadRequest(d.name, d.source, d, gpu));
      const estimate = prepared.estimate;
      this.checkRam(estimate, { what: `'${d.name}'`, runtime: runtime.format, settings: d });
      let placement = 'cpu';
      if (estimate.vramBytes > 0) {
        const grant = await this.o.vram.reserve({
          id,
          owner: 'deploy',
          kind: 'model',
          label: `deployment ${d.name}`,
          mb: Math.ceil(estimate.vramBytes / MIB),
          parkable: true,
          allowParking: true,
        });
        reserved = true;
        placement = `gpu ${grant.gpu}`;
      }
      if (live.epoch !== epoch) throw stoppedWhileLoading(d.name);
      const meter = new ScalingMeter();
      const version = servedVersion(d);
      const model = await prepared.load({
        onRequestFinished: (stats) => this.metrics.runtime(d.name, version, false, stats),
        onBatch: (batch) => {
          this.metrics.batch(d.name, batch.rows);
          meter.batch(batch.inferenceMs);
        },
        onInference: (timing) => meter.request(timing.queueMs, timing.totalMs),
        onQueueFull: () => meter.queueFull(),
      });
      if (live.epoch !== epoch) {
        await model.dispose();
        throw stoppedWhileLoading(d.name);
      }
      const second = d.traffic ? await this.loadSecondBeside(d, d.traffic, gpu) : null;
      // Stopped, changed or deleted meanwhile (a deleted one's Live is gone): what loaded must not stay loaded.
      if (live.epoch !== epoch || this.deleting.has(id) || this.lives.get(id) !== live) {
        await model.dispose();
        if (second) await this.disposeSecond(id, second);
        throw stoppedWhileLoading(d.name);
      }
      live.second = second;
      live.model = model;
      live.placement = placement;
      live.vramHeld = reserved;
      live.meter = meter;
      const replicas = model.onnx ? ` with ${model.replicas()} replica${model.replicas() === 1 ? '' : 's'}` : '';
      this.transition(
        id,
        'ready',
        `loaded on ${placement}${replicas} in ${Math.round(performance.now() - started)} ms`,
        {
          modelKind: model.kind,
          estimate: {
            ramBytes: estimate.ramBytes,
            vramBytes: estimate.vramBytes,
            contextSize: estimate.contextSize,
            gpuLayers: estimate.gpuLayers,
          },
          loadedAt: Date.now(),
        },
      );
      this.metrics.loaded(d.name, 'ok', (performance.now() - started) / 1000);
      this.scheduleIdle(id);
      if (model.onnx) this.startScaler(id);
      return model;
    } catch (err) {
      if (reserved && !live.vramHeld) this.o.vram.release(id);
      // Memory may free up later: such a load is refused, not failed.
      const refused = err instanceof AppError && err.code === 'RESOURCE_EXHAUSTED';
      // A load cut short by a stop, change or delete is neither.
      if (live.epoch === epoch && !this.deleting.has(id) && this.lives.get(id) === live && this.store.find(id)) {
        this.metrics.loaded(d.name, refused ? 'refused' : 'failed', 0);
        const reason = faultText(err, d.source);
        if (refused) {
          const back = previous === 'loading' || previous === 'ready' ? 'pending' : previous;
          this.transition(id, back, `cannot load now: ${reason}`, { reason });
        } else {
          if (!(err instanceof AppError)) this.log.error({ err, deployment: d.name }, 'loading a deployment failed');
          this.transition(id, 'failed', `failed to load: ${reason}`, { reason });
        }
      }
      throw err;
    }
  }

  /**
   * Unloads a deployment's model (cancelling requests still running on it) and gives back its GPU memory; the
   * state moves to `state` (none when it is being deleted).
   */
  private async unload(id: string, state: DeploymentState | null, message: string): Promise<void> {
    const live = this.live(id);
    live.epoch++;
    this.clearIdle(live);
    this.stopScaler(live);
    const model = live.model;
    const second = live.second;
    const held = live.vramHeld;
    live.model = null;
    live.second = null;
    live.placement = null;
    live.vramHeld = false;
    // The state moves first, so that a request arriving meanwhile starts a new load after this one.
    if (state) this.transition(id, state, message, state === 'stopped' ? {} : { reason: message });
    const previous = live.unloading;
    const unloading = (async () => {
      await previous;
      try {
        await model?.dispose();
        if (second) await this.disposeSecond(id, second);
      } finally {
        if (held) this.o.vram.release(id);
      }
    })();
    live.unloading = unloading;
    try {
      await unloading;
    } finally {
      if (live.unloading === unloading) live.unloading = null;
    }
  }

  private async reload(id: string): Promise<void> {
    const d = this.find(id);
    if (d.state === 'stopped') return;
    const wasLoaded = d.state === 'ready' || d.state === 'loading';
    await this.unload(id, 'pending', 'reloading with the new settings');
    if (!wasLoaded && d.minReplicas < 1) return;
    try {
      await this.ensureLoaded(id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'RESOURCE_EXHAUSTED') throw err;
      // Otherwise `failed`, with the reason.
    }
  }

  /**
   * The second version a `traffic` setting names, checked: a registered version of the deployment's model, other
   * than the main one, served by the same runtime and taking the same requests; `percent` for a canary only. Each
   * refusal names its field. With it, its load prepared with `settings` (its memory estimate).
   */
  private async trafficFor(
    d: StoredDeployment,
    main: DeploymentSource,
    input: NonNullable<DeploymentUpdate['traffic']>,
    settings: DeploymentSettings,
    gpu: boolean,
  ): Promise<{ traffic: DeploymentTraffic; prepared: PreparedLoad }> {
    if (main.kind !== 'model-version') {
      throw AppError.invalid('traffic', 'a file deployment has no versions to split traffic between');
    }
    if (input.mode === 'canary' && input.percent === undefined) {
      throw AppError.invalid('traffic.percent', 'a canary needs percent: the share of requests it answers (0–100)');
    }
    if (input.mode === 'shadow' && input.percent !== undefined) {
      throw AppError.invalid('traffic.percent', 'a shadow is sent every request; percent is for a canary');
    }
    let source: DeploymentSource;
    try {
      source = await this.versionSource(main.model, input.version, d.runtime);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
        throw AppError.invalid('traffic.version', err.message.replace(/^version: /, ''));
      }
      throw err;
    }
    if (servedVersion({ source: source }) === main.version) {
      throw AppError.invalid(
        'traffic.version',
        `version ${main.version} is the main version of '${d.name}'; pick another version of '${main.model}'`,
      );
    }
    const runtime = runtimeFor(this.o.runtimes, source.format, 'traffic.version');
    const version = servedVersion({ source: source });
    if (runtime.format !== d.runtime) {
      throw AppError.invalid(
        'traffic.version',
        `version ${version} is ${aRuntime(runtime.format)} model and deployment '${d.name}' serves ${aRuntime(d.runtime)} one`,
      );
    }
    // Both answer the same requests, or the canary's share of them fails.
    const prepare = (s: DeploymentSource) =>
      runtime.prepare(loadRequest(d.name, s, settings, gpu)).catch((err: unknown) => {
        if (!isModelFault(err)) throw err;
        throw AppError.invalid('traffic.version', `${describeSource(s)} cannot be served: ${faultText(err, s)}`);
      });
    const [second, first] = await Promise.all([prepare(source), prepare(main)]);
    const unlike =
      first.kind !== second.kind
        ? `serves ${second.kind} where version ${main.version} serves ${first.kind}`
        : first.accepts !== null && second.accepts !== null && first.accepts !== second.accepts
          ? `takes ${second.accepts} where version ${main.version} takes ${first.accepts}`
          : null;
    if (unlike !== null) {
      throw AppError.invalid(
        'traffic.version',
        `version ${version} ${unlike}: a canary or shadow must answer the main version's requests`,
      );
    }
    return {
      traffic: { mode: input.mode, percent: input.mode === 'canary' ? (input.percent ?? 0) : 100, source },
      prepared: second,
    };
  }

  /**
   * Loads a deployment's second version with the deployment's settings: its memory estimated, checked against
   * the free RAM and reserved through the VRAM arbiter like the main version's (refused when it will not fit).
   */
  private async loadSecond(d: StoredDeployment, traffic: DeploymentTraffic, gpu: boolean): Promise<SecondModel> {
    const version = servedVersion(traffic) as number;
    const label = `${d.name} version ${version}`;
    const runtime = runtimeFor(this.o.runtimes, traffic.source.format, 'traffic.version');
    const prepared = await runtime.prepare(loadRequest(d.name, traffic.source, d, gpu));
    const { estimate } = prepared;
    this.checkRam(estimate, secondVersionLoad(d, traffic, d));
    const vramId = secondVramId(d.id, version);
    let vramHeld = false;
    if (estimate.vramBytes > 0) {
      await this.o.vram.reserve({
        id: vramId,
        owner: 'deploy',
        kind: 'model',
        label: `deployment ${label}`,
        mb: Math.ceil(estimate.vramBytes / MIB),
        parkable: true,
        // Refused at once when it does not fit: parking idle models could unload this very deployment's main one.
        allowParking: false,
      });
      vramHeld = true;
    }
    try {
      // A mirrored request's tokens count for its version only: whether it is a shadow is read when it ends.
      const mirrored = () => this.store.find(d.id)?.traffic?.mode === 'shadow';
      const model = await prepared.load({
        onRequestFinished: (stats) => this.metrics.runtime(d.name, version, mirrored(), stats),
        onBatch: (batch) => this.metrics.batch(d.name, batch.rows),
        onInference: () => undefined,
        onQueueFull: () => undefined,
      });
      return { version, model, vramHeld };
    } catch (err) {
      if (vramHeld) this.o.vram.release(vramId);
      throw err;
    }
  }

  /**
   * The second version while (re)loading the main one: a failure there leaves the main version serving every
   * request, and says so in the deployment's events.
   */
  private async loadSecondBeside(
    d: StoredDeployment,
    traffic: DeploymentTraffic,
    gpu: boolean,
  ): Promise<SecondModel | null> {
    try {
      return await this.loadSecond(d, traffic, gpu);
    } catch (err) {
      if (!(err instanceof AppError)) this.log.error({ err, deployment: d.name }, 'loading a second version failed');
      this.emit(
        this.store.note(
          d.id,
          `the ${traffic.mode} ${describeSource(traffic.source)} did not load (${errorText(err)}); ${describeSource(d.source)} answers every request`,
        ),
      );
      return null;
    }
  }

  private async disposeSecond(id: string, second: SecondModel, reason?: AppError): Promise<void> {
    try {
      await second.model.dispose(reason);
    } finally {
      if (second.vramHeld) this.o.vram.release(secondVramId(id, second.version));
    }
  }

  /** Starts (or restarts, with new settings) the autoscaling controller of a loaded ONNX deployment. */
  private startScaler(id: string): void {
    const live = this.lives.get(id);
    const d = this.store.find(id);
    if (!live?.model?.onnx || !d || this.closed) return;
    this.stopScaler(live);
    live.scaleTimer = setInterval(() => {
      this.autoscale(id).catch((err: unknown) =>
        this.log.warn({ err, deployment: d.name }, 'autoscaling a deployment failed'),
      );
    }, d.autoscaling.intervalMs);
    live.scaleTimer.unref();
  }

  private stopScaler(live: Live): void {
    if (live.scaleTimer) clearInterval(live.scaleTimer);
    live.scaleTimer = null;
  }

  /** One look of the controller: the interval's timings against the deployment's thresholds (`decideReplicas`). */
  private async autoscale(id: string): Promise<void> {
    const live = this.lives.get(id);
    const model = live?.model;
    const d = this.store.find(id);
    if (!live || !model?.onnx || !live.meter || live.scaling || !d) return;
    const current = model.replicas();
    const decision = decideReplicas(current, d, d.autoscaling, live.meter.take(current), live.quietLooks);
    live.quietLooks = decision.quiet && decision.replicas === current ? live.quietLooks + 1 : 0;
    if (decision.replicas !== current) await this.scaleTo(id, live, model, decision.replicas, decision.reason ?? '');
  }

  /** Resizes a loaded ONNX model's replica pool, recording the change as an event (the state stays). */
  private async scaleTo(id: string, live: Live, model: LoadedModel, replicas: number, reason: string): Promise<void> {
    const before = model.replicas();
    live.scaling = true;
    try {
      await model.onnx?.runtime.setReplicas(replicas);
    } catch (err) {
      // Unloaded meanwhile: nothing to scale any more.
      if (live.model !== model) return;
      throw err;
    } finally {
      live.scaling = false;
    }
    if (live.model !== model || !this.store.find(id)) return;
    const direction = replicas > before ? 'up' : 'down';
    const plural = replicas === 1 ? '' : 's';
    this.emit(this.store.note(id, `scaled ${direction} to ${replicas} replica${plural}: ${reason}`));
  }

  private clearIdle(live: Live): void {
    if (live.idleTimer) clearTimeout(live.idleTimer);
    live.idleTimer = null;
  }

  private scheduleIdle(id: string): void {
    const live = this.lives.get(id);
    if (!live?.model || live.active > 0 || this.closed) return;
    this.clearIdle(live);
    const seconds = this.store.find(id)?.idleUnloadSeconds ?? null;
    if (seconds === null) return;
    live.idleTimer = setTimeout(() => {
      live.idleTimer = null;
      if (live.active > 0 || !live.model) return;
      this.unload(id, 'idle-unloaded', `unloaded after ${seconds} s without requests`).catch((err: unknown) =>
        this.log.warn({ err, deployment: id }, 'unloading an idle deployment failed'),
      );
    }, seconds * 1000);
    live.idleTimer.unref();
  }
}

function stoppedWhileLoading(name: string): AppError {
  return new AppError(
    'FAILED_PRECONDITION',
    `deployment '${name}' was stopped, changed or deleted while it was loading: send the request again`,
    { reason: 'superseded', code: 'model_unloaded' },
  );
}

function describeTraffic(traffic: DeploymentTraffic | null): string {
  if (!traffic) return 'traffic: the main version answers every request';
  return traffic.mode === 'canary'
    ? `traffic: canary ${describeSource(traffic.source)} answers ${traffic.percent}% of requests`
    : `traffic: every request mirrored to the shadow ${describeSource(traffic.source)}`;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function loadRequest(name: string, source: DeploymentSource, settings: DeploymentSettings, gpu: boolean): LoadRequest {
  return {
    path: source.path,
    name,
    gpu,
    contextSize: settings.contextSize,
    parallel: settings.parallel,
    maxQueue: settings.maxQueue,
    threads: settings.threads,
    chatFormat: settings.chatFormat,
    device: settings.device,
    replicas: Math.max(1, settings.minReplicas),
    maxReplicas: settings.maxReplicas,
    maxBatchSize: settings.maxBatchSize,
    maxQueueDelayMs: settings.maxQueueDelayMs,
    preprocessingPath: source.preprocessing?.path ?? null,
  };
}

/** Settings the runtime cannot honour are refused, naming the field. */
const NO_CONTEXT = 'it applies to GGUF models (their context of tokens)';
const NO_BATCHING =
  'it applies to ONNX and TF.js models (their rows are batched); a GGUF model serves requests at once with parallel';
/** Settings a runtime has no use for, with why: refused when given, rather than stored and ignored. */
const NOT_FOR: Record<DeploymentRuntime, Partial<Record<keyof DeploymentSettings, string>>> = {
  gguf: {
    maxBatchSize: NO_BATCHING,
    maxQueueDelayMs: NO_BATCHING,
    autoscaling: 'it moves ONNX and TF.js replicas; a GGUF deployment runs one',
  },
  onnx: {
    contextSize: NO_CONTEXT,
    parallel: 'it applies to GGUF models; an ONNX deployment serves requests at once with replicas (maxReplicas)',
    chatFormat: 'it applies to GGUF chat models',
  },
  tfjs: {
    contextSize: NO_CONTEXT,
    parallel: 'it applies to GGUF models; a TF.js deployment serves requests at once with replicas (maxReplicas)',
    chatFormat: 'it applies to GGUF chat models',
    threads: 'TF.js sets its own threads',
  },
};

const RUNTIME_NAMES: Record<DeploymentRuntime, string> = { gguf: 'a GGUF', onnx: 'an ONNX', tfjs: 'a TF.js' };

const DEFAULT_SETTINGS: Record<string, unknown> = DeploymentSettings.parse({});

/**
 * A setting given that the runtime has no use for is a 400 naming it. `given`: a creation's input (its defaults
 * filled in by the API's schema: a default value passes) or an update's.
 */
function checkApplies(runtime: DeploymentRuntime, given: object): void {
  for (const [key, value] of Object.entries(given)) {
    const why = NOT_FOR[runtime][key as keyof DeploymentSettings];
    if (why && value !== undefined && JSON.stringify(value) !== JSON.stringify(DEFAULT_SETTINGS[key])) {
      throw AppError.invalid(key, `${RUNTIME_NAMES[runtime]} deployment has no use for it: ${why}`);
    }
  }
}

function checkSettings(runtime: DeploymentRuntime, settings: DeploymentSettings): void {
  if (settings.minReplicas > settings.maxReplicas) {
    throw AppError.invalid('minReplicas', `${settings.minReplicas} is more than maxReplicas (${settings.maxReplicas})`);
  }
  if (runtime === 'gguf' && settings.maxReplicas > 1) {
    throw AppError.invalid(
      'maxReplicas',
      'a GGUF deployment runs one replica: serve requests at once with parallel (sequences of one context)',
    );
  }
}
