import { statement, type Db } from '#platform/db';
import {
  DeploymentSettings,
  type Deployment,
  type DeploymentEvent,
  type DeploymentRuntime,
  type DeploymentSource,
  type DeploymentState,
  type DeploymentTraffic,
  type RequestLogEntry,
} from '#shared/contracts/deploy';
import { newId } from '#shared/ids';
import type { RequestLogFilter } from './contract';

interface DeploymentRow {
  id: string;
  name: string;
  runtime: string;
  source: string;
  previous_source: string | null;
  traffic: string | null;
  settings: string;
  state: string;
  reason: string | null;
  model_kind: string | null;
  estimate: string | null;
  created_at: number;
  updated_at: number;
  loaded_at: number | null;
  last_request_at: number | null;
}

interface LogRow {
  id: string;
  deployment_id: string;
  at: number;
  endpoint: string;
  model_version: number | null;
  status: string;
  http_status: number;
  duration_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  input: string;
  output: string | null;
  error: string | null;
  truncated: number;
}

/** A deployment as stored; `placement` and `replicas` are the live part, filled in by the service. */
export type StoredDeployment = Omit<Deployment, 'placement' | 'replicas' | 'inputColumns'>;

export interface NewDeployment {
  name: string;
  runtime: DeploymentRuntime;
  source: DeploymentSource;
  settings: DeploymentSettings;
}

/** Request-log rows kept per deployment; older ones are dropped as new ones come. */
export const REQUEST_LOG_MAX_ROWS = 10_000;
const PRUNE_EVERY = 200;

/** The deploy service's tables: deployments, their state changes, and the request log. */
export class DeployStore {
  private insertsSincePrune = new Map<string, number>();
  /**
   * Deployments by id and by name, as last read: every inference request looks its deployment up, and a row read
   * and parsed (settings through zod, three JSON columns) per request was a measurable part of the request path.
   * This store is the only writer of the table: every write empties it.
   */
  private readonly cache = new Map<string, StoredDeployment>();

  constructor(private readonly db: Db) {}

  /** Prepared once per connection (#platform/db). */
  private prepare(sql: string) {
    return statement(this.db, sql);
  }

  private written(): void {
    this.cache.clear();
  }

  private toDeployment(r: DeploymentRow): StoredDeployment {
    const settings = DeploymentSettings.parse(JSON.parse(r.settings));
    return {
      ...settings,
      id: r.id,
      name: r.name,
      runtime: r.runtime as DeploymentRuntime,
      source: JSON.parse(r.source) as DeploymentSource,
      previousSource: r.previous_source === null ? null : (JSON.parse(r.previous_source) as DeploymentSource),
      traffic: r.traffic === null ? null : (JSON.parse(r.traffic) as DeploymentTraffic),
      state: r.state as DeploymentState,
      reason: r.reason,
      modelKind: r.model_kind,
      estimate: r.estimate === null ? null : (JSON.parse(r.estimate) as Deployment['estimate']),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      loadedAt: r.loaded_at,
      lastRequestAt: r.last_request_at,
    };
  }

  list(): StoredDeployment[] {
    return (this.prepare('SELECT * FROM deploy_deployments ORDER BY name').all() as DeploymentRow[]).map((r) =>
      this.toDeployment(r),
    );
  }

  /** By id or name (the same object until the next write: callers must not change it). */
  find(ref: string): StoredDeployment | undefined {
    const cached = this.cache.get(ref);
    if (cached) return cached;
    const row = this.prepare('SELECT * FROM deploy_deployments WHERE id = ? OR name = ?').get(ref, ref) as
      DeploymentRow | undefined;
    if (!row) return undefined;
    const d = this.toDeployment(row);
    this.cache.set(d.id, d);
    this.cache.set(d.name, d);
    return d;
  }

