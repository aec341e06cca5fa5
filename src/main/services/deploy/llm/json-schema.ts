import type { GbnfJsonSchema } from 'node-llama-cpp';
import { AppError } from '#shared/errors';

/**
 * A JSON schema from `response_format` turned into what node-llama-cpp makes a grammar of, or refused naming the
 * keyword. node-llama-cpp reads a subset of JSON Schema and takes anything else for `null` (`{}`, `anyOf`, a
 * misspelt type all made the model answer `null`), and ignores constraints it cannot express (`pattern`,
 * `minimum`): the answer would not match the schema the client gave. So every keyword is either turned into the
 * subset (`anyOf` → `oneOf`, `{}` → any JSON value, a type list with object or array → `oneOf`, a missing type
 * from the keywords that need one: `properties` → object), dropped when it constrains nothing (annotations), or
 * refused.
 */
export function grammarSchemaOf(schema: unknown, field: string): GbnfJsonSchema {
  const refs: Refs = { defined: new Set(), used: [] };
  const converted = convert(schema, field, refs);
  for (const { name, at } of refs.used) {
    if (!refs.defined.has(name)) refuse(at, `'#/$defs/${name}' is not defined in any $defs of the schema`);
  }
  return converted as GbnfJsonSchema;
}

/** The `$defs` names of a schema and where each `$ref` points, checked once the whole schema is read. */
interface Refs {
  defined: Set<string>;
  used: { name: string; at: string }[];
}

