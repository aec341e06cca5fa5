import { AppError } from '#shared/errors';

/**
 * MLflow's search grammar (`mlflow/utils/search_utils.py`: SearchUtils, SearchExperimentsUtils, SearchModelUtils,
 * SearchModelVersionUtils), parsed by hand rather than through a SQL tokenizer:
 *
 *   filter  := clause (AND clause)*            -- AND only: no OR, NOT or parentheses
 *   clause  := identifier comparator value
 *   identifier := [entity '.'] key             -- a bare key is an attribute
 *   value   := number | 'string' | "string" | ('a', 'b', ...)
 *
 * Entities and keys may be quoted with backticks or double quotes (keys also with single quotes); an unquoted
 * key may contain dots (`tags.mlflow.runName`). Keywords (AND, LIKE, ILIKE, IN, NOT IN) and ASC/DESC are
 * case-insensitive; entity prefixes are too (MLflow's are not); attribute keys are case-sensitive.
 *
 * The clauses come back validated and normalized: comparators upper-case, attribute aliases resolved
 * (`created` → `start_time`, `Run name` → `run_name`, `timestamp` → `creation_timestamp`), metric and
 * numeric-attribute values as numbers, string values unquoted, `IN` lists as string arrays. Compiling them to
 * SQL is the store's job.
 */

export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface FilterClause {
  entity: FilterEntity;
  key: string;
  comparator: Comparator;
  /** A number for metrics and numeric attributes, a string otherwise, a non-empty array for IN / NOT IN. */
  value: string | number | string[];
}