  insert(input: NewDeployment, message: string): StoredDeployment {
    const id = newId();
    const now = Date.now();
    this.db.transaction(() => {
      this.prepare(
        `INSERT INTO deploy_deployments (id, name, runtime, source, settings, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ).run(id, input.name, input.runtime, JSON.stringify(input.source), JSON.stringify(input.settings), now, now);
      this.addEvent(id, 'pending', message, now);
    })();
    this.written();
    return this.find(id) as StoredDeployment;
  }

  /** Moves to a state, recording the change as an event (with `message`). */
  setState(
    id: string,
    state: DeploymentState,
    message: string,
    extra: { reason?: string | null; modelKind?: string; estimate?: Deployment['estimate']; loadedAt?: number } = {},
  ): StoredDeployment {
    const now = Date.now();
    this.db.transaction(() => {
      this.prepare(
        `UPDATE deploy_deployments SET state = ?, reason = ?, updated_at = ?,
             model_kind = COALESCE(?, model_kind), estimate = COALESCE(?, estimate), loaded_at = COALESCE(?, loaded_at)
           WHERE id = ?`,
      ).run(
        state,
        extra.reason ?? null,
        now,
        extra.modelKind ?? null,
        extra.estimate ? JSON.stringify(extra.estimate) : null,
        extra.loadedAt ?? null,
        id,
      );
      this.addEvent(id, state, message, now);
    })();
    this.written();
    return this.find(id) as StoredDeployment;
  }

  /** The memory estimate after a change of settings that did not reload the model (its replica bounds). */
  setEstimate(id: string, estimate: NonNullable<Deployment['estimate']>): void {
    this.prepare('UPDATE deploy_deployments SET estimate = ? WHERE id = ?').run(JSON.stringify(estimate), id);
    this.written();
  }

  /**
   * New settings and, when the model changed, the new source (the current one becomes the previous); `traffic`
   * when given (null clears it).
   */
  update(
    id: string,
    change: {
      settings: DeploymentSettings;
      source?: DeploymentSource;
      previousSource?: DeploymentSource | null;
      traffic?: DeploymentTraffic | null;
    },
    message: string,
  ): StoredDeployment {
    const now = Date.now();
    const current = this.find(id) as StoredDeployment;
    const traffic = change.traffic === undefined ? current.traffic : change.traffic;
    this.db.transaction(() => {
      this.prepare(
        `UPDATE deploy_deployments SET settings = ?, source = ?, previous_source = ?, traffic = ?, updated_at = ?
           WHERE id = ?`,
      ).run(
        JSON.stringify(change.settings),
        JSON.stringify(change.source ?? current.source),
        change.source
          ? JSON.stringify(change.previousSource === undefined ? current.source : change.previousSource)
          : current.previousSource === null
            ? null
            : JSON.stringify(current.previousSource),
        traffic === null ? null : JSON.stringify(traffic),
        now,
        id,
      );
      this.addEvent(id, current.state, message, now);
    })();
    this.written();
    return this.find(id) as StoredDeployment;
  }

  /** Records something that happened to a deployment without a change of state (a scaling step). */
  note(id: string, message: string): StoredDeployment {
    const now = Date.now();
    const current = this.find(id) as StoredDeployment;
    this.db.transaction(() => {
      this.prepare('UPDATE deploy_deployments SET updated_at = ? WHERE id = ?').run(now, id);
      this.addEvent(id, current.state, message, now);
    })();
    this.written();
    return this.find(id) as StoredDeployment;
  }

  touch(id: string, at: number): void {
    this.prepare('UPDATE deploy_deployments SET last_request_at = ? WHERE id = ?').run(at, id);
    this.written();
  }

  delete(id: string): void {
    this.prepare('DELETE FROM deploy_deployments WHERE id = ?').run(id);
    this.insertsSincePrune.delete(id);
    this.written();
  }

  private addEvent(id: string, state: DeploymentState, message: string, at: number): void {
    this.prepare('INSERT INTO deploy_events (id, deployment_id, at, state, message) VALUES (?, ?, ?, ?, ?)').run(
      newId(at),
      id,
      at,
      state,
      message,
    );
  }

  events(id: string, limit: number): DeploymentEvent[] {
    const rows = this.prepare('SELECT * FROM deploy_events WHERE deployment_id = ? ORDER BY id DESC LIMIT ?').all(
      id,
      limit,
    ) as { id: string; deployment_id: string; at: number; state: string; message: string }[];
    return rows.map((r) => ({
      id: r.id,
      deploymentId: r.deployment_id,
      at: r.at,
      state: r.state as DeploymentState,
      message: r.message,
    }));
  }

  addLog(entry: RequestLogEntry): void {
    this.prepare(
      `INSERT INTO deploy_request_log (id, deployment_id, at, endpoint, model_version, status, http_status, duration_ms,
           prompt_tokens, completion_tokens, input, output, error, truncated)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      entry.id,
      entry.deploymentId,
      entry.at,
      entry.endpoint,
      entry.modelVersion,
      entry.status,
      entry.httpStatus,
      entry.durationMs,
      entry.promptTokens,
      entry.completionTokens,
      entry.input,
      entry.output,
      entry.error,
      entry.truncated ? 1 : 0,
    );
    const n = (this.insertsSincePrune.get(entry.deploymentId) ?? 0) + 1;
    this.insertsSincePrune.set(entry.deploymentId, n % PRUNE_EVERY);
    if (n >= PRUNE_EVERY) this.pruneLog(entry.deploymentId);
  }

  private pruneLog(id: string): void {
    this.prepare(
      `DELETE FROM deploy_request_log WHERE deployment_id = ? AND id < (
           SELECT id FROM deploy_request_log WHERE deployment_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ).run(id, id, REQUEST_LOG_MAX_ROWS - 1);
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  logs(
    id: string,
    limit: number,
    cursor: string | undefined,
    filter: RequestLogFilter = {},
  ): { items: RequestLogEntry[]; nextCursor: string | null } {
    const status = filter.status ?? null;
    const version = filter.version ?? null;
    const rows = this.prepare(
      `SELECT * FROM deploy_request_log WHERE deployment_id = ? AND (? IS NULL OR id < ?)
         AND (? IS NULL OR status = ?) AND (? IS NULL OR model_version = ?) ORDER BY id DESC LIMIT ?`,
    ).all(id, cursor ?? null, cursor ?? null, status, status, version, version, limit + 1) as LogRow[];
    const items = rows.slice(0, limit).map((r): RequestLogEntry => ({
      id: r.id,
      deploymentId: r.deployment_id,
      at: r.at,
      endpoint: r.endpoint,
      modelVersion: r.model_version,
      status: r.status as RequestLogEntry['status'],
      httpStatus: r.http_status,
      durationMs: r.duration_ms,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
      input: r.input,
      output: r.output,
      error: r.error,
      truncated: r.truncated === 1,
    }));
    return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }
}