/** Whether a JSON value is of one of the JSON Schema types. */
function isOfType(value: unknown, types: readonly string[]): boolean {
  return types.some((t) =>
    t === 'null'
      ? value === null
      : t === 'integer'
        ? Number.isInteger(value)
        : t === 'array'
          ? Array.isArray(value)
          : t === 'object'
            ? typeof value === 'object' && value !== null && !Array.isArray(value)
            : typeof value === t,
  );
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
const STRING_FORMATS = new Set(['date-time', 'date', 'time']);
/** Keywords that say something about a value without constraining it. */
const ANNOTATIONS = new Set([
  'title',
  '$schema',
  '$id',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const SUPPORTED = [
  'type',
  'const',
  'enum',
  'oneOf',
  'anyOf',
  '$ref',
  '$defs',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'format',
];
const SUPPORTED_SET = new Set(SUPPORTED);

/** Any JSON value: what `{}` (or `true`) allows. */
const ANY_VALUE = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};

/** The type a schema without one means, by the keywords it has. */
const KEYWORD_TYPES: Record<string, string[]> = {
  object: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems'],
  string: ['minLength', 'maxLength', 'format'],
};

type Json = Record<string, unknown>;

function refuse(at: string, message: string): never {
  throw AppError.invalid(at, message);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function count(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) refuse(at, 'must be a whole number ≥ 0');
  return value;
}

/** Deeper schemas are refused: a grammar of thousands of levels is no answer anyone wants, and the stack ends. */
const MAX_DEPTH = 64;

function convert(schema: unknown, at: string, refs: Refs, depth = 0): unknown {
  if (depth > MAX_DEPTH) refuse(at, `nested deeper than ${MAX_DEPTH} levels`);
  if (schema === true) return ANY_VALUE;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    refuse(at, schema === false ? 'false allows no value at all' : 'must be a JSON schema (an object)');
  }
  const input = schema as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(input)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!SUPPORTED_SET.has(key)) {
      refuse(
        `${at}.${key}`,
        `not supported: the answer is constrained by a grammar built from ${SUPPORTED.join(', ')} (and annotations)`,
      );
    }
    out[key] = value;
  }
  if ('$defs' in out) {
    if (typeof out.$defs !== 'object' || out.$defs === null || Array.isArray(out.$defs)) {
      refuse(`${at}.$defs`, 'must be an object of schemas');
    }
    out.$defs = Object.fromEntries(
      Object.entries(out.$defs as Json).map(([name, def]) => [
        name,
        convert(def, `${at}.$defs.${name}`, refs, depth + 1),
      ]),
    );
  }
  if ('$defs' in out) for (const name of Object.keys(out.$defs as Json)) refs.defined.add(name);
  if ('$ref' in out) {
    if (typeof out.$ref !== 'string' || !out.$ref.startsWith('#/$defs/')) {
      refuse(`${at}.$ref`, "only references to this schema's $defs are supported ('#/$defs/<name>')");
    }
    const others = Object.keys(out).filter((key) => key !== '$ref' && key !== '$defs' && key !== 'description');
    if (others.length > 0) {
      refuse(`${at}.${others[0]}`, 'beside $ref is not supported: put it in the definition $ref points to');
    }
    refs.used.push({ name: out.$ref.slice('#/$defs/'.length), at: `${at}.$ref` });
  }
  if ('const' in out && !isPrimitive(out.const)) refuse(`${at}.const`, 'only a string, number, boolean or null');
  if ('enum' in out && (!Array.isArray(out.enum) || out.enum.length === 0 || !out.enum.every(isPrimitive))) {
    refuse(`${at}.enum`, 'must be a non-empty list of strings, numbers, booleans or nulls');
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (!(key in out)) continue;
    const options = out[key];
    if (!Array.isArray(options) || options.length === 0) refuse(`${at}.${key}`, 'must be a non-empty list of schemas');
    delete out[key];
    // A grammar makes one of the options: "any of" and "exactly one of" allow the same answers here.
    out.oneOf = [
      ...((out.oneOf as unknown[] | undefined) ?? []),
      ...options.map((o, i) => convert(o, `${at}.${key}.${i}`, refs, depth + 1)),
    ];
  }
  if ('properties' in out) {
    if (typeof out.properties !== 'object' || out.properties === null || Array.isArray(out.properties)) {
      refuse(`${at}.properties`, 'must be an object of schemas');
    }
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Json).map(([name, s]) => [
        name,
        convert(s, `${at}.properties.${name}`, refs, depth + 1),
      ]),
    );
  }
  if ('required' in out) {
    if (!Array.isArray(out.required) || !out.required.every((r) => typeof r === 'string')) {
      refuse(`${at}.required`, 'must be a list of property names');
    }
    // The grammar writes the properties it knows: a required one it does not know could never be there.
    const missing = out.required.find((name) => !Object.hasOwn((out.properties as Json | undefined) ?? {}, name));
    if (missing !== undefined) refuse(`${at}.required`, `names '${missing}', which properties does not define`);
  }
  if ('additionalProperties' in out && typeof out.additionalProperties !== 'boolean') {
    out.additionalProperties = convert(out.additionalProperties, `${at}.additionalProperties`, refs, depth + 1);
  }
  if ('prefixItems' in out) {
    if (!Array.isArray(out.prefixItems)) refuse(`${at}.prefixItems`, 'must be a list of schemas');
    out.prefixItems = out.prefixItems.map((s, i) => convert(s, `${at}.prefixItems.${i}`, refs, depth + 1));
  }
  if ('items' in out) {
    if (out.items === false) {
      // No items beyond prefixItems: a tuple.
      delete out.items;
      out.maxItems = Array.isArray(out.prefixItems) ? out.prefixItems.length : 0;
    } else if (out.items === true) delete out.items;
    else out.items = convert(out.items, `${at}.items`, refs, depth + 1);
  }
  for (const key of ['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']) {
    if (key in out) count(out[key], `${at}.${key}`);
  }
  for (const what of ['Items', 'Length', 'Properties']) {
    const [min, max] = [out[`min${what}`], out[`max${what}`]];
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      refuse(`${at}.min${what}`, `${min} is more than max${what} (${max}): no value can have both`);
    }
  }
  if ('format' in out && !STRING_FORMATS.has(out.format as string)) {
    refuse(`${at}.format`, `only ${[...STRING_FORMATS].join(', ')} can be constrained`);
  }

  const type = out.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    const unknown = types.find((t) => typeof t !== 'string' || !TYPES.has(t));
    if (types.length === 0 || unknown !== undefined) {
      refuse(`${at}.type`, `${JSON.stringify(unknown ?? type)} is not one of ${[...TYPES].join(', ')}`);
    }
    for (const key of ['const', 'enum'] as const) {
      if (!(key in out)) continue;
      const values = key === 'const' ? [out.const] : (out.enum as unknown[]);
      const stray = values.find((v) => !isOfType(v, types as string[]));
      if (stray !== undefined) refuse(`${at}.${key}`, `${JSON.stringify(stray)} is not of type ${types.join(' or ')}`);
    }
    // node-llama-cpp takes a list of plain types only: with object or array in it, each type is an option.
    if (Array.isArray(type) && types.some((t) => t === 'object' || t === 'array')) {
      const rest = { ...out };
      delete rest.type;
      return { oneOf: types.map((t) => ({ ...rest, type: t })) };
    }
    return out;
  }
  if (['const', 'enum', 'oneOf', '$ref'].some((key) => key in out)) return out;
  // No type: the one its keywords apply to (a schema with `properties` means an object), else any JSON value.
  const implied = Object.entries(KEYWORD_TYPES).find(([, keys]) => keys.some((key) => key in out))?.[0];
  if (implied !== undefined) return { ...out, type: implied };
  return {
    ...ANY_VALUE,
    ...(out.description === undefined ? {} : { description: out.description }),
    ...('$defs' in out ? { $defs: out.$defs } : {}),
  };
}
