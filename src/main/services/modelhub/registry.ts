import type { Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { KeyValue } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import { parseModelFilter, parseModelOrderBy, type FilterClause, type OrderClause } from './search-filter';
import { encodePageToken, decodePageToken } from './service';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

export interface ModelVersion {
  name: string;
  version: number;
  description: string;
  source: string;
  runId: string | null;
  runLink: string;
  userId: string;
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  stage: Stage;
  format: string;
  signature: unknown;
  createdAt: number;
  updatedAt: number;
  tags: KeyValue[];
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  tags: KeyValue[];
  aliases: { alias: string; version: number }[];
  /** The newest version in each stage that has one. */
  latestVersions: ModelVersion[];
}

export interface AliasMove {
  kind: 'alias' | 'stage';
  name: string;
  /** Null when the alias was removed. */
  version: number | null;
  previousVersion: number | null;
  actor: string;
  at: number;
}

interface ModelRow {
  id: number;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  model_id: number;
  version: number;
  description: string;
  source: string;
  run_id: string | null;
  run_link: string;
  user_id: string;
  status: string;
  stage: string;
  format: string;
  signature: string | null;
  created_at: number;
  updated_at: number;
}

const ALIAS_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Asked before an alias moves to another version; it refuses the move by throwing (an AppError saying why). Services
 * above ModelHub (EvalKit's gates) register one, so ModelHub consults them without importing them.
 */
export type AliasGuard = (move: { model: string; alias: string; version: number }) => void;

function invalid(message: string, field: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { field });
}

/**
 * The model registry: registered models, their numbered versions (from a run's artifacts or an uploaded
 * file), tags, stages and aliases. Every alias or stage move is recorded with who made it, so "which version
 * was champion on the 3rd" has an answer.
 */
export class RegistryService {
  private readonly aliasGuards: AliasGuard[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /** Adds a guard asked before every alias move, through the REST and the MLflow APIs alike. */
  addAliasGuard(guard: AliasGuard): void {
    this.aliasGuards.push(guard);
  }

  private modelRow(name: string): ModelRow {
    const row = this.db.prepare('SELECT * FROM modelhub_models WHERE name = ?').get(name) as ModelRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `Registered Model with name=${name} not found`, { model: name });
    return row;
  }

  private versionRow(model: ModelRow, version: string | number): VersionRow {
    const n = typeof version === 'number' ? version : /^\d+$/.test(version) ? Number(version) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw invalid(`Model version must be an integer, got '${version}'`, 'version');
    const row = this.db
      .prepare('SELECT * FROM modelhub_model_versions WHERE model_id = ? AND version = ? AND deleted_at IS NULL')
      .get(model.id, n) as VersionRow | undefined;
    if (!row) {
      throw new AppError('NOT_FOUND', `Model Version (name=${model.name}, version=${n}) not found`, {
        model: model.name,
        version: n,
      });
    }
    return row;
  }

  private toVersion(model: ModelRow, r: VersionRow): ModelVersion {
    return {
      name: model.name,
      version: r.version,
      description: r.description,
      source: r.source,
      runId: r.run_id,
      runLink: r.run_link,
      userId: r.user_id,
      status: r.status as ModelVersion['status'],
      stage: r.stage as Stage,
      format: r.format,
      signature: r.signature === null ? null : (JSON.parse(r.signature) as unknown),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      tags: this.db
        .prepare('SELECT key, value FROM modelhub_model_version_tags WHERE model_id = ? AND version = ? ORDER BY rowid')
        .all(model.id, r.version) as KeyValue[],
      aliases: (
        this.db
          .prepare('SELECT alias FROM modelhub_aliases WHERE model_id = ? AND version = ? ORDER BY alias')
          .all(model.id, r.version) as { alias: string }[]
      ).map((a) => a.alias),
    };
  }

  private toModel(r: ModelRow): RegisteredModel {
    const latest = this.db
      .prepare(
        `SELECT v.* FROM modelhub_model_versions v WHERE v.model_id = ? AND v.deleted_at IS NULL
           AND v.version = (SELECT MAX(w.version) FROM modelhub_model_versions w
                            WHERE w.model_id = v.model_id AND w.stage = v.stage AND w.deleted_at IS NULL)
         ORDER BY v.version`,
      )
      .all(r.id) as VersionRow[];
    return {
      name: r.name,
      description: r.description,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      tags: this.db
        .prepare('SELECT key, value FROM modelhub_model_tags WHERE model_id = ? ORDER BY rowid')
        .all(r.id) as KeyValue[],
      aliases: this.db
        .prepare('SELECT alias, version FROM modelhub_aliases WHERE model_id = ? ORDER BY alias')
        .all(r.id) as { alias: string; version: number }[],
      // Stage aliases are not shown on latest versions (MLflow's answer leaves them out there).
      latestVersions: latest.map((v) => ({ ...this.toVersion(r, v), aliases: [] })),
    };
  }

  createModel(input: {
    name: string;
    description?: string | undefined;
    tags?: KeyValue[] | undefined;
  }): RegisteredModel {
    const name = input.name?.trim() ?? '';
    if (name === '') throw invalid('Registered model name cannot be empty.', 'name');
    if (this.db.prepare('SELECT 1 FROM modelhub_models WHERE name = ?').get(name)) {
      throw new AppError('CONFLICT', `Registered Model (name=${name}) already exists.`, { name });
    }
    const now = Date.now();
    this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare('INSERT INTO modelhub_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)')
          .run(name, input.description ?? '', now, now).lastInsertRowid,
      );
      const tag = this.db.prepare('INSERT OR REPLACE INTO modelhub_model_tags (model_id, key, value) VALUES (?, ?, ?)');
      for (const t of input.tags ?? []) tag.run(id, t.key, t.value);
    })();
    const model = this.model(name);
    this.bus.emit('model.created', { name: model.name });
    return model;
  }

  model(name: string): RegisteredModel {
    return this.toModel(this.modelRow(name));
  }

  updateModel(name: string, description: string): RegisteredModel {
    const row = this.modelRow(name);
    this.db
      .prepare('UPDATE modelhub_models SET description = ?, updated_at = ? WHERE id = ?')
      .run(description, Date.now(), row.id);
    return this.model(name);
  }

  renameModel(name: string, newName: string): RegisteredModel {
    const row = this.modelRow(name);
    if (newName.trim() === '') throw invalid('Registered model name cannot be empty.', 'new_name');
    if (this.db.prepare('SELECT 1 FROM modelhub_models WHERE name = ?').get(newName)) {
      throw new AppError('CONFLICT', `Registered Model (name=${newName}) already exists.`, { name: newName });
    }
    this.db
      .prepare('UPDATE modelhub_models SET name = ?, updated_at = ? WHERE id = ?')
      .run(newName, Date.now(), row.id);
    return this.model(newName);
  }

  deleteModel(name: string): void {
    const row = this.modelRow(name);
    this.db.prepare('DELETE FROM modelhub_models WHERE id = ?').run(row.id);
  }

  setModelTag(name: string, key: string, value: string): void {
    const row = this.modelRow(name);
    this.db
      .prepare(
        `INSERT INTO modelhub_model_tags (model_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`,
      )
      .run(row.id, key, value);
  }

  deleteModelTag(name: string, key: string): void {
    const row = this.modelRow(name);
    if (
      this.db.prepare('DELETE FROM modelhub_model_tags WHERE model_id = ? AND key = ?').run(row.id, key).changes === 0
    ) {
      throw new AppError('NOT_FOUND', `No tag with key '${key}' on registered model '${name}'`, { key });
    }
  }

  createVersion(input: {
    name: string;
    source: string;
    runId?: string | undefined;
    runLink?: string | undefined;
    description?: string | undefined;
    tags?: KeyValue[] | undefined;
    userId?: string | undefined;
    format?: string | undefined;
    signature?: unknown;
    /** The MLflow 3 logged model it was made from. */
    loggedModelId?: string | undefined;
  }): ModelVersion {
    const model = this.modelRow(input.name);
    if (input.source.trim() === '') throw invalid('Model version source cannot be empty.', 'source');
    const now = Date.now();
    const version = this.db.transaction(() => {
      const next =
        ((
          this.db.prepare('SELECT MAX(version) AS v FROM modelhub_model_versions WHERE model_id = ?').get(model.id) as {
            v: number | null;
          }
        ).v ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO modelhub_model_versions (model_id, version, description, source, run_id, run_link, user_id, status,
             stage, format, signature, created_at, updated_at, logged_model_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'READY', 'None', ?, ?, ?, ?, ?)`,
        )
        .run(
          model.id,
          next,
          input.description ?? '',
          input.source,
          input.runId ?? null,
          input.runLink ?? '',
          input.userId ?? '',
          input.format ?? 'mlflow',
          input.signature === undefined || input.signature === null ? null : JSON.stringify(input.signature),
          now,
          now,
          input.loggedModelId ?? null,
        );
      const tag = this.db.prepare(
        'INSERT OR REPLACE INTO modelhub_model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)',
      );
      for (const t of input.tags ?? []) tag.run(model.id, next, t.key, t.value);
      this.db.prepare('UPDATE modelhub_models SET updated_at = ? WHERE id = ?').run(now, model.id);
      return next;
    })();
    this.bus.emit('model.version.created', { name: model.name, version });
    return this.version(model.name, version);
  }

  version(name: string, version: string | number): ModelVersion {
    const model = this.modelRow(name);
    return this.toVersion(model, this.versionRow(model, version));
  }

  updateVersion(name: string, version: string, description: string | undefined): ModelVersion {
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    this.db
      .prepare(
        'UPDATE modelhub_model_versions SET description = COALESCE(?, description), updated_at = ? WHERE model_id = ? AND version = ?',
      )
      .run(description ?? null, Date.now(), model.id, row.version);
    return this.version(name, row.version);
  }

  deleteVersion(name: string, version: string, actor: string): void {
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    const now = Date.now();
    this.db.transaction(() => {
      const aliases = this.db
        .prepare('SELECT alias FROM modelhub_aliases WHERE model_id = ? AND version = ?')
        .all(model.id, row.version) as { alias: string }[];
      for (const a of aliases) this.recordMove(model.id, 'alias', a.alias, null, row.version, actor, now);
      this.db.prepare('DELETE FROM modelhub_aliases WHERE model_id = ? AND version = ?').run(model.id, row.version);
      // Kept as a tombstone so version numbers are never reused and the history stays readable.
      this.db
        .prepare('UPDATE modelhub_model_versions SET deleted_at = ?, updated_at = ? WHERE model_id = ? AND version = ?')
        .run(now, now, model.id, row.version);
    })();
  }

  setVersionTag(name: string, version: string, key: string, value: string): void {
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    this.db
      .prepare(
        `INSERT INTO modelhub_model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value`,
      )
      .run(model.id, row.version, key, value);
  }

  deleteVersionTag(name: string, version: string, key: string): void {
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    const removed = this.db
      .prepare('DELETE FROM modelhub_model_version_tags WHERE model_id = ? AND version = ? AND key = ?')
      .run(model.id, row.version, key).changes;
    if (removed === 0)
      throw new AppError('NOT_FOUND', `No tag with key '${key}' on ${name} version ${row.version}`, { key });
  }

  private recordMove(
    modelId: number,
    kind: 'alias' | 'stage',
    name: string,
    version: number | null,
    previous: number | null,
    actor: string,
    at: number,
  ): void {
    this.db
      .prepare(
        `INSERT INTO modelhub_alias_history (model_id, kind, name, version, previous_version, actor, at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(modelId, kind, name, version, previous, actor, at);
  }

  /**
   * Asks the alias guards whether aliases may be set on the version a model's next `createVersion` makes: a
   * registration with aliases is refused before anything is written.
   */
  checkNewVersionAliases(name: string, aliases: readonly string[]): void {
    const model = this.modelRow(name);
    const last = this.db
      .prepare('SELECT MAX(version) AS v FROM modelhub_model_versions WHERE model_id = ?')
      .get(model.id) as { v: number | null };
    for (const alias of aliases) this.checkAliasMove(model, alias, (last.v ?? 0) + 1);
  }

  /** The guards, when the alias would move to another version than the one it names now. */
  private checkAliasMove(model: ModelRow, alias: string, version: number): void {
    const current = this.db
      .prepare('SELECT version FROM modelhub_aliases WHERE model_id = ? AND alias = ?')
      .get(model.id, alias) as { version: number } | undefined;
    if (current?.version === version) return;
    for (const guard of this.aliasGuards) guard({ model: model.name, alias, version });
  }

  setAlias(name: string, alias: string, version: string, actor: string): void {
    if (!ALIAS_PATTERN.test(alias) || /^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') {
      throw invalid(
        `Invalid alias name '${alias}': letters, digits, '_' and '-' only, and not 'latest' or v<number> (those name versions).`,
        'alias',
      );
    }
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    this.checkAliasMove(model, alias, row.version);
    const now = Date.now();
    this.db.transaction(() => {
      const previous = this.db
        .prepare('SELECT version FROM modelhub_aliases WHERE model_id = ? AND alias = ?')
        .get(model.id, alias) as { version: number } | undefined;
      if (previous?.version === row.version) return;
      this.db
        .prepare(
          `INSERT INTO modelhub_aliases (model_id, alias, version) VALUES (?, ?, ?)
           ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version`,
        )
        .run(model.id, alias, row.version);
      this.recordMove(model.id, 'alias', alias, row.version, previous?.version ?? null, actor, now);
    })();
    this.bus.emit('model.alias.moved', { name: model.name, alias, version: row.version, actor });
  }

  deleteAlias(name: string, alias: string, actor: string): void {
    const model = this.modelRow(name);
    const previous = this.db
      .prepare('SELECT version FROM modelhub_aliases WHERE model_id = ? AND alias = ?')
      .get(model.id, alias) as { version: number } | undefined;
    if (!previous) throw invalid(`Registered model alias ${alias} not found.`, 'alias');
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM modelhub_aliases WHERE model_id = ? AND alias = ?').run(model.id, alias);
      this.recordMove(model.id, 'alias', alias, null, previous.version, actor, Date.now());
    })();
    this.bus.emit('model.alias.moved', { name: model.name, alias, version: null, actor });
  }

  versionByAlias(name: string, alias: string): ModelVersion {
    const model = this.modelRow(name);
    const row = this.db
      .prepare('SELECT version FROM modelhub_aliases WHERE model_id = ? AND alias = ?')
      .get(model.id, alias) as { version: number } | undefined;
    if (!row) throw invalid(`Registered model alias ${alias} not found.`, 'alias');
    return this.version(name, row.version);
  }

  transitionStage(name: string, version: string, stage: string, archiveExisting: boolean, actor: string): ModelVersion {
    const wanted = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
    if (!wanted)
      throw invalid(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`, 'stage');
    const model = this.modelRow(name);
    const row = this.versionRow(model, version);
    const now = Date.now();
    this.db.transaction(() => {
      if (archiveExisting && (wanted === 'Staging' || wanted === 'Production')) {
        const others = this.db
          .prepare(
            'SELECT version FROM modelhub_model_versions WHERE model_id = ? AND stage = ? AND version <> ? AND deleted_at IS NULL',
          )
          .all(model.id, wanted, row.version) as { version: number }[];
        for (const o of others) {
          this.db
            .prepare(
              "UPDATE modelhub_model_versions SET stage = 'Archived', updated_at = ? WHERE model_id = ? AND version = ?",
            )
            .run(now, model.id, o.version);
          this.recordMove(model.id, 'stage', 'Archived', o.version, null, actor, now);
        }
      }
      this.db
        .prepare('UPDATE modelhub_model_versions SET stage = ?, updated_at = ? WHERE model_id = ? AND version = ?')
        .run(wanted, now, model.id, row.version);
      this.recordMove(model.id, 'stage', wanted, row.version, null, actor, now);
    })();
    return this.version(name, row.version);
  }

  /** Every alias and stage move of a model, oldest first. */
  history(name: string): AliasMove[] {
    const model = this.modelRow(name);
    const rows = this.db
      .prepare('SELECT * FROM modelhub_alias_history WHERE model_id = ? ORDER BY at, id')
      .all(model.id) as {
      kind: string;
      name: string;
      version: number | null;
      previous_version: number | null;
      actor: string;
      at: number;
    }[];
    return rows.map((r) => ({
      kind: r.kind as AliasMove['kind'],
      name: r.name,
      version: r.version,
      previousVersion: r.previous_version,
      actor: r.actor,
      at: r.at,
    }));
  }

  searchModels(query: {
    filter?: string | undefined;
    maxResults?: number | undefined;
    orderBy?: readonly string[] | undefined;
    pageToken?: string | undefined;
  }): { models: RegisteredModel[]; nextPageToken: string | null } {
    const max = query.maxResults ?? 100;
    const offset = decodePageToken(query.pageToken);
    const where = modelWhere(parseModelFilter(query.filter ?? '', 'registered_model'), 'm');
    const order = modelOrder(
      (query.orderBy ?? []).map((o) => parseModelOrderBy(o, 'registered_model')),
      'm',
    );
    const rows = this.db
      .prepare(`SELECT m.* FROM modelhub_models m WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, max, offset) as ModelRow[];
    return {
      models: rows.map((r) => this.toModel(r)),
      nextPageToken: rows.length === max ? encodePageToken(offset + max) : null,
    };
  }

  searchVersions(query: {
    filter?: string | undefined;
    maxResults?: number | undefined;
    orderBy?: readonly string[] | undefined;
    pageToken?: string | undefined;
  }): { versions: ModelVersion[]; nextPageToken: string | null } {
    const max = query.maxResults ?? 10_000;
    const offset = decodePageToken(query.pageToken);
    const where = modelWhere(parseModelFilter(query.filter ?? '', 'model_version'), 'v');
    const order = modelOrder(
      (query.orderBy ?? []).map((o) => parseModelOrderBy(o, 'model_version')),
      'v',
    );
    const rows = this.db
      .prepare(
        `SELECT v.*, m.name AS model_name, m.id AS mid, m.description AS model_description, m.created_at AS m_created,
           m.updated_at AS m_updated
         FROM modelhub_model_versions v JOIN modelhub_models m ON m.id = v.model_id
         WHERE v.deleted_at IS NULL AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
      )
      .all(...where.params, max, offset) as (VersionRow & {
      model_name: string;
      mid: number;
      model_description: string;
      m_created: number;
      m_updated: number;
    })[];
    return {
      versions: rows.map((r) =>
        this.toVersion(
          {
            id: r.mid,
            name: r.model_name,
            description: r.model_description,
            created_at: r.m_created,
            updated_at: r.m_updated,
          },
          r,
        ),
      ),
      nextPageToken: rows.length === max ? encodePageToken(offset + max) : null,
    };
  }

  /** Versions made from a run's artifacts (for lineage). */
  versionsOfRun(runId: string): ModelVersion[] {
    return this.searchVersions({ filter: `run_id = '${runId}'` }).versions;
  }
}

const MODEL_COLUMNS: Record<string, Record<string, string>> = {
  m: { name: 'm.name', creation_timestamp: 'm.created_at', last_updated_timestamp: 'm.updated_at' },
  v: {
    name: 'm.name',
    version_number: 'v.version',
    run_id: 'v.run_id',
    source_path: 'v.source',
    creation_timestamp: 'v.created_at',
    last_updated_timestamp: 'v.updated_at',
  },
};

function modelColumn(alias: 'm' | 'v', key: string): string {
  const column = MODEL_COLUMNS[alias]?.[key];
  if (!column) throw invalid(`Invalid attribute key '${key}' specified.`, 'filter');
  return column;
}

function likeToGlob(pattern: string): string {
  return [...pattern]
    .map((ch) => (ch === '%' ? '*' : ch === '_' ? '?' : '*?[]'.includes(ch) ? `[${ch}]` : ch))
    .join('');
}

function modelWhere(clauses: readonly FilterClause[], alias: 'm' | 'v'): { sql: string; params: unknown[] } {
  const parts = clauses.map((c) => {
    let column: string;
    if (c.entity === 'tag') {
      column =
        alias === 'm'
          ? '(SELECT t.value FROM modelhub_model_tags t WHERE t.model_id = m.id AND t.key = ?)'
          : '(SELECT t.value FROM modelhub_model_version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ?)';
    } else column = modelColumn(alias, c.key);
    const keyParams = c.entity === 'tag' ? [c.key] : [];
    switch (c.comparator) {
      case 'LIKE':
        return { sql: `${column} GLOB ?`, params: [...keyParams, likeToGlob(String(c.value))] };
      case 'ILIKE':
        return { sql: `${column} LIKE ?`, params: [...keyParams, String(c.value)] };
      case 'IN':
      case 'NOT IN': {
        const values = Array.isArray(c.value) ? c.value : [String(c.value)];
        return {
          sql: `${column} ${c.comparator} (${values.map(() => '?').join(', ')})`,
          params: [...keyParams, ...values],
        };
      }
      default:
        return { sql: `${column} ${c.comparator} ?`, params: [...keyParams, c.value] };
    }
  });
  if (parts.length === 0) return { sql: '1 = 1', params: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}

function modelOrder(orders: readonly OrderClause[], alias: 'm' | 'v'): string {
  const terms = orders.map((o) => `${modelColumn(alias, o.key)} ${o.ascending ? 'ASC' : 'DESC'}`);
  terms.push(alias === 'm' ? 'm.name ASC' : 'm.name ASC, v.version ASC');
  return terms.join(', ');
}
