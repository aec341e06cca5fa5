import type { Statement } from 'better-sqlite3';
import { statement, type Db } from '#platform/db';
import type { Experiment, KeyValue, RunInfo, RunInput, RunStatus } from '#shared/contracts/modelhub';
import {
  concatPoints,
  decodeChunk,
  decodeChunks,
  encodeChunk,
  type MetricPoints,
  type PointColumns,
} from './metric-codec';
import { MetricJournal } from './metric-journal';

/** A point as stored: NaN and ±Infinity are plain numbers here. */
export interface StoredPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

interface SeriesRow {
  id: number;
  key: string;
  last_step: number;
  last_timestamp: number;
  last_value: number | null;
  last_is_nan: number;
  points: number;
  next_seq: number;
  tail_chunks: number;
  tail_points: number;
}

/**
 * A chunk this size or larger is left alone; smaller ones at the end of a series are merged. Chunks (~10 bytes a
 * point) larger than ~1 KB spill into overflow pages, whose last page is partly empty: at 256 points that slack
 * cost ~7 bytes a point (19 in all, bench/modelhub-tracking.ts), at 1,024 about 2 (11-13 in all).
 */
const SETTLED_POINTS = 1024;
const MAX_TAIL_CHUNKS = 32;
/** Journaled points wait at most this long, or until there are this many, before they go into their chunks. */
const FLUSH_AFTER_MS = 50;
const FLUSH_AT_POINTS = 20_000;
const FLUSH_RETRY_MS = 1000;
/** Batches this large are written to their chunks at once: the journal saves commits of small writes. */
const JOURNAL_MAX_POINTS = 100;
/** At most this many active runs are remembered; the set starts over when full. */
const ACTIVE_RUNS_REMEMBERED = 10_000;

interface ExperimentRow {
  id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  created_at: number;
  updated_at: number;
}

interface RunRow {
  id: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

export function toRunInfo(r: RunRow): RunInfo {
  return {
    id: r.id,
    experimentId: String(r.experiment_id),
    name: r.name,
    userId: r.user_id,
    status: r.status as RunStatus,
    startTime: r.start_time,
    endTime: r.end_time,
    lifecycleStage: r.lifecycle_stage as RunInfo['lifecycleStage'],
    artifactUri: r.artifact_uri,
  };
}

interface InputRow {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: string;
  dataset_version_id: string | null;
}

function toInput(r: InputRow): RunInput {
  return {
    name: r.name,
    digest: r.digest,
    sourceType: r.source_type,
    source: r.source,
    schema: r.schema,
    profile: r.profile,
    tags: JSON.parse(r.tags) as KeyValue[],
    datasetVersionId: r.dataset_version_id,
  };
}

/** A metric series' identity and size, without its points. */
export interface SeriesHead {
  id: number;
  runId: string;
  key: string;
  points: number;
}

export interface RunDetails {
  params: KeyValue[];
  tags: KeyValue[];
  metrics: StoredPoint[];
  inputs: RunInput[];
}

/** MLflow's order for "the latest value" of a metric: higher step, then later time, then larger value. */
function isLater(p: StoredPoint, s: { step: number; timestamp: number; value: number }): boolean {
  if (p.step !== s.step) return p.step > s.step;
  if (p.timestamp !== s.timestamp) return p.timestamp > s.timestamp;
  return p.value > s.value || (Number.isNaN(s.value) && !Number.isNaN(p.value));
}

/** Persistence of experiments, runs, params, tags, inputs and metric series (in encoded chunks). */
export class ModelhubStore {
  /** One transaction wrapper for every call (better-sqlite3 builds a new function per `db.transaction`). */
  private readonly tx: ReturnType<Db['transaction']>;

  /** Points acknowledged and in the journal, not yet in their chunks: by run, in logging order. */
  private readonly pending = new Map<string, StoredPoint[]>();
  private pendingPoints = 0;
  /** Runs known to be active (see `runStage`). */
  private readonly activeRuns = new Set<string>();
  private lastSeq = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly journal: MetricJournal | undefined;

