import { randomBytes } from 'node:crypto';
import type { EventBus } from '#platform/events';
import type { DataforgeService } from '#services/dataforge/contract';
import type { Logger } from '#platform/logger';
import type { Experiment, KeyValue, Run, RunInfo, RunInput, RunStatus } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import type { BinarySeries } from '#shared/series-binary';
import { parseExperimentFilter, parseExperimentOrderBy, parseRunFilter, parseRunOrderBy } from './search-filter';
import { experimentFilterSql, experimentOrderSql, runFilterSql, runOrderSql } from './search-sql';
import { chartSeries, jsonNumber, SeriesCache, type ChartOptions, type SeriesColumns } from './series';
import type { ModelhubStore, RunDetails, SeriesHead, StoredPoint } from './store';

/** MLflow's limits (mlflow/utils/validation.py), so that what MLflow accepts we accept and the reverse. */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentTagValueLength: 5000,
  maxResults: 50_000,
};

const NAME_PATTERN = /^[/\w.\- ]*$/;
/** A run whose client sends heartbeats is taken for dead after this many missed ones. */
const MISSED_HEARTBEATS = 5;

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** Page tokens are opaque to clients: base64 of `{"offset": n}`, as MLflow's own. */
export function encodePageToken(offset: number): string {
  // Spaced as Python's json.dumps writes it, so tokens equal MLflow's own.
  return Buffer.from(`{"offset": ${offset}}`).toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0)
      return parsed.offset;
  } catch {
    // Falls through to the error below.
  }
  throw new AppError('INVALID_ARGUMENT', `Invalid page token, could not base64-decode or parse it`, {
    field: 'page_token',
  });
}

function invalid(message: string, field: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { field });
}

function noExperiment(id: string): AppError {
  return new AppError('NOT_FOUND', `No Experiment with id=${id} exists`, { experiment: id });
}

/** A UUIDv7 as 32 hex digits: time-ordered, and the shape MLflow clients expect of a run id. */
export function newRunId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  return bytes.toString('hex');
}

function checkName(kind: string, name: string | undefined): string {
  if (name === undefined || name === null) {
    throw invalid(`${kind} name cannot be None. A key name must be provided.`, 'key');
  }
  if (!NAME_PATTERN.test(name)) {
    throw invalid(
      `Invalid ${kind.toLowerCase()} name: '${name}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
      'key',
    );
  }
  const parts = name.split('/');
  if (
    name === '' ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw invalid(
      `Invalid ${kind.toLowerCase()} name: '${name}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
      'key',
    );
  }
  if (name.length > LIMITS.keyLength) {
    throw invalid(`${kind} name '${name.slice(0, 40)}…' is longer than ${LIMITS.keyLength} characters`, 'key');
  }
  return name;
}

function checkLength(what: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw invalid(
      `${what} '${value.slice(0, 40)}…' had length ${value.length}, which exceeded length limit of ${limit}`,
      'value',
    );
  }
}

export interface LogBatch {
  metrics: StoredPoint[];
  params: KeyValue[];
  tags: KeyValue[];
}

/**
 * Experiments and runs: params are write-once, tags can change, metrics are step series stored in chunks.
 * Every write to a run is one transaction; a run that stays RUNNING without any write for `staleAfterMs` is
 * marked KILLED, so a process that died never leaves a run "running" forever.
 */
export class TrackingService {
  private readonly pendingMetricEvents = new Map<string, Set<string>>();
  private metricEventTimer: NodeJS.Timeout | undefined;
  /** Downsampled series as last sent, and the decoded points they came from (16 bytes a point). */
  /** When each run's last activity was last written (it is written at most once a second). */
  private readonly lastTouched = new Map<string, number>();
  private readonly charts = new SeriesCache<BinarySeries>(1_000_000, (s) => s.x.length);
  private readonly decoded = new SeriesCache<SeriesColumns>(2_000_000, (c) => c.ys.buffer.byteLength / 8);

  constructor(
    private readonly store: ModelhubStore,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    /** DataForge, to link a run's dataset inputs to dataset versions (absent in store-level tests). */
    private readonly datasets?: Pick<DataforgeService, 'resolveVersion'>,
  ) {}

  // Experiments

