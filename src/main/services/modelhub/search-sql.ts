import { AppError } from '#shared/errors';
import type { FilterClause, OrderClause } from './search-filter';

/** A piece of SQL with its bound values, in order. */
export interface SqlPart {
  sql: string;
  params: unknown[];
}

const SQL_OPS = new Set(['=', '!=', '>', '>=', '<', '<=']);

/** MLflow's LIKE is case-sensitive; SQLite's is not, so it becomes a GLOB with `%`/`_` translated. */
function likeToGlob(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '%') out += '*';
    else if (ch === '_') out += '?';
    else if (ch === '*' || ch === '?' || ch === '[' || ch === ']') out += `[${ch}]`;
    else out += ch;
  }
  return out;
}

/** `column <op> value` for a string or number column. */
function compare(column: string, c: FilterClause): SqlPart {
  switch (c.comparator) {
    case 'LIKE':
      return { sql: `${column} GLOB ?`, params: [likeToGlob(String(c.value))] };
    case 'ILIKE':
      return { sql: `${column} LIKE ?`, params: [String(c.value)] };
    case 'IN':
    case 'NOT IN': {
      const values = Array.isArray(c.value) ? c.value : [String(c.value)];
      return {
        sql: `${column} ${c.comparator} (${values.map(() => '?').join(', ')})`,
        params: values,
      };
    }
    default:
      if (!SQL_OPS.has(c.comparator)) throw AppError.invalid('filter', `comparator '${c.comparator}' is not supported`);
      return { sql: `${column} ${c.comparator} ?`, params: [c.value] };
  }
}

const RUN_ATTRIBUTES: Record<string, string> = {
  status: 'r.status',
  run_name: 'r.name',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  run_id: 'r.id',
  lifecycle_stage: 'r.lifecycle_stage',
};

function runAttribute(key: string): string {
  const column = RUN_ATTRIBUTES[key];
  if (!column) {
    throw AppError.invalid(
      'filter',
      `invalid attribute key '${key}': one of ${Object.keys(RUN_ATTRIBUTES)
        .map((k) => `'${k}'`)
        .join(', ')}`,
    );
  }
  return column;
}

/** The WHERE conditions (over `r`, modelhub_runs) of a parsed runs/search filter. */
export function runFilterSql(clauses: readonly FilterClause[]): SqlPart {
  const parts = clauses.map((c): SqlPart => {
    switch (c.entity) {
      case 'metric': {
        const cmp = compare('m.last_value', c);
        return {
          sql: `EXISTS (SELECT 1 FROM modelhub_metric_series m WHERE m.run_id = r.id AND m.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        };
      }
      case 'param': {
        const cmp = compare('p.value', c);
        return {
          sql: `EXISTS (SELECT 1 FROM modelhub_params p WHERE p.run_id = r.id AND p.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        };
      }
      case 'tag': {
        const cmp = compare('t.value', c);
        return {
          sql: `EXISTS (SELECT 1 FROM modelhub_run_tags t WHERE t.run_id = r.id AND t.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        };
      }
      case 'attribute':
        return compare(runAttribute(c.key), c);
      case 'dataset': {
        if (c.key === 'context') {
          const cmp = compare("json_extract(t.value, '$.value')", c);
          return {
            sql: `EXISTS (SELECT 1 FROM modelhub_run_inputs i, json_each(i.tags) t WHERE i.run_id = r.id
              AND json_extract(t.value, '$.key') = 'mlflow.data.context' AND ${cmp.sql})`,
            params: cmp.params,
          };
        }
        if (c.key !== 'name' && c.key !== 'digest') {
          throw AppError.invalid('filter', `invalid dataset key '${c.key}': one of 'name', 'digest', 'context'`);
        }
        const cmp = compare(`i.${c.key}`, c);
        return {
          sql: `EXISTS (SELECT 1 FROM modelhub_run_inputs i WHERE i.run_id = r.id AND ${cmp.sql})`,
          params: cmp.params,
        };
      }
    }
  });
  return join(parts);
}

/** ORDER BY terms for runs/search; ties fall back to newest first, then id (MLflow's default order). */
export function runOrderSql(orders: readonly OrderClause[]): SqlPart {
  const terms: SqlPart[] = orders.map((o) => {
    const dir = o.ascending ? 'ASC' : 'DESC';
    switch (o.entity) {
      case 'metric':
        return {
          sql: `(SELECT m.last_value FROM modelhub_metric_series m WHERE m.run_id = r.id AND m.key = ?) ${dir} NULLS LAST`,
          params: [o.key],
        };
      case 'param':
        return {
          sql: `(SELECT p.value FROM modelhub_params p WHERE p.run_id = r.id AND p.key = ?) ${dir} NULLS LAST`,
          params: [o.key],
        };
      case 'tag':
        return {
          sql: `(SELECT t.value FROM modelhub_run_tags t WHERE t.run_id = r.id AND t.key = ?) ${dir} NULLS LAST`,
          params: [o.key],
        };
      case 'attribute':
        return { sql: `${runAttribute(o.key)} ${dir}`, params: [] };
      case 'dataset':
        throw AppError.invalid('order_by', 'runs cannot be ordered by dataset');
    }
  });
  terms.push({ sql: 'r.start_time DESC, r.id ASC', params: [] });
  return { sql: terms.map((t) => t.sql).join(', '), params: terms.flatMap((t) => t.params) };
}

const EXPERIMENT_ATTRIBUTES: Record<string, string> = {
  name: 'e.name',
  creation_time: 'e.created_at',
  last_update_time: 'e.updated_at',
  experiment_id: 'e.id',
};

function experimentAttribute(key: string): string {
  const column = EXPERIMENT_ATTRIBUTES[key];
  if (!column) {
    throw AppError.invalid(
      'filter',
      `invalid attribute key '${key}': one of ${Object.keys(EXPERIMENT_ATTRIBUTES)
        .map((k) => `'${k}'`)
        .join(', ')}`,
    );
  }
  return column;
}

/** The WHERE conditions (over `e`, modelhub_experiments) of a parsed experiments/search filter. */
export function experimentFilterSql(clauses: readonly FilterClause[]): SqlPart {
  return join(
    clauses.map((c): SqlPart => {
      if (c.entity === 'tag') {
        const cmp = compare('t.value', c);
        return {
          sql: `EXISTS (SELECT 1 FROM modelhub_experiment_tags t WHERE t.experiment_id = e.id AND t.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        };
      }
      if (c.entity !== 'attribute') throw AppError.invalid('filter', `experiments have no ${c.entity}s to filter on`);
      return compare(experimentAttribute(c.key), c);
    }),
  );
}

export function experimentOrderSql(orders: readonly OrderClause[]): SqlPart {
  const terms = orders.map((o) => {
    if (o.entity !== 'attribute') throw AppError.invalid('order_by', `experiments are ordered by attributes only`);
    return `${experimentAttribute(o.key)} ${o.ascending ? 'ASC' : 'DESC'}`;
  });
  terms.push('e.created_at DESC', 'e.id ASC');
  return { sql: terms.join(', '), params: [] };
}

function join(parts: readonly SqlPart[]): SqlPart {
  if (parts.length === 0) return { sql: '1 = 1', params: [] };
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}
