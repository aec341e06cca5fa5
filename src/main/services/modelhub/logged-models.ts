import { randomBytes } from 'node:crypto';
import type { Db } from '#platform/db';
import type { KeyValue } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import { decodePageToken, encodePageToken, type TrackingService } from './service';

export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export interface LoggedModel {
  id: string;
  experimentId: string;
  name: string;
  modelType: string | null;
  sourceRunId: string | null;
  status: LoggedModelStatus;
  statusMessage: string | null;
  artifactUri: string;
  createdAt: number;
  updatedAt: number;
  params: KeyValue[];
  tags: KeyValue[];
  /** Registered model versions made from it. */
  registrations: { name: string; version: number }[];
}

interface Row {
  id: string;
  experiment_id: number;
  name: string;
  model_type: string | null;
  source_run_id: string | null;
  status: string;
  status_message: string | null;
  artifact_uri: string;
  created_at: number;
  updated_at: number;
}

/** A logged model's artifact root below mlflow-artifacts:/ (where MLflow 3 clients upload its files). */
export function loggedModelRoot(experimentId: string, modelId: string): string {
  return `${experimentId}/models/${modelId}/artifacts`;
}

/**
 * MLflow 3's logged models: a model is created (PENDING) with its own artifact root, its files are uploaded
 * through the artifact proxy, then it is finalized (READY or UPLOAD_FAILED). Runs name the models they
 * produced (`runs/outputs`); registry versions may be made from a logged model.
 */
export class LoggedModels {
  constructor(
    private readonly db: Db,
    private readonly tracking: TrackingService,
  ) {}

  private row(id: string): Row {
    const row = /^m-[0-9a-f]{32}$/.test(id)
      ? (this.db.prepare('SELECT * FROM modelhub_logged_models WHERE id = ? AND deleted_at IS NULL').get(id) as
          Row | undefined)
      : undefined;
    if (!row) throw new AppError('NOT_FOUND', `Logged Model with ID '${id}' not found`, { model: id });
    return row;
  }

  private toModel(r: Row): LoggedModel {
    return {
      id: r.id,
      experimentId: String(r.experiment_id),
      name: r.name,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      status: r.status as LoggedModelStatus,
      statusMessage: r.status_message,
      artifactUri: r.artifact_uri,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      params: this.db
        .prepare('SELECT key, value FROM modelhub_logged_model_params WHERE model_id = ? ORDER BY rowid')
        .all(r.id) as KeyValue[],
      tags: this.db
        .prepare('SELECT key, value FROM modelhub_logged_model_tags WHERE model_id = ? ORDER BY rowid')
        .all(r.id) as KeyValue[],
      registrations: this.db
        .prepare(
          `SELECT m.name AS name, v.version AS version FROM modelhub_model_versions v
           JOIN modelhub_models m ON m.id = v.model_id WHERE v.logged_model_id = ? AND v.deleted_at IS NULL
           ORDER BY m.name, v.version`,
        )
        .all(r.id) as { name: string; version: number }[],
    };
  }