  createExperiment(input: {
    name: string;
    tags?: KeyValue[] | undefined;
    artifactLocation?: string | undefined;
  }): string {
    const name = input.name?.trim() ?? '';
    if (name === '') throw invalid('Invalid experiment name: ' + `'${input.name ?? ''}'`, 'name');
    if (this.store.experimentByName(name)) {
      throw new AppError('CONFLICT', `Experiment(name=${name}) already exists.`, { name });
    }
    for (const t of input.tags ?? []) {
      checkName('Tag', t.key);
      checkLength('Tag value', t.value, LIMITS.experimentTagValueLength);
    }
    const now = Date.now();
    const id = this.store.transaction(() => {
      const created = this.store.insertExperiment({ name, artifactLocation: input.artifactLocation ?? null, at: now });
      for (const t of input.tags ?? []) this.store.setExperimentTag(created, t.key, t.value, now);
      return created;
    });
    this.bus.emit('experiment.created', { experiment: this.experiment(id) });
    return id;
  }

  experiment(id: string): Experiment {
    const e = /^\d{1,18}$/.test(id) ? this.store.experiment(id) : undefined;
    if (!e) throw noExperiment(id);
    return e;
  }

  experimentByName(name: string): Experiment {
    const e = this.store.experimentByName(name);
    if (!e) throw new AppError('NOT_FOUND', `Could not find experiment with name '${name}'`, { experiment: name });
    return e;
  }

  searchExperiments(query: {
    filter?: string | undefined;
    viewType?: ViewType | undefined;
    maxResults?: number | undefined;
    orderBy?: readonly string[] | undefined;
    pageToken?: string | undefined;
  }): { experiments: Experiment[]; nextPageToken: string | null } {
    const max = this.maxResults(query.maxResults, 1000);
    const offset = decodePageToken(query.pageToken);
    const where = experimentFilterSql(parseExperimentFilter(query.filter ?? ''));
    const stage = lifecycleCondition('e', query.viewType ?? 'ACTIVE_ONLY');
    const order = experimentOrderSql((query.orderBy ?? []).map(parseExperimentOrderBy));
    const rows = this.store.searchExperiments(
      `${stage} AND ${where.sql}`,
      [...where.params, ...order.params],
      order.sql,
      max,
      offset,
    );
    return { experiments: rows, nextPageToken: fullPageToken(rows.length, max, offset) };
  }

  private maxResults(given: number | undefined, fallback: number): number {
    const max = given ?? fallback;
    if (!Number.isInteger(max) || max < 1 || max > LIMITS.maxResults) {
      throw invalid(
        `Invalid value for request parameter max_results. It must be at most ${LIMITS.maxResults}, but got value ${max}`,
        'max_results',
      );
    }
    return max;
  }

  renameExperiment(id: string, name: string): void {
    this.experiment(id);
    const existing = this.store.experimentByName(name);
    if (existing && existing.id !== id)
      throw new AppError('CONFLICT', `Experiment(name=${name}) already exists.`, { name });
    this.store.updateExperiment(id, { name }, Date.now());
  }

  setExperimentLifecycle(id: string, stage: 'active' | 'deleted'): void {
    const e = this.experiment(id);
    if (id === '0' && stage === 'deleted') throw invalid('Cannot delete the default experiment', 'experiment_id');
    if (e.lifecycleStage === stage) {
      throw invalid(
        `Cannot ${stage === 'deleted' ? 'delete' : 'restore'} experiment ${id}: it is already ${stage}`,
        'experiment_id',
      );
    }
    this.store.updateExperiment(id, { lifecycleStage: stage }, Date.now());
  }

  setExperimentTag(id: string, key: string, value: string): void {
    const e = this.experiment(id);
    if (e.lifecycleStage !== 'active') {
      throw invalid(
        `The experiment ${id} must be in the 'active' state. Current state is ${e.lifecycleStage}.`,
        'experiment_id',
      );
    }
    checkName('Tag', key);
    checkLength('Tag value', value, LIMITS.experimentTagValueLength);
    this.store.setExperimentTag(id, key, value, Date.now());
  }

  deleteExperimentTag(id: string, key: string): void {
    this.experiment(id);
    if (!this.store.deleteExperimentTag(id, key)) {
      throw new AppError('NOT_FOUND', `No tag with name: ${key} in experiment with id ${id}`, { key });
    }
  }

  // Runs