  /**
   * `journal`: a file for metric points not yet moved into the database (see MetricJournal); without one (an
   * in-memory database), points are written to their chunks at once. Points a journal holds from before a
   * crash are moved into the database here.
   */
  constructor(
    private readonly db: Db,
    options: { journal?: string | undefined } = {},
  ) {
    this.tx = db.transaction((fn: () => unknown) => fn());
    if (options.journal) {
      this.journal = new MetricJournal(options.journal);
      this.recoverJournal(this.journal);
    }
  }

  /** The journal file next to a database file, or none for an in-memory database. */
  static journalFor(db: Db): string | undefined {
    return db.memory ? undefined : `${db.name}-metrics`;
  }

  private recoverJournal(journal: MetricJournal): void {
    const applied = this.sql('SELECT applied_seq FROM modelhub_journal_state WHERE id = 1').pluck().get() as number;
    const records = journal.read().filter((r) => r.seq > applied);
    this.lastSeq = applied;
    for (const r of records) {
      const list = this.pending.get(r.runId) ?? [];
      list.push(...r.points);
      this.pending.set(r.runId, list);
      this.pendingPoints += r.points.length;
      this.lastSeq = r.seq;
    }
    if (records.length > 0) this.flushPoints();
    else journal.clear();
  }

  /**
   * Logs metric points: a small batch in the journal at once (one write) and in its chunks within a few
   * milliseconds or before anything reads metrics, whichever comes first; a large one in its chunks at once.
   * Must not be called inside a transaction: the journal write is not part of it.
   */
  logPoints(runId: string, points: readonly StoredPoint[]): void {
    if (points.length === 0) return;
    if (!this.journal || points.length >= JOURNAL_MAX_POINTS) {
      // A large batch is worth its own commit; earlier journaled points go first, to keep logging order.
      this.flushPoints();
      this.transaction(() => this.appendPoints(runId, points));
      return;
    }
    const seq = this.lastSeq + 1;
    this.journal.append({ seq, runId, points: [...points] });
    this.lastSeq = seq;
    const list = this.pending.get(runId);
    if (list) list.push(...points);
    else this.pending.set(runId, [...points]);
    this.pendingPoints += points.length;
    if (this.pendingPoints >= FLUSH_AT_POINTS) this.flushPoints();
    else this.scheduleFlush(FLUSH_AFTER_MS);
  }