  create(input: {
    experimentId: string;
    name?: string | undefined;
    modelType?: string | undefined;
    sourceRunId?: string | undefined;
    params: KeyValue[];
    tags: KeyValue[];
  }): LoggedModel {
    const experiment = this.tracking.experiment(input.experimentId);
    if (experiment.lifecycleStage !== 'active') {
      throw new AppError('INVALID_ARGUMENT', `The experiment ${experiment.id} must be in the 'active' state.`, {
        field: 'experiment_id',
      });
    }
    if (input.sourceRunId) this.tracking.run(input.sourceRunId);
    const id = `m-${randomBytes(16).toString('hex')}`;
    const now = Date.now();
    const name = input.name || `model-${id.slice(2, 10)}`;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO modelhub_logged_models (id, experiment_id, name, model_type, source_run_id, status, artifact_uri,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?, ?)`,
        )
        .run(
          id,
          Number(experiment.id),
          name,
          input.modelType ?? null,
          input.sourceRunId ?? null,
          `mlflow-artifacts:/${loggedModelRoot(experiment.id, id)}`,
          now,
          now,
        );
      this.setParams(id, input.params);
      this.setTags(id, input.tags);
    })();
    return this.get(id);
  }

  get(id: string): LoggedModel {
    return this.toModel(this.row(id));
  }

  finalize(id: string, status: string): LoggedModel {
    this.row(id);
    if (status !== 'LOGGED_MODEL_READY' && status !== 'LOGGED_MODEL_UPLOAD_FAILED') {
      throw new AppError(
        'INVALID_ARGUMENT',
        `Invalid status '${status}': a logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED`,
        { field: 'status' },
      );
    }
    this.db
      .prepare('UPDATE modelhub_logged_models SET status = ?, updated_at = ? WHERE id = ?')
      .run(status, Date.now(), id);
    return this.get(id);
  }

  delete(id: string): void {
    this.row(id);
    this.db.prepare('UPDATE modelhub_logged_models SET deleted_at = ? WHERE id = ?').run(Date.now(), id);
  }

  setParams(id: string, params: readonly KeyValue[]): void {
    const insert = this.db.prepare(
      'INSERT INTO modelhub_logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const p of params) insert.run(id, p.key, p.value);
  }

  setTags(id: string, tags: readonly KeyValue[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO modelhub_logged_model_tags (model_id, key, value) VALUES (?, ?, ?)
       ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`,
    );
    for (const t of tags) upsert.run(id, t.key, t.value);
    if (tags.length > 0) {
      this.db.prepare('UPDATE modelhub_logged_models SET updated_at = ? WHERE id = ?').run(Date.now(), id);
    }
  }

  deleteTag(id: string, key: string): void {
    this.row(id);
    const removed = this.db
      .prepare('DELETE FROM modelhub_logged_model_tags WHERE model_id = ? AND key = ?')
      .run(id, key).changes;
    if (removed === 0) throw new AppError('NOT_FOUND', `No tag with key '${key}' on logged model ${id}`, { key });
  }

  /** Logged models of experiments, newest first (optionally one name), a page at a time. */
  search(query: {
    experimentIds: readonly string[];
    name?: string | undefined;
    maxResults?: number | undefined;
    pageToken?: string | undefined;
  }): { models: LoggedModel[]; nextPageToken: string | null } {
    const max = Math.min(query.maxResults ?? 50, 1000);
    const offset = decodePageToken(query.pageToken);
    if (query.experimentIds.length === 0) return { models: [], nextPageToken: null };
    const rows = this.db
      .prepare(
        `SELECT * FROM modelhub_logged_models WHERE deleted_at IS NULL
           AND experiment_id IN (${query.experimentIds.map(() => '?').join(', ')}) AND (? IS NULL OR name = ?)
         ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...query.experimentIds.map(Number), query.name ?? null, query.name ?? null, max, offset) as Row[];
    return {
      models: rows.map((r) => this.toModel(r)),
      nextPageToken: rows.length === max ? encodePageToken(offset + max) : null,
    };
  }

  /** Records which models a run produced (MLflow 3's `runs/outputs`). */
  logOutputs(runId: string, outputs: readonly { modelId: string; step: number }[]): void {
    this.tracking.run(runId);
    for (const o of outputs) this.row(o.modelId);
    const insert = this.db.prepare(
      `INSERT INTO modelhub_run_outputs (run_id, model_id, step) VALUES (?, ?, ?)
       ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step`,
    );
    this.db.transaction(() => {
      for (const o of outputs) insert.run(runId, o.modelId, o.step);
    })();
  }

  outputsOf(runId: string): { modelId: string; step: number }[] {
    return this.db
      .prepare('SELECT model_id AS modelId, step FROM modelhub_run_outputs WHERE run_id = ? ORDER BY rowid')
      .all(runId) as { modelId: string; step: number }[];
  }
}