  createRun(input: {
    experimentId?: string | undefined;
    userId?: string | undefined;
    runName?: string | undefined;
    startTime?: number | undefined;
    tags?: KeyValue[] | undefined;
  }): Run {
    const experimentId = input.experimentId ?? '0';
    // Not `experiment()`: that counts the experiment's runs, which a new run does not need.
    const e = /^\d{1,18}$/.test(experimentId) ? this.store.experimentHead(experimentId) : undefined;
    if (!e) throw noExperiment(experimentId);
    if (e.lifecycleStage !== 'active') {
      throw invalid(
        `The experiment ${experimentId} must be in the 'active' state. Current state is ${e.lifecycleStage}.`,
        'experiment_id',
      );
    }
    const tags = input.tags ?? [];
    for (const t of tags) {
      checkName('Tag', t.key);
      checkLength('Tag value', t.value, LIMITS.tagValueLength);
    }
    const now = Date.now();
    const id = newRunId(now);
    const name = input.runName ?? tags.find((t) => t.key === 'mlflow.runName')?.value ?? generatedRunName(id);
    const info: RunInfo = {
      id,
      experimentId,
      name,
      userId: input.userId ?? '',
      status: 'RUNNING',
      startTime: input.startTime ?? now,
      endTime: null,
      lifecycleStage: 'active',
      artifactUri: `${e.artifactLocation}/${id}/artifacts`,
    };
    this.store.transaction(() => {
      this.store.insertRun(info, now);
      for (const t of tags) this.store.setTag(id, t.key, t.value);
      // MLflow keeps the run name in a tag too; clients read either.
      if (!tags.some((t) => t.key === 'mlflow.runName')) this.store.setTag(id, 'mlflow.runName', name);
    });
    this.bus.emit('run.created', { run: info });
    return this.run(id);
  }

  private runInfo(id: string): RunInfo {
    const r = /^[0-9a-f]{32}$/.test(id) ? this.store.run(id) : undefined;
    if (!r) throw new AppError('NOT_FOUND', `Run with id=${id} not found`, { run: id });
    return r;
  }

  /** Throws unless the run exists and is active (what every write to a run checks first). */
  private activeRun(id: string): void {
    const stage = /^[0-9a-f]{32}$/.test(id) ? this.store.runStage(id) : undefined;
    if (stage === undefined) throw new AppError('NOT_FOUND', `Run with id=${id} not found`, { run: id });
    if (stage !== 'active') {
      throw invalid(`The run ${id} must be in the 'active' state. Current state is ${stage}.`, 'run_id');
    }
  }

  run(id: string): Run {
    const info = this.runInfo(id);
    return {
      info,
      metrics: this.store.latestMetrics(id).map(toMetricPoint),
      params: this.store.params(id),
      tags: this.store.tags(id),
      inputs: this.store.inputs(id),
    };
  }

  updateRun(
    id: string,
    change: { status?: RunStatus | undefined; endTime?: number | undefined; runName?: string | undefined },
  ): RunInfo {
    this.activeRun(id);
    const now = Date.now();
    this.store.transaction(() => {
      this.store.updateRun(
        id,
        {
          ...(change.status ? { status: change.status } : {}),
          ...(change.endTime !== undefined ? { endTime: change.endTime } : {}),
          ...(change.runName ? { name: change.runName } : {}),
        },
        now,
      );
      if (change.runName) this.store.setTag(id, 'mlflow.runName', change.runName);
    });
    const info = this.runInfo(id);
    this.bus.emit('run.updated', { run: info });
    return info;
  }

  setRunLifecycle(id: string, stage: 'active' | 'deleted'): void {
    this.runInfo(id);
    this.store.updateRun(id, { lifecycleStage: stage }, Date.now());
  }