export interface OrderClause {
  entity: FilterEntity;
  key: string;
  ascending: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Grammars: which entities, keys, comparators and value types each search accepts.

interface KeySpec {
  type: 'number' | 'string';
  comparators: readonly Comparator[];
  /** Whether IN / NOT IN with a list is allowed (when the comparators include them). */
  lists?: boolean;
}

const NUMERIC: KeySpec = { type: 'number', comparators: ['=', '!=', '>', '>=', '<', '<='] };
const STRING: KeySpec = { type: 'string', comparators: ['=', '!=', 'LIKE', 'ILIKE'] };
const STRING_OR_LIST: KeySpec = { type: 'string', comparators: [...STRING.comparators, 'IN', 'NOT IN'], lists: true };
/** Model versions accept `run_id IN (...)` but not NOT IN (SearchModelVersionUtils). */
const STRING_OR_IN_LIST: KeySpec = { type: 'string', comparators: [...STRING.comparators, 'IN'], lists: true };

interface FilterGrammar {
  /** Accepted entity prefixes (lower case) and what they mean. */
  entities: ReadonlyMap<string, FilterEntity>;
  /** Spec for any key of a free-keyed entity (metric, param, tag). */
  keyed: Partial<Record<FilterEntity, KeySpec>>;
  /** Attribute keys, canonical names only. */
  attributes: ReadonlyMap<string, KeySpec>;
  /** Alternative spellings of attribute keys. */
  aliases: ReadonlyMap<string, string>;
  datasets?: ReadonlyMap<string, KeySpec>;
  /** What to say when a list is compared with a key that takes none. */
  listMessage: string;
}

const ATTRIBUTE_PREFIXES: [string, FilterEntity][] = [
  ['attribute', 'attribute'],
  ['attributes', 'attribute'],
  ['attr', 'attribute'],
];
const TAG_PREFIXES: [string, FilterEntity][] = [
  ['tag', 'tag'],
  ['tags', 'tag'],
];

const RUN_ALIASES = new Map([
  ['created', 'start_time'],
  ['Created', 'start_time'],
  ['run name', 'run_name'],
  ['Run name', 'run_name'],
  ['Run Name', 'run_name'],
]);

const RUN_GRAMMAR: FilterGrammar = {
  entities: new Map<string, FilterEntity>([
    ['metric', 'metric'],
    ['metrics', 'metric'],
    ['param', 'param'],
    ['params', 'param'],
    ['parameter', 'param'],
    ['parameters', 'param'],
    ...TAG_PREFIXES,
    ...ATTRIBUTE_PREFIXES,
    ['run', 'attribute'],
    ['dataset', 'dataset'],
    ['datasets', 'dataset'],
  ]),
  keyed: { metric: NUMERIC, param: STRING, tag: STRING },
  attributes: new Map([
    ['run_id', STRING_OR_LIST],
    ['run_name', STRING],
    ['status', STRING],
    ['user_id', STRING],
    ['artifact_uri', STRING],
    ['start_time', NUMERIC],
    ['end_time', NUMERIC],
  ]),
  aliases: RUN_ALIASES,
  datasets: new Map([
    ['name', STRING_OR_LIST],
    ['digest', STRING_OR_LIST],
    ['context', STRING_OR_LIST],
  ]),
  listMessage: "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
};

const EXPERIMENT_GRAMMAR: FilterGrammar = {
  entities: new Map([...ATTRIBUTE_PREFIXES, ...TAG_PREFIXES]),
  keyed: { tag: STRING },
  attributes: new Map([
    ['name', STRING],
    ['creation_time', NUMERIC],
    ['last_update_time', NUMERIC],
  ]),
  aliases: new Map(),
  listMessage: 'Experiment searches do not support comparison with a list of values.',
};

const REGISTERED_MODEL_GRAMMAR: FilterGrammar = {
  entities: new Map([...ATTRIBUTE_PREFIXES, ...TAG_PREFIXES]),
  keyed: { tag: STRING },
  attributes: new Map([['name', STRING]]),
  aliases: new Map(),
  listMessage: 'Registered model searches do not support comparison with a list of values.',
};

const MODEL_VERSION_GRAMMAR: FilterGrammar = {
  entities: new Map([...ATTRIBUTE_PREFIXES, ...TAG_PREFIXES]),
  keyed: { tag: STRING },
  attributes: new Map([
    ['name', STRING],
    ['run_id', STRING_OR_IN_LIST],
    ['source_path', STRING],
    ['version_number', NUMERIC],
  ]),
  aliases: new Map(),
  listMessage: "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
};

interface OrderGrammar {
  entities: ReadonlyMap<string, FilterEntity>;
  /** Entities that are recognised but may not be ordered by. */
  unorderable: ReadonlySet<FilterEntity>;
  attributes: readonly string[];
  aliases: ReadonlyMap<string, string>;
}

const RUN_ORDER: OrderGrammar = {
  entities: RUN_GRAMMAR.entities,
  unorderable: new Set(['dataset']),
  attributes: ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time'],
  aliases: RUN_ALIASES,
};

const EXPERIMENT_ORDER: OrderGrammar = {
  entities: EXPERIMENT_GRAMMAR.entities,
  unorderable: new Set(['tag']),
  attributes: ['name', 'experiment_id', 'creation_time', 'last_update_time'],
  aliases: new Map(),
};

const MODEL_ORDER_ALIASES = new Map([['timestamp', 'creation_timestamp']]);
const MODEL_ORDER: Record<'registered_model' | 'model_version' | 'any', OrderGrammar> = {
  registered_model: {
    entities: REGISTERED_MODEL_GRAMMAR.entities,
    unorderable: new Set(['tag']),
    attributes: ['name', 'creation_timestamp', 'last_updated_timestamp'],
    aliases: MODEL_ORDER_ALIASES,
  },
  model_version: {
    entities: MODEL_VERSION_GRAMMAR.entities,
    unorderable: new Set(['tag']),
    attributes: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'],
    aliases: MODEL_ORDER_ALIASES,
  },
  any: {
    entities: MODEL_VERSION_GRAMMAR.entities,
    unorderable: new Set(['tag']),
    attributes: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'],
    aliases: MODEL_ORDER_ALIASES,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Public API

/** Parses a `runs/search` filter. An empty or blank filter gives no clauses. */
export function parseRunFilter(filter: string): FilterClause[] {
  return parseFilter(filter, RUN_GRAMMAR);
}

/** Parses an `experiments/search` filter: attributes `name`, `creation_time`, `last_update_time`, and tags. */
export function parseExperimentFilter(filter: string): FilterClause[] {
  return parseFilter(filter, EXPERIMENT_GRAMMAR);
}

/**
 * Parses a `registered-models/search` filter (attribute `name`, tags) or a `model-versions/search` filter
 * (attributes `name`, `run_id` (also `IN (...)`), `source_path`, numeric `version_number`, and tags).
 */
export function parseModelFilter(filter: string, kind: 'registered_model' | 'model_version'): FilterClause[] {
  return parseFilter(filter, kind === 'registered_model' ? REGISTERED_MODEL_GRAMMAR : MODEL_VERSION_GRAMMAR);
}

/** Parses one `runs/search` order-by: `metrics.acc DESC`, `attributes.start_time`, `` `params`.`lr` ASC ``. */
export function parseRunOrderBy(expr: string): OrderClause {
  return parseOrderBy(expr, RUN_ORDER);
}

/** Parses one `experiments/search` order-by: `name`, `experiment_id`, `creation_time`, `last_update_time`. */
export function parseExperimentOrderBy(expr: string): OrderClause {
  return parseOrderBy(expr, EXPERIMENT_ORDER);
}

/**
 * Parses one registered-model or model-version order-by. Without `kind`, any key valid for either is accepted
 * (`name`, `version_number`, `creation_timestamp`, `last_updated_timestamp`, `timestamp`).
 */
export function parseModelOrderBy(expr: string, kind?: 'registered_model' | 'model_version'): OrderClause {
  return parseOrderBy(expr, MODEL_ORDER[kind ?? 'any']);
}

// ---------------------------------------------------------------------------------------------------------
// Scanner

/** `{'a', 'b'}`: how MLflow's messages print a set of choices. */
function choices(values: Iterable<string>): string {
  return `{${[...values].map((v) => `'${v}'`).join(', ')}}`;
}

const SPACE = /\s/;
/** Unquoted entity or bare attribute name. */
const WORD = /[\p{L}\p{N}_$]+/uy;
/** Unquoted key after `entity.`: may contain dots, dashes and slashes (`tags.mlflow.runName`, `metrics.train/loss`). */
const KEY = /[\p{L}\p{N}_$.\-/]+/uy;
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\p{L}\p{N}_.])/uy;
const OPERATOR = /[<>=!~^]+/y;
const KEYWORD = /[A-Za-z_]+/y;
const BARE = /[^\s,()]+/y;

interface Identifier {
  /** The entity prefix as written, or undefined for a bare attribute. */
  prefix: string | undefined;
  key: string;
  /** Whether the key was quoted (a quoted key is never a keyword). */
  quoted: boolean;
  text: string;
}

type RawValue =
  | { kind: 'number'; value: number; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'list'; value: string[]; text: string }
  | { kind: 'bare'; text: string };

class Scanner {
  pos = 0;