  private scheduleFlush(afterMs: number): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      try {
        this.flushPoints();
      } catch {
        // The points stay in the journal and in memory; the next read flushes them and reports the error.
        this.scheduleFlush(FLUSH_RETRY_MS);
      }
    }, afterMs);
    this.flushTimer.unref();
  }

  /**
   * Moves the journal's points into their chunks in one transaction, recording the last record it holds (so a
   * crash between this commit and emptying the file does not apply a record twice). Runs before every read of
   * the metric tables, so what a client logged it reads back.
   */
  flushPoints(): void {
    // Inside a caller's transaction the journal would be emptied for points a rollback could take back out of
    // the database: such a read sees the points of the last few milliseconds only after it.
    if (this.pendingPoints === 0 || this.db.inTransaction) return;
    const upTo = this.lastSeq;
    this.transaction(() => {
      for (const [runId, points] of this.pending) this.appendPoints(runId, points);
      this.sql('UPDATE modelhub_journal_state SET applied_seq = ? WHERE id = 1').run(upTo);
    });
    this.pending.clear();
    this.pendingPoints = 0;
    this.journal?.clear();
  }

  /** Moves pending points into the database and closes the journal (the store is not used afterwards). */
  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushPoints();
    this.journal?.close();
  }

  transaction<T>(fn: () => T): T {
    return this.tx.immediate(fn) as T;
  }

  /** A prepared statement for fixed SQL text (search queries, built from filters, are prepared per call). */
  private sql(text: string): Statement {
    return statement(this.db, text);
  }

  // Experiments

  insertExperiment(e: { name: string; artifactLocation: string | null; at: number }): string {
    const info = this.sql(
      `INSERT INTO modelhub_experiments (name, artifact_location, lifecycle_stage, created_at, updated_at)
         VALUES (?, '', 'active', ?, ?)`,
    ).run(e.name, e.at, e.at);
    const id = Number(info.lastInsertRowid);
    this.sql('UPDATE modelhub_experiments SET artifact_location = ? WHERE id = ?').run(
      e.artifactLocation ?? `mlflow-artifacts:/${id}`,
      id,
    );
    return String(id);
  }

  private toExperiment(r: ExperimentRow): Experiment {
    return {
      id: String(r.id),
      name: r.name,
      artifactLocation: r.artifact_location,
      lifecycleStage: r.lifecycle_stage as Experiment['lifecycleStage'],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      tags: this.sql('SELECT key, value FROM modelhub_experiment_tags WHERE experiment_id = ? ORDER BY rowid').all(
        r.id,
      ) as KeyValue[],
      runCount: (
        this.sql("SELECT COUNT(*) AS n FROM modelhub_runs WHERE experiment_id = ? AND lifecycle_stage = 'active'").get(
          r.id,
        ) as { n: number }
      ).n,
    };
  }

  experiment(id: string): Experiment | undefined {
    const row = this.sql('SELECT * FROM modelhub_experiments WHERE id = ?').get(Number(id)) as
      ExperimentRow | undefined;
    return row && this.toExperiment(row);
  }

  /**
   * What a new run needs of its experiment, without its tags or its count of runs (`experiment` counts them,
   * which grows with the experiment: it was 8% of TrainOS's job throughput when every run creation did it).
   */
  experimentHead(id: string): Pick<Experiment, 'artifactLocation' | 'lifecycleStage'> | undefined {
    const row = this.sql('SELECT artifact_location, lifecycle_stage FROM modelhub_experiments WHERE id = ?').get(
      Number(id),
    ) as Pick<ExperimentRow, 'artifact_location' | 'lifecycle_stage'> | undefined;
    return (
      row && {
        artifactLocation: row.artifact_location,
        lifecycleStage: row.lifecycle_stage as Experiment['lifecycleStage'],
      }
    );
  }

  experimentByName(name: string): Experiment | undefined {
    const row = this.sql('SELECT * FROM modelhub_experiments WHERE name = ?').get(name) as ExperimentRow | undefined;
    return row && this.toExperiment(row);
  }

  /** Experiments matching a compiled WHERE clause (over `e`), in the given order, a page at a time. */
  searchExperiments(where: string, params: unknown[], orderBy: string, limit: number, offset: number): Experiment[] {
    const rows = this.db
      .prepare(`SELECT e.* FROM modelhub_experiments e WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as ExperimentRow[];
    return rows.map((r) => this.toExperiment(r));
  }

  updateExperiment(id: string, change: { name?: string; lifecycleStage?: string }, at: number): void {
    this.sql(
      `UPDATE modelhub_experiments SET name = COALESCE(?, name), lifecycle_stage = COALESCE(?, lifecycle_stage),
           updated_at = ? WHERE id = ?`,
    ).run(change.name ?? null, change.lifecycleStage ?? null, at, Number(id));
  }

  setExperimentTag(id: string, key: string, value: string, at: number): void {
    this.sql(
      `INSERT INTO modelhub_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`,
    ).run(Number(id), key, value);
    this.sql('UPDATE modelhub_experiments SET updated_at = ? WHERE id = ?').run(at, Number(id));
  }

  deleteExperimentTag(id: string, key: string): boolean {
    return (
      this.sql('DELETE FROM modelhub_experiment_tags WHERE experiment_id = ? AND key = ?').run(Number(id), key)
        .changes > 0
    );
  }

  // Runs

  insertRun(r: RunInfo, at: number): void {
    this.sql(
      `INSERT INTO modelhub_runs (id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage,
           artifact_uri, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      Number(r.experimentId),
      r.name,
      r.userId,
      r.status,
      r.startTime,
      r.endTime,
      r.lifecycleStage,
      r.artifactUri,
      at,
    );
  }

  run(id: string): RunInfo | undefined {
    const row = this.sql('SELECT * FROM modelhub_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRunInfo(row);
  }

  /**
   * A run's lifecycle stage, undefined when there is no such run. Every metric logged asks this, so active runs
   * are remembered (a query, with its read transaction and file locks, was ~8% of a log-metric request's server
   * time). A run leaves the set before its stage changes (`updateRun`, the only writer of the stage; runs are
   * never deleted from the table), and only stages read outside a transaction are remembered, so that a rollback
   * cannot leave a run remembered that the database does not hold.
   */
  runStage(id: string): RunInfo['lifecycleStage'] | undefined {
    if (this.activeRuns.has(id)) return 'active';
    const stage = this.sql('SELECT lifecycle_stage FROM modelhub_runs WHERE id = ?').pluck().get(id) as
      RunInfo['lifecycleStage'] | undefined;
    if (stage === 'active' && !this.db.inTransaction) {
      if (this.activeRuns.size >= ACTIVE_RUNS_REMEMBERED) this.activeRuns.clear();
      this.activeRuns.add(id);
    }
    return stage;
  }

  updateRun(
    id: string,
    change: { status?: string; endTime?: number | null; name?: string; lifecycleStage?: string },
    at: number,
  ): void {
    if (change.lifecycleStage !== undefined) this.activeRuns.delete(id);
    this.sql(
      `UPDATE modelhub_runs SET status = COALESCE(?, status), end_time = CASE WHEN ? THEN ? ELSE end_time END,
           name = COALESCE(?, name), lifecycle_stage = COALESCE(?, lifecycle_stage), last_activity = ?,
           deleted_at = CASE WHEN ? = 'deleted' THEN ? WHEN ? = 'active' THEN NULL ELSE deleted_at END
         WHERE id = ?`,
    ).run(
      change.status ?? null,
      change.endTime !== undefined ? 1 : 0,
      change.endTime ?? null,
      change.name ?? null,
      change.lifecycleStage ?? null,
      at,
      change.lifecycleStage ?? null,
      at,
      change.lifecycleStage ?? null,
      id,
    );
  }

  /** Notes a write; at most once a second, as liveness needs no finer time and each update costs a page write. */
  touchRun(id: string, at: number): void {
    this.sql('UPDATE modelhub_runs SET last_activity = ? WHERE id = ? AND last_activity < ?').run(at, id, at - 1000);
  }

  /**
   * Running runs silent for too long: those whose client promised heartbeats (tag `aidos.heartbeat_interval_ms`)
   * after `missedBeats` intervals, the others after `silentMs`.
   */
  silentRuns(now: number, silentMs: number, missedBeats: number): RunInfo[] {
    return (
      this.sql(
        `SELECT r.* FROM modelhub_runs r
           LEFT JOIN modelhub_run_tags t ON t.run_id = r.id AND t.key = 'aidos.heartbeat_interval_ms'
           WHERE r.status = 'RUNNING'
             AND r.last_activity < ? - COALESCE(? * CAST(t.value AS INTEGER), ?)`,
      ).all(now, missedBeats, silentMs) as RunRow[]
    ).map(toRunInfo);
  }

  lastActivity(id: string): number {
    return (this.sql('SELECT last_activity AS t FROM modelhub_runs WHERE id = ?').get(id) as { t: number }).t;
  }

  /** Run ids matching a compiled WHERE clause (over `r`) in the given order, a page at a time. */
  searchRuns(
    where: string,
    params: unknown[],
    orderBy: string,
    limit: number,
    offset: number,
    from = 'modelhub_runs r',
  ): RunInfo[] {
    this.flushPoints();
    return (
      this.db
        .prepare(`SELECT r.* FROM ${from} WHERE ${where} ORDER BY ${orderBy} LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as RunRow[]
    ).map(toRunInfo);
  }

  params(runId: string): KeyValue[] {
    return this.sql('SELECT key, value FROM modelhub_params WHERE run_id = ? ORDER BY rowid').all(runId) as KeyValue[];
  }

  param(runId: string, key: string): string | undefined {
    return (
      this.sql('SELECT value FROM modelhub_params WHERE run_id = ? AND key = ?').get(runId, key) as
        { value: string } | undefined
    )?.value;
  }

  insertParam(runId: string, key: string, value: string): void {
    this.sql('INSERT INTO modelhub_params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
      runId,
      key,
      value,
    );
  }

  tags(runId: string): KeyValue[] {
    return this.sql('SELECT key, value FROM modelhub_run_tags WHERE run_id = ? ORDER BY rowid').all(
      runId,
    ) as KeyValue[];
  }

  setTag(runId: string, key: string, value: string): void {
    this.sql(
      `INSERT INTO modelhub_run_tags (run_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
    ).run(runId, key, value);
  }

  deleteTag(runId: string, key: string): boolean {
    return this.sql('DELETE FROM modelhub_run_tags WHERE run_id = ? AND key = ?').run(runId, key).changes > 0;
  }

  inputs(runId: string): RunInput[] {
    return (
      this.sql('SELECT * FROM modelhub_run_inputs WHERE run_id = ? ORDER BY created_at, rowid').all(runId) as InputRow[]
    ).map(toInput);
  }

  /**
   * Params, tags, latest metrics and inputs of many runs in one query per table (a search page), each in the
   * order a single run's read gives.
   */
  details(runIds: readonly string[]): Map<string, RunDetails> {
    this.flushPoints();
    const out = new Map<string, RunDetails>(
      runIds.map((id) => [id, { params: [], tags: [], metrics: [], inputs: [] }]),
    );
    for (let i = 0; i < runIds.length; i += 500) {
      const ids = runIds.slice(i, i + 500);
      const marks = ids.map(() => '?').join(',');
      const at = (id: string) => out.get(id) as RunDetails;
      for (const r of this.db
        .prepare(`SELECT run_id, key, value FROM modelhub_params WHERE run_id IN (${marks}) ORDER BY rowid`)
        .all(...ids) as (KeyValue & { run_id: string })[]) {
        at(r.run_id).params.push({ key: r.key, value: r.value });
      }
      for (const r of this.db
        .prepare(`SELECT run_id, key, value FROM modelhub_run_tags WHERE run_id IN (${marks}) ORDER BY rowid`)
        .all(...ids) as (KeyValue & { run_id: string })[]) {
        at(r.run_id).tags.push({ key: r.key, value: r.value });
      }
      for (const r of this.db
        .prepare(
          `SELECT run_id, key, last_step AS step, last_timestamp AS timestamp, last_value AS value, last_is_nan AS nan
           FROM modelhub_metric_series WHERE run_id IN (${marks}) ORDER BY id`,
        )
        .all(...ids) as {
        run_id: string;
        key: string;
        step: number;
        timestamp: number;
        value: number | null;
        nan: number;
      }[]) {
        at(r.run_id).metrics.push({
          key: r.key,
          step: r.step,
          timestamp: r.timestamp,
          value: r.nan === 1 ? Number.NaN : (r.value as number),
        });
      }
      for (const r of this.db
        .prepare(`SELECT * FROM modelhub_run_inputs WHERE run_id IN (${marks}) ORDER BY created_at, rowid`)
        .all(...ids) as (InputRow & { run_id: string })[]) {
        at(r.run_id).inputs.push(toInput(r));
      }
    }
    return out;
  }

  insertInput(runId: string, input: RunInput, at: number): void {
    this.sql(
      `INSERT INTO modelhub_run_inputs (run_id, name, digest, source_type, source, schema, profile, tags,
           dataset_version_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, name, digest) DO UPDATE SET tags = excluded.tags`,
    ).run(
      runId,
      input.name,
      input.digest,
      input.sourceType,
      input.source,
      input.schema,
      input.profile,
      JSON.stringify(input.tags),
      input.datasetVersionId,
      at,
    );
  }

  // Metrics

  /** The latest point of each of a run's metrics, in the order the metrics were first logged. */
  latestMetrics(runId: string): StoredPoint[] {
    this.flushPoints();
    const rows = this.sql(
      `SELECT key, last_step AS step, last_timestamp AS timestamp, last_value AS value, last_is_nan AS nan
         FROM modelhub_metric_series WHERE run_id = ? ORDER BY id`,
    ).all(runId) as { key: string; step: number; timestamp: number; value: number | null; nan: number }[];
    return rows.map((r) => ({
      key: r.key,
      step: r.step,
      timestamp: r.timestamp,
      value: r.nan === 1 ? Number.NaN : (r.value as number),
    }));
  }

  /**
   * Writes points into their chunks (one chunk per metric key) and updates each series' latest point, inside the
   * caller's transaction. Small chunks at the end of a series are merged once there are enough of them, so a series
   * logged one point at a time still ends up in large chunks.
   */
  private appendPoints(runId: string, points: readonly StoredPoint[]): void {
    const byKey = new Map<string, StoredPoint[]>();
    for (const p of points) {
      const list = byKey.get(p.key);
      if (list) list.push(p);
      else byKey.set(p.key, [p]);
    }
    const getSeries = this.sql('SELECT * FROM modelhub_metric_series WHERE run_id = ? AND key = ?');
    const insertSeries = this.sql(
      `INSERT INTO modelhub_metric_series (run_id, key, last_step, last_timestamp, last_value, last_is_nan, points,
         next_seq, tail_chunks, tail_points) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)`,
    );
    const insertChunk = this.sql(
      'INSERT INTO modelhub_metric_chunks (series_id, seq, points, min_step, max_step, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const updateSeries = this.sql(
      `UPDATE modelhub_metric_series SET last_step = ?, last_timestamp = ?, last_value = ?, last_is_nan = ?,
         points = ?, next_seq = ?, tail_chunks = ?, tail_points = ? WHERE id = ?`,
    );
    for (const [key, list] of byKey) {
      let series = getSeries.get(runId, key) as SeriesRow | undefined;
      if (!series) {
        const first = list[0] as StoredPoint;
        const nan = Number.isNaN(first.value);
        insertSeries.run(runId, key, first.step, first.timestamp, nan ? null : first.value, nan ? 1 : 0);
        series = getSeries.get(runId, key) as SeriesRow;
      }
      let latest = {
        step: series.last_step,
        timestamp: series.last_timestamp,
        value: series.last_is_nan === 1 ? Number.NaN : (series.last_value as number),
      };
      const chunk: MetricPoints = {
        steps: new Float64Array(list.length),
        timestamps: new Float64Array(list.length),
        values: new Float64Array(list.length),
      };
      for (let i = 0; i < list.length; i++) {
        const p = list[i] as StoredPoint;
        chunk.steps[i] = p.step;
        chunk.timestamps[i] = p.timestamp;
        chunk.values[i] = p.value;
        if (series.points === 0 && i === 0) latest = p;
        else if (isLater(p, latest)) latest = p;
      }
      let { next_seq: seq, tail_chunks: tailChunks, tail_points: tailPoints } = series;
      insertChunk.run(series.id, seq, list.length, minOf(chunk.steps), maxOf(chunk.steps), encodeChunk(chunk));
      seq++;
      if (list.length < SETTLED_POINTS || tailChunks > 0) {
        tailChunks++;
        tailPoints += list.length;
        if (tailChunks >= MAX_TAIL_CHUNKS || tailPoints >= SETTLED_POINTS) {
          this.mergeTail(series.id, seq - tailChunks, seq);
          // The merged chunk takes the first seq of the tail; it settles once large enough.
          const merged = tailPoints;
          seq = seq - tailChunks + 1;
          tailChunks = merged >= SETTLED_POINTS ? 0 : 1;
          tailPoints = merged >= SETTLED_POINTS ? 0 : merged;
        }
      }
      const nan = Number.isNaN(latest.value);
      updateSeries.run(
        latest.step,
        latest.timestamp,
        nan ? null : latest.value,
        nan ? 1 : 0,
        series.points + list.length,
        seq,
        tailChunks,
        tailPoints,
        series.id,
      );
    }
  }

  private mergeTail(seriesId: number, fromSeq: number, toSeq: number): void {
    const rows = this.sql(
      'SELECT data FROM modelhub_metric_chunks WHERE series_id = ? AND seq >= ? AND seq < ? ORDER BY seq',
    ).all(seriesId, fromSeq, toSeq) as { data: Buffer }[];
    const merged = concatPoints(rows.map((r) => decodeChunk(r.data)));
    this.sql('DELETE FROM modelhub_metric_chunks WHERE series_id = ? AND seq >= ? AND seq < ?').run(
      seriesId,
      fromSeq,
      toSeq,
    );
    this.sql(
      'INSERT INTO modelhub_metric_chunks (series_id, seq, points, min_step, max_step, data) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(seriesId, fromSeq, merged.steps.length, minOf(merged.steps), maxOf(merged.steps), encodeChunk(merged));
  }

  /**
   * Drops a run's points logged with a step after `afterStep` (all of them when it is null), so that a training job
   * resumed from a checkpoint logs those steps again without duplicates. Each series touched is rewritten as one
   * chunk; one left without points goes. Returns the series touched (their cached columns are stale).
   */
  truncatePoints(runId: string, afterStep: number | null): { id: number; key: string }[] {
    this.flushPoints();
    return this.transaction(() => {
      const series = this.sql(
        afterStep === null
          ? 'SELECT * FROM modelhub_metric_series WHERE run_id = ?'
          : `SELECT * FROM modelhub_metric_series s WHERE run_id = ? AND EXISTS
               (SELECT 1 FROM modelhub_metric_chunks c WHERE c.series_id = s.id AND c.max_step > ?)`,
      ).all(...(afterStep === null ? [runId] : [runId, afterStep])) as SeriesRow[];
      for (const s of series) {
        const chunks = this.sql('SELECT data FROM modelhub_metric_chunks WHERE series_id = ? ORDER BY seq')
          .pluck()
          .all(s.id) as Buffer[];
        this.sql('DELETE FROM modelhub_metric_chunks WHERE series_id = ?').run(s.id);
        const all = decodeChunks(chunks);
        const kept: number[] = [];
        if (afterStep !== null)
          for (let i = 0; i < all.steps.length; i++) if ((all.steps[i] as number) <= afterStep) kept.push(i);
        if (kept.length === 0) {
          this.sql('DELETE FROM modelhub_metric_series WHERE id = ?').run(s.id);
          continue;
        }
        const chunk: MetricPoints = {
          steps: Float64Array.from(kept, (i) => all.steps[i] as number),
          timestamps: Float64Array.from(kept, (i) => all.timestamps[i] as number),
          values: Float64Array.from(kept, (i) => all.values[i] as number),
        };
        let latest: StoredPoint | undefined;
        for (let i = 0; i < kept.length; i++) {
          const p = {
            key: s.key,
            step: chunk.steps[i] as number,
            timestamp: chunk.timestamps[i] as number,
            value: chunk.values[i] as number,
          };
          if (!latest || isLater(p, latest)) latest = p;
        }
        const last = latest as StoredPoint;
        this.sql(
          'INSERT INTO modelhub_metric_chunks (series_id, seq, points, min_step, max_step, data) VALUES (?, 0, ?, ?, ?, ?)',
        ).run(s.id, kept.length, minOf(chunk.steps), maxOf(chunk.steps), encodeChunk(chunk));
        const nan = Number.isNaN(last.value);
        const settled = kept.length >= SETTLED_POINTS;
        this.sql(
          `UPDATE modelhub_metric_series SET last_step = ?, last_timestamp = ?, last_value = ?, last_is_nan = ?,
             points = ?, next_seq = 1, tail_chunks = ?, tail_points = ? WHERE id = ?`,
        ).run(
          last.step,
          last.timestamp,
          nan ? null : last.value,
          nan ? 1 : 0,
          kept.length,
          settled ? 0 : 1,
          settled ? 0 : kept.length,
          s.id,
        );
      }
      return series.map((s) => ({ id: s.id, key: s.key }));
    });
  }

  /** Every point of one metric of a run, in the order they were logged; undefined when never logged. */
  history(runId: string, key: string): MetricPoints | undefined {
    this.flushPoints();
    // One query; a series gets its first chunk in the transaction that creates it, so no chunk means no series.
    const chunks = this.history$.all(runId, key) as Buffer[];
    return chunks.length === 0 ? undefined : decodeChunks(chunks);
  }

  /** The series among `runIds` × `keys` that exist, with their point counts (which change on every append). */
  seriesHeads(runIds: readonly string[], keys: readonly string[]): SeriesHead[] {
    this.flushPoints();
    return this.sql(
      `SELECT id, run_id AS runId, key, points FROM modelhub_metric_series
       WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(runIds), JSON.stringify(keys)) as SeriesHead[];
  }

  /** Which of these run ids exist (in any lifecycle stage). */
  existingRuns(runIds: readonly string[]): Set<string> {
    const rows = this.sql('SELECT id FROM modelhub_runs WHERE id IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(JSON.stringify(runIds)) as string[];
    return new Set(rows);
  }

  /**
   * The points of one series (by its id) from point `from` on, in logging order, decoding only the x columns
   * asked for. Chunks wholly before `from` are not read: a chart that has the first points decoded reads only
   * what was appended since.
   */
  seriesPointsFrom(seriesId: number, from: number, columns: PointColumns): MetricPoints {
    this.flushPoints();
    const sizes = this.sql('SELECT seq, points FROM modelhub_metric_chunks WHERE series_id = ? ORDER BY seq')
      .raw()
      .all(seriesId) as [number, number][];
    let before = 0;
    let firstSeq: number | undefined;
    for (const [seq, points] of sizes) {
      if (before + points > from) {
        firstSeq = seq;
        break;
      }
      before += points;
    }
    if (firstSeq === undefined) return decodeChunks([], columns);
    const chunks = this.sql('SELECT data FROM modelhub_metric_chunks WHERE series_id = ? AND seq >= ? ORDER BY seq')
      .pluck()
      .all(seriesId, firstSeq) as Buffer[];
    const all = decodeChunks(chunks, columns);
    const skip = from - before;
    if (skip === 0) return all;
    return {
      steps: all.steps.subarray(Math.min(skip, all.steps.length)),
      timestamps: all.timestamps.subarray(Math.min(skip, all.timestamps.length)),
      values: all.values.subarray(skip),
    };
  }

  private get history$(): Statement {
    return this.sql(
      `SELECT c.data FROM modelhub_metric_series s JOIN modelhub_metric_chunks c ON c.series_id = s.id
       WHERE s.run_id = ? AND s.key = ? ORDER BY c.seq`,
    ).pluck();
  }
}

// Indexed loops: an iterator over a typed array was ~2% of a 1,000-metric log-batch.
function minOf(xs: Float64Array): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) < m) m = xs[i] as number;
  return m;
}

function maxOf(xs: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) > m) m = xs[i] as number;
  return m;
}