  /** `maxMetrics`: MLflow's limit unless a route of our own allows more (the binary metric batches). */
  logBatch(runId: string, batch: LogBatch, { maxMetrics = LIMITS.metricsPerBatch } = {}): void {
    const { metrics, params, tags } = batch;
    const limit = (what: string, n: number, max: number) => {
      if (n > max) {
        throw invalid(
          `A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`,
          what,
        );
      }
    };
    limit('metrics', metrics.length, maxMetrics);
    limit('params', params.length, LIMITS.paramsTagsPerBatch);
    limit('tags', tags.length, LIMITS.paramsTagsPerBatch);
    limit(
      'metrics, params, and tags',
      metrics.length + params.length + tags.length,
      Math.max(LIMITS.entitiesPerBatch, maxMetrics),
    );
    const names = new Set<string>();
    for (const m of metrics) {
      if (!names.has(m.key)) checkName('Metric', m.key);
      names.add(m.key);
    }
    const seenParams = new Map<string, string>();
    for (const p of params) {
      checkName('Param', p.key);
      checkLength('Param value', p.value, LIMITS.paramValueLength);
      const earlier = seenParams.get(p.key);
      if (earlier !== undefined && earlier !== p.value) {
        throw invalid(
          `Duplicate parameter keys have been submitted: '${p.key}'. Please ensure the request contains only one param value per param key.`,
          'params',
        );
      }
      seenParams.set(p.key, p.value);
    }
    for (const t of tags) {
      checkName('Tag', t.key);
      checkLength('Tag value', t.value, LIMITS.tagValueLength);
    }
    this.activeRun(runId);
    const now = Date.now();
    // A metrics-only batch makes no transaction unless the run's last activity is due an update (once a second).
    const touch = (this.lastTouched.get(runId) ?? 0) <= now - 1000;
    if (seenParams.size === 0 && tags.length === 0 && !touch) {
      this.store.logPoints(runId, metrics);
      if (metrics.length > 0) this.announceMetrics(runId, names);
      return;
    }
    this.store.transaction(() => {
      for (const [key, value] of seenParams) {
        const existing = this.store.param(runId, key);
        if (existing !== undefined && existing !== value) {
          throw invalid(
            `Changing param values is not allowed. Param with key='${key}' was already logged with value='${existing}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
            'params',
          );
        }
        if (existing === undefined) this.store.insertParam(runId, key, value);
      }
      for (const t of tags) this.store.setTag(runId, t.key, t.value);
      this.store.touchRun(runId, now);
    });
    if (this.lastTouched.size >= 10_000) this.lastTouched.clear();
    this.lastTouched.set(runId, now);
    this.store.logPoints(runId, metrics);
    if (metrics.length > 0) this.announceMetrics(runId, names);
  }

  /**
   * Forgets a run's metric points after `afterStep` (all of them when null): a training job resumed from the
   * checkpoint at that step logs the later steps again.
   */
  truncateMetrics(runId: string, afterStep: number | null): void {
    this.activeRun(runId);
    const touched = this.store.truncatePoints(runId, afterStep);
    for (const s of touched) {
      this.charts.dropSeries(s.id);
      this.decoded.dropSeries(s.id);
    }
    if (touched.length > 0) this.bus.emit('run.metrics', { runId, keys: touched.map((s) => s.key) });
  }

  /** Moves logged points still in the journal into the database (at shutdown). */
  close(): void {
    this.store.close();
  }

  /** Live charts need to know points arrived, not every point: one event per run at most every 250 ms. */
  private announceMetrics(runId: string, keys: Iterable<string>): void {
    const pending = this.pendingMetricEvents.get(runId) ?? new Set<string>();
    for (const k of keys) pending.add(k);
    this.pendingMetricEvents.set(runId, pending);
    this.metricEventTimer ??= setTimeout(() => {
      this.metricEventTimer = undefined;
      for (const [id, set] of this.pendingMetricEvents) this.bus.emit('run.metrics', { runId: id, keys: [...set] });
      this.pendingMetricEvents.clear();
    }, 250);
    this.metricEventTimer.unref();
  }

  deleteTag(runId: string, key: string): void {
    this.activeRun(runId);
    if (!this.store.deleteTag(runId, key)) {
      throw new AppError('NOT_FOUND', `No tag with name: ${key} in run with id ${runId}`, { key });
    }
  }

  logInputs(runId: string, inputs: readonly RunInput[]): void {
    this.activeRun(runId);
    const now = Date.now();
    const linked = inputs.map((i) => ({ ...i, datasetVersionId: i.datasetVersionId ?? this.datasetVersionOf(i) }));
    this.store.transaction(() => {
      for (const i of linked) this.store.insertInput(runId, i, now);
      this.store.touchRun(runId, now);
    });
  }

  /**
   * The DataForge version an input names (`aidos://datasets/<name>/versions/<version>`, as the SDK logs them),
   * for lineage; null for other sources, or a version that does not exist (MLflow clients may send anything).
   */
  private datasetVersionOf(input: RunInput): string | null {
    const m = /^aidos:\/\/datasets\/([^/]+)\/versions\/([^/]+)$/.exec(input.source);
    if (!m || !this.datasets) return null;
    try {
      return this.datasets.resolveVersion(decodeURIComponent(m[1] as string), decodeURIComponent(m[2] as string)).id;
    } catch (err) {
      if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) return null;
      throw err;
    }
  }

  /** Every point of a metric, in logging order; a page at a time. */
  metricHistory(
    runId: string,
    key: string,
    page: { maxResults?: number | undefined; pageToken?: string | undefined },
  ): { points: StoredPoint[]; nextPageToken: string | null } {
    this.runInfo(runId);
    const all = this.store.history(runId, key);
    if (!all) return { points: [], nextPageToken: null };
    const max = page.maxResults ?? 25_000;
    const offset = decodePageToken(page.pageToken);
    const end = Math.min(all.steps.length, offset + max);
    const points: StoredPoint[] = [];
    for (let i = offset; i < end; i++) {
      points.push({
        key,
        step: all.steps[i] as number,
        timestamp: all.timestamps[i] as number,
        value: all.values[i] as number,
      });
    }
    return { points, nextPageToken: end < all.steps.length ? encodePageToken(end) : null };
  }

  /**
   * Chart data: each existing series of `runIds` × `keys` (in that order), downsampled. Unknown runs are an
   * error; a run without one of the keys just has no series for it.
   */
  chartSeries(runIds: readonly string[], keys: readonly string[], options: ChartOptions): BinarySeries[] {
    const known = this.store.existingRuns(runIds);
    const missing = runIds.find((id) => !known.has(id));
    if (missing !== undefined) throw new AppError('NOT_FOUND', `Run with id=${missing} not found`, { run: missing });
    const heads = new Map(this.store.seriesHeads(runIds, keys).map((h) => [`${h.runId} ${h.key}`, h]));
    const out: BinarySeries[] = [];
    for (const runId of runIds) {
      for (const key of keys) {
        const head = heads.get(`${runId} ${key}`);
        if (!head) continue;
        const chartKey = `${head.id} ${options.x} ${options.maxPoints} ${options.method}`;
        const drawn = this.charts.get(chartKey);
        if (drawn?.points === head.points) {
          out.push(drawn.value);
          continue;
        }
        const series = chartSeries(runId, key, this.seriesColumns(head, options.x), options);
        this.charts.set(chartKey, head.points, series);
        out.push(series);
      }
    }
    return out;
  }

  /**
   * A series' x column and values, decoding only the points appended since it was last charted. The columns
   * are views of buffers with room to grow, so a live chart's new points are copied in, not the whole series.
   */
  private seriesColumns(head: SeriesHead, x: 'step' | 'time'): SeriesColumns {
    const key = `${head.id} ${x}`;
    const cached = this.decoded.get(key);
    if (cached?.points === head.points) return cached.value;
    const from = cached && cached.points < head.points ? cached.points : 0;
    const fresh = this.store.seriesPointsFrom(head.id, from, { steps: x === 'step', timestamps: x === 'time' });
    const freshXs = x === 'step' ? fresh.steps : fresh.timestamps;
    const total = from + fresh.values.length;
    let room = cached && from > 0 ? cached.value : undefined;
    if (!room || room.xs.buffer.byteLength < total * 8) {
      const capacity = Math.ceil(total * 1.25) + 64;
      const grown = { xs: new Float64Array(capacity), ys: new Float64Array(capacity) };
      if (room) {
        grown.xs.set(room.xs.subarray(0, from));
        grown.ys.set(room.ys.subarray(0, from));
      }
      room = grown;
    }
    const xs = new Float64Array(room.xs.buffer, 0, total);
    const ys = new Float64Array(room.ys.buffer, 0, total);
    xs.set(freshXs, from);
    ys.set(fresh.values, from);
    const columns = { xs, ys };
    this.decoded.set(key, head.points, columns);
    return columns;
  }

  searchRuns(query: {
    experimentIds: readonly string[];
    filter?: string | undefined;
    viewType?: ViewType | undefined;
    maxResults?: number | undefined;
    orderBy?: readonly string[] | undefined;
    pageToken?: string | undefined;
  }): { runs: Run[]; nextPageToken: string | null } {
    const max = this.maxResults(query.maxResults, 1000);
    const offset = decodePageToken(query.pageToken);
    if (query.experimentIds.some((id) => !/^\d{1,18}$/.test(id))) {
      throw invalid(`Invalid experiment ids: ${query.experimentIds.join(', ')}`, 'experiment_ids');
    }
    if (query.experimentIds.length === 0) return { runs: [], nextPageToken: null };
    const clauses = parseRunFilter(query.filter ?? '');
    const orders = (query.orderBy ?? []).map(parseRunOrderBy);
    const where = runFilterSql(clauses);
    const scope = `r.experiment_id IN (${query.experimentIds.map(() => '?').join(', ')}) AND ${lifecycleCondition('r', query.viewType ?? 'ACTIVE_ONLY')}`;
    const experimentParams = query.experimentIds.map(Number);
    // Ordered by a metric the filter bounds (`metrics.acc > 0.9` … `metrics.acc DESC`): walk that metric's index
    // instead of every run of the experiments; runs without the metric cannot match, so the rows are the same.
    const lead = orders[0];
    const bound =
      lead?.entity === 'metric'
        ? clauses.find(
            (c) => c.entity === 'metric' && c.key === lead.key && ['>', '>=', '<', '<=', '='].includes(c.comparator),
          )
        : undefined;
    let infos: RunInfo[];
    if (lead && bound) {
      const rest = runOrderSql(orders.slice(1));
      infos = this.store.searchRuns(
        `o.key = ? AND o.last_value ${bound.comparator} ? AND ${scope} AND ${where.sql}`,
        [lead.key, bound.value, ...experimentParams, ...where.params, ...rest.params],
        `o.last_value ${lead.ascending ? 'ASC' : 'DESC'}, ${rest.sql}`,
        max,
        offset,
        'modelhub_metric_series o JOIN modelhub_runs r ON r.id = o.run_id',
      );
    } else {
      const order = runOrderSql(orders);
      infos = this.store.searchRuns(
        `${scope} AND ${where.sql}`,
        [...experimentParams, ...where.params, ...order.params],
        order.sql,
        max,
        offset,
      );
    }
    const details = this.store.details(infos.map((r) => r.id));
    return {
      runs: infos.map((info) => {
        const d = details.get(info.id) as RunDetails;
        return { info, metrics: d.metrics.map(toMetricPoint), params: d.params, tags: d.tags, inputs: d.inputs };
      }),
      nextPageToken: fullPageToken(infos.length, max, offset),
    };
  }

  /**
   * Marks runs that stayed RUNNING without a sign of life as KILLED, ended at their last write: runs whose client
   * sends heartbeats (the SDK) after five missed beats, others (plain MLflow clients) after `silentMs`.
   */
  killSilentRuns(silentMs: number, now = Date.now()): RunInfo[] {
    const killed: RunInfo[] = [];
    for (const r of this.store.silentRuns(now, silentMs, MISSED_HEARTBEATS)) {
      const last = this.store.lastActivity(r.id);
      this.store.transaction(() => {
        this.store.updateRun(r.id, { status: 'KILLED', endTime: last }, last);
        this.store.setTag(
          r.id,
          'aidos.killed_reason',
          `no sign of life since ${new Date(last).toISOString()}: its process is gone`,
        );
      });
      const info = this.runInfo(r.id);
      this.bus.emit('run.updated', { run: info });
      killed.push(info);
    }
    if (killed.length > 0) this.logger.warn({ runs: killed.map((r) => r.id) }, 'marked silent runs as killed');
    return killed;
  }
}

/** MLflow's paging: a full page carries a token for the next (which may be empty). */
function fullPageToken(count: number, max: number, offset: number): string | null {
  return count === max ? encodePageToken(offset + max) : null;
}

function lifecycleCondition(alias: string, view: ViewType): string {
  if (view === 'ALL') return '1 = 1';
  return `${alias}.lifecycle_stage = '${view === 'ACTIVE_ONLY' ? 'active' : 'deleted'}'`;
}

/** NaN and ±Infinity leave as the strings JSON can carry. */
export function toMetricPoint(p: StoredPoint): Run['metrics'][number] {
  return { key: p.key, value: jsonNumber(p.value), timestamp: p.timestamp, step: p.step };
}

const ADJECTIVES = [
  'amber',
  'bold',
  'calm',
  'deft',
  'eager',
  'fair',
  'glad',
  'keen',
  'lucid',
  'mellow',
  'noble',
  'quick',
  'sharp',
  'steady',
  'vivid',
  'wise',
];
const NOUNS = [
  'badger',
  'crane',
  'dolphin',
  'falcon',
  'fox',
  'heron',
  'lynx',
  'otter',
  'owl',
  'panda',
  'raven',
  'seal',
  'swan',
  'tiger',
  'wolf',
  'yak',
];

/** A readable name for a run started without one (MLflow does the same), stable for the id. */
function generatedRunName(id: string): string {
  const a = ADJECTIVES[parseInt(id.slice(-2), 16) % ADJECTIVES.length] as string;
  const n = NOUNS[parseInt(id.slice(-4, -2), 16) % NOUNS.length] as string;
  return `${a}-${n}-${parseInt(id.slice(-7, -4), 16) % 1000}`;
}