  constructor(
    readonly text: string,
    readonly field: string,
  ) {}

  fail(message: string): never {
    throw AppError.invalid(this.field, message);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && SPACE.test(this.text[this.pos] ?? '')) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  rest(): string {
    return this.text.slice(this.pos).trim();
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m || m[0].length === 0) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /**
   * A quoted string starting at the current quote character. Inside it, a doubled quote (SQL: 'it''s') or a
   * backslash before the quote or another backslash ('it\'s', 'a\\b') stands for that character; any other
   * backslash is kept as it is, so LIKE patterns and Windows paths read naturally.
   */
  quoted(what: string): string {
    const quote = this.peek();
    const start = this.pos;
    let out = '';
    this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) {
        this.fail(`Unterminated ${what} starting at position ${start}: ${this.text.slice(start)}`);
      }
      const c = this.text[this.pos] ?? '';
      const next = this.text[this.pos + 1] ?? '';
      if (c === '\\' && (next === quote || next === '\\')) {
        out += next;
        this.pos += 2;
      } else if (c === quote && next === quote) {
        out += quote;
        this.pos += 2;
      } else if (c === quote) {
        this.pos++;
        return out;
      } else {
        out += c;
        this.pos++;
      }
    }
  }

  /** `entity.key`, `` `entity`.`key` ``, `entity."key"` or a bare `key`; undefined if none starts here. */
  identifier(): Identifier | undefined {
    this.skipSpace();
    const start = this.pos;
    let first: string | undefined;
    let firstQuoted = false;
    if (this.peek() === '`' || this.peek() === '"') {
      first = this.quoted('quoted identifier');
      firstQuoted = true;
    } else {
      first = this.match(WORD);
    }
    if (first === undefined) return undefined;
    if (this.peek() !== '.') {
      return { prefix: undefined, key: first, quoted: firstQuoted, text: this.text.slice(start, this.pos) };
    }
    this.pos++;
    let key: string | undefined;
    let quoted = false;
    const c = this.peek();
    if (c === '`' || c === '"' || c === "'") {
      key = this.quoted('quoted key');
      quoted = true;
    } else {
      key = this.match(KEY);
    }
    if (key === undefined || key === '') {
      this.fail(`Invalid identifier '${this.text.slice(start, this.pos)}': expected a key after '${first}.'`);
    }
    return { prefix: first, key, quoted, text: this.text.slice(start, this.pos) };
  }
}

function keywordAt(s: Scanner): string | undefined {
  const save = s.pos;
  const word = s.match(KEYWORD);
  if (word === undefined) return undefined;
  s.pos = save;
  return word.toUpperCase();
}

// ---------------------------------------------------------------------------------------------------------
// Filters

const JOIN_HINT = 'Clauses may only be joined with AND (no OR, NOT or parentheses).';

function parseFilter(filter: string, grammar: FilterGrammar): FilterClause[] {
  const s: Scanner = new Scanner(filter, 'filter');
  const clauses: FilterClause[] = [];
  if (s.atEnd()) return clauses;
  for (;;) {
    clauses.push(parseClause(s, grammar));
    if (s.atEnd()) return clauses;
    if (keywordAt(s) === 'AND') {
      s.match(KEYWORD);
      if (s.atEnd()) s.fail(`Invalid clause(s) in filter string: a clause must follow the last AND.`);
      continue;
    }
    s.fail(`Invalid clause(s) in filter string: '${s.rest()}'. ${JOIN_HINT}`);
  }
}

function parseClause(s: Scanner, grammar: FilterGrammar): FilterClause {
  const start = s.pos;
  const id = s.identifier();
  if (id === undefined || (id.prefix === undefined && !id.quoted && /^(AND|OR|NOT)$/i.test(id.key))) {
    s.pos = start;
    s.fail(
      `Invalid clause(s) in filter string: '${s.rest()}'. Expected a comparison such as ` +
        `metrics.acc > 0.9 or params.lr = '0.1'. ${JOIN_HINT}`,
    );
  }
  const { entity, key, spec } = resolveFilterKey(s, grammar, id);

  s.skipSpace();
  let comparator: string | undefined = s.match(OPERATOR);
  if (comparator === undefined) {
    comparator = s.match(KEYWORD)?.toUpperCase();
    if (comparator === 'NOT') {
      s.skipSpace();
      const next = s.match(KEYWORD)?.toUpperCase();
      comparator = next === undefined ? 'NOT' : `NOT ${next}`;
    }
  }
  if (comparator === undefined) {
    const found = s.rest() === '' ? 'the end of the filter' : `'${s.rest()}'`;
    s.fail(`Invalid comparison clause: expected a comparator after '${id.text}', found ${found}.`);
  }
  if (!(spec.comparators as readonly string[]).includes(comparator)) {
    if ((comparator === 'IN' || comparator === 'NOT IN') && spec.type === 'string' && !spec.lists) {
      s.fail(grammar.listMessage);
    }
    s.fail(`Invalid comparator '${comparator}' not one of '${choices(spec.comparators)}'`);
  }
  const op = comparator as Comparator;

  s.skipSpace();
  const raw = parseValue(s);
  if (raw === undefined) s.fail(`Invalid comparison clause: expected a value after '${id.text} ${op}'.`);
  return { entity, key, comparator: op, value: checkValue(s, grammar, entity, key, spec, op, raw) };
}

function resolveFilterKey(
  s: Scanner,
  grammar: FilterGrammar,
  id: Identifier,
): { entity: FilterEntity; key: string; spec: KeySpec } {
  let entity: FilterEntity = 'attribute';
  if (id.prefix !== undefined) {
    const found = grammar.entities.get(id.prefix.toLowerCase());
    if (found === undefined) {
      s.fail(`Invalid entity type '${id.prefix}'. Valid entity types are ${choices(grammar.entities.keys())}`);
    }
    entity = found;
  }
  if (entity === 'attribute') {
    const key = grammar.aliases.get(id.key) ?? id.key;
    const spec = grammar.attributes.get(key);
    if (spec === undefined) {
      s.fail(`Invalid attribute key '${id.key}' specified. Valid keys are '${choices(grammar.attributes.keys())}'`);
    }
    return { entity, key, spec };
  }
  if (entity === 'dataset') {
    const spec = grammar.datasets?.get(id.key);
    if (spec === undefined) {
      s.fail(`Invalid dataset key '${id.key}' specified. Valid keys are '${choices(grammar.datasets?.keys() ?? [])}'`);
    }
    return { entity, key: id.key, spec };
  }
  const spec = grammar.keyed[entity];
  if (spec === undefined) s.fail(`Invalid entity type '${id.prefix ?? ''}'.`);
  return { entity, key: id.key, spec };
}

function parseValue(s: Scanner): RawValue | undefined {
  const start = s.pos;
  const c = s.peek();
  if (c === "'" || c === '"') {
    const value = s.quoted('string');
    return { kind: 'string', value, text: s.text.slice(start, s.pos) };
  }
  if (c === '(') return parseList(s);
  const num = s.match(NUMBER);
  if (num !== undefined) return { kind: 'number', value: Number(num), text: num };
  const bare = s.match(BARE);
  if (bare !== undefined) return { kind: 'bare', text: bare };
  return undefined;
}

function parseList(s: Scanner): RawValue {
  const start = s.pos;
  s.pos++; // (
  const values: string[] = [];
  const illFormed: () => never = () =>
    s.fail(
      'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list: ' +
        `${s.text.slice(start)}`,
    );
  s.skipSpace();
  if (s.peek() === ')') {
    s.fail('While parsing a list in the query, expected a non-empty list of string values, but got empty list');
  }
  for (;;) {
    s.skipSpace();
    const c = s.peek();
    if (c !== "'" && c !== '"') illFormed();
    values.push(s.quoted('string'));
    s.skipSpace();
    if (s.peek() === ',') {
      s.pos++;
      continue;
    }
    if (s.peek() === ')') {
      s.pos++;
      return { kind: 'list', value: values, text: s.text.slice(start, s.pos) };
    }
    illFormed();
  }
}

function checkValue(
  s: Scanner,
  grammar: FilterGrammar,
  entity: FilterEntity,
  key: string,
  spec: KeySpec,
  op: Comparator,
  raw: RawValue,
): FilterClause['value'] {
  const isList = op === 'IN' || op === 'NOT IN';
  if (raw.kind === 'list') {
    if (!spec.lists) s.fail(grammar.listMessage);
    if (!isList) s.fail(`A list of values can only be compared with IN or NOT IN, not '${op}'.`);
    return raw.value;
  }
  if (isList) {
    s.fail(`Comparator '${op}' expects a parenthesised list of quoted strings, e.g. ('a', 'b'). Got value ${raw.text}`);
  }
  if (spec.type === 'number') {
    if (raw.kind === 'number') return raw.value;
    if (entity === 'metric') s.fail(`Expected numeric value type for metric. Found ${raw.text}`);
    s.fail(`Expected numeric value type for numeric attribute: ${key}. Found ${raw.text}`);
  }
  if (raw.kind === 'string') return raw.value;
  const what = entity === 'attribute' ? 'attributes' : entity === 'dataset' ? 'dataset attributes' : entity;
  if (raw.kind === 'bare') {
    s.fail(
      `Value is either not quoted or unidentified quote types used for string value ${raw.text}. ` +
        `Use either single or double quotes (e.g. '${raw.text}').`,
    );
  }
  s.fail(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${raw.text}`);
}

// ---------------------------------------------------------------------------------------------------------
// Order-by

function parseOrderBy(expr: string, grammar: OrderGrammar): OrderClause {
  const s: Scanner = new Scanner(expr, 'order_by');
  const unparsable: () => never = () => s.fail(`Invalid order_by clause '${expr}'. Could not be parsed.`);
  const id = s.identifier();
  if (id === undefined) unparsable();

  let ascending = true;
  if (!s.atEnd()) {
    if (!SPACE.test(s.text[s.pos - 1] ?? '')) unparsable();
    const word = s.match(BARE)?.toUpperCase();
    if (word !== 'ASC' && word !== 'DESC') {
      s.fail(`Invalid ordering key in order_by clause '${expr}'. Expected ASC or DESC.`);
    }
    ascending = word === 'ASC';
    if (!s.atEnd()) unparsable();
  }

  let entity: FilterEntity = 'attribute';
  if (id.prefix !== undefined) {
    const found = grammar.entities.get(id.prefix.toLowerCase());
    if (found === undefined) {
      s.fail(`Invalid entity type '${id.prefix}'. Valid entity types are ${choices(grammar.entities.keys())}`);
    }
    if (grammar.unorderable.has(found)) s.fail(`Invalid order_by entity: ${found}`);
    entity = found;
  }
  if (entity !== 'attribute') return { entity, key: id.key, ascending };
  const key = grammar.aliases.get(id.key) ?? id.key;
  if (!grammar.attributes.includes(key)) {
    s.fail(`Invalid attribute key '${id.key}' specified. Valid keys are '${choices(grammar.attributes)}'`);
  }
  return { entity, key, ascending };
}
