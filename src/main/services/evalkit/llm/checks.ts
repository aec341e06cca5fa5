import type { DiffPart, LlmAssertion } from '#shared/contracts/evalkit-llm';

/** An assertion's verdict on one answer. */
export interface Verdict {
  passed: boolean;
  reason: string;
  score: number | null;
}

/** What an answer is checked with: the text, how long it took, and the case's expected output. */
export interface Answer {
  output: string;
  latencyMs: number;
  expected: string | undefined;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
const quote = (text: string, max = 80) => JSON.stringify(clip(text, max));

/** The assertions decided from the answer alone (not `similarity` nor `rubric`, which ask a deployment). */
export function checkLocally(
  assertion: Exclude<LlmAssertion, { type: 'similarity' | 'rubric' }>,
  answer: Answer,
): Verdict {
  const { output } = answer;
  switch (assertion.type) {
    case 'equals': {
      const want = assertion.value ?? answer.expected ?? '';
      const same = assertion.ignoreCase ? output.toLowerCase() === want.toLowerCase() : output === want;
      return {
        passed: same,
        reason: same ? 'equals the expected output' : `expected ${quote(want)}, got ${quote(output)}`,
        score: null,
      };
    }
    case 'contains':
    case 'not-contains': {
      const found = assertion.ignoreCase
        ? output.toLowerCase().includes(assertion.value.toLowerCase())
        : output.includes(assertion.value);
      const passed = assertion.type === 'contains' ? found : !found;
      return { passed, reason: `${found ? 'contains' : 'does not contain'} ${quote(assertion.value)}`, score: null };
    }
    case 'regex': {
      const match = new RegExp(assertion.pattern, assertion.flags).exec(output);
      return {
        passed: match !== null,
        reason: match
          ? `matches /${assertion.pattern}/ at ${quote(match[0])}`
          : `does not match /${assertion.pattern}/`,
        score: null,
      };
    }
    case 'is-json':
    case 'json-schema': {
      let value: unknown;
      try {
        value = JSON.parse(output);
      } catch (err) {
        return { passed: false, reason: `not valid JSON: ${(err as Error).message}`, score: null };
      }
      if (assertion.type === 'is-json') return { passed: true, reason: 'valid JSON', score: null };
      const problem = schemaViolation(value, assertion.schema, '$');
      return { passed: problem === null, reason: problem ?? 'valid JSON matching the schema', score: null };
    }
    case 'length': {
      const n = output.length;
      const short = assertion.min !== undefined && n < assertion.min;
      const long = assertion.max !== undefined && n > assertion.max;
      const reason = short
        ? `${n} characters, fewer than ${assertion.min}`
        : long
          ? `${n} characters, more than ${assertion.max}`
          : `${n} characters, within bounds`;
      return { passed: !short && !long, reason, score: n };
    }
    case 'latency': {
      const passed = answer.latencyMs <= assertion.maxMs;
      return {
        passed,
        reason: `answered in ${Math.round(answer.latencyMs)} ms, ${passed ? 'within' : 'over'} ${assertion.maxMs} ms`,
        score: answer.latencyMs,
      };
    }
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

/**
 * The first way `value` breaks `schema` (the subset `jsonSchemaProblem` accepts), with its JSON path, or null. An
 * integer is also a number.
 */
export function schemaViolation(value: unknown, schema: Record<string, unknown>, at: string): string | null {
  const type = typeOf(value);
  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
    if (!types.some((t) => t === type || (t === 'number' && type === 'integer')))
      return `${at}: expected ${types.join(' or ')}, got ${type}`;
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((v) => JSON.stringify(v) === JSON.stringify(value)))
    return `${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  if (schema.const !== undefined && JSON.stringify(schema.const) !== JSON.stringify(value))
    return `${at}: expected ${JSON.stringify(schema.const)}`;
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      return `${at}: ${value} < minimum ${schema.minimum}`;
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      return `${at}: ${value} > maximum ${schema.maximum}`;
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      return `${at}: shorter than ${schema.minLength} characters`;
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      return `${at}: longer than ${schema.maxLength} characters`;
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      return `${at}: fewer than ${schema.minItems} items`;
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      return `${at}: more than ${schema.maxItems} items`;
    if (schema.items !== undefined) {
      for (const [i, item] of value.entries()) {
        const problem = schemaViolation(item, schema.items as Record<string, unknown>, `${at}[${i}]`);
        if (problem) return problem;
      }
    }
  }
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? [])
      if (!(name in object)) return `${at}: missing required property ${JSON.stringify(name)}`;
    const properties = (schema.properties as Record<string, Record<string, unknown>> | undefined) ?? {};
    for (const [name, sub] of Object.entries(properties)) {
      if (!(name in object)) continue;
      const problem = schemaViolation(object[name], sub, `${at}.${name}`);
      if (problem) return problem;
    }
    if (schema.additionalProperties === false) {
      const extra = Object.keys(object).find((name) => !(name in properties));
      if (extra !== undefined) return `${at}: property ${JSON.stringify(extra)} is not allowed`;
    }
  }
  return null;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * What a grader answers, held to this by a JSON schema grammar while it generates: the verdict comes first, and
 * the score is one of eleven values and the reason is bounded, so that it fits what a small context leaves.
 */
export const GRADER_VERDICT_SCHEMA = {
  type: 'object',
  properties: {
    pass: { type: 'boolean' },
    score: { enum: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    reason: { type: 'string', maxLength: 100 },
  },
  required: ['pass', 'score', 'reason'],
  additionalProperties: false,
} as const;

/**
 * The grader's verdict from its JSON answer; `pass` decides. An answer that does not parse (cut short when the
 * grader's context or tokens ran out) or breaks the schema fails the assertion, showing the answer: a grader that
 * could not give a verdict has not judged.
 */
export function parseGraderVerdict(answer: string, finishReason: string | null): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch (err) {
    const why =
      finishReason === 'length'
        ? 'was cut short: the grader ran out of tokens or context'
        : `is not valid JSON (${(err as Error).message})`;
    return { passed: false, reason: `the grader's verdict ${why}: ${clip(answer.trim(), 200)}`, score: null };
  }
  const problem = schemaViolation(value, GRADER_VERDICT_SCHEMA, '$');
  if (problem)
    return {
      passed: false,
      reason: `the grader's verdict is not {pass, score, reason}: ${problem}: ${clip(answer.trim(), 200)}`,
      score: null,
    };
  const verdict = value as { pass: boolean; score: number; reason: string };
  const why = verdict.reason.trim();
  return {
    passed: verdict.pass,
    reason: `grader: ${verdict.pass ? 'PASS' : 'FAIL'} (score ${verdict.score}/10)${why ? `: ${why}` : ''}`,
    score: verdict.score,
  };
}

/** The messages that ask a grader to judge `output` against `rubric`; short, to leave a small context room. */
export function graderMessages(rubric: string, output: string): { role: 'system' | 'user'; content: string }[] {
  return [
    {
      role: 'system',
      content:
        'Judge whether the output meets the rubric. Answer in JSON: "pass" (true or false), "score" (0 to 10) and "reason" (one short sentence).',
    },
    { role: 'user', content: `Rubric: ${rubric}\n\nOutput: ${output}` },
  ];
}

/** `{{name}}` placeholders replaced by the case's variables (the suite checked they exist when saved). */
export function fillTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

const MAX_DIFF_TOKENS = 4000;

/**
 * A word diff (whitespace kept as its own tokens) of `expected` into `actual`, by longest common subsequence;
 * texts too long for the quadratic table are shown as one removal and one addition.
 */
export function wordDiff(expected: string, actual: string): DiffPart[] {
  const a = expected.match(/\s+|[^\s]+/g) ?? [];
  const b = actual.match(/\s+|[^\s]+/g) ?? [];
  const parts: DiffPart[] = [];
  const push = (op: DiffPart['op'], text: string) => {
    const last = parts.at(-1);
    if (last?.op === op) last.text += text;
    else parts.push({ op, text });
  };
  if (
    a.length * b.length > (MAX_DIFF_TOKENS * MAX_DIFF_TOKENS) / 4 ||
    a.length > MAX_DIFF_TOKENS ||
    b.length > MAX_DIFF_TOKENS
  ) {
    if (expected) push('removed', expected);
    if (actual) push('added', actual);
    return parts;
  }
  // lcs[i][j]: the common subsequence length of a[i..] and b[j..], in one flat array.
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i * width + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push('same', a[i]!);
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) push('removed', a[i++]!);
    else push('added', b[j++]!);
  }
  while (i < a.length) push('removed', a[i++]!);
  while (j < b.length) push('added', b[j++]!);
  return joinChanges(parts);
}

/**
 * Changes separated by whitespace only read as one change ("Python in" → "JavaScript on", not word by word): each
 * side keeps the whitespace, so the removed and same parts still spell the expected text, the added and same parts
 * the answer.
 */
function joinChanges(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  let change: { removed: string; added: string } | null = null;
  const flush = () => {
    if (!change) return;
    if (change.removed) out.push({ op: 'removed', text: change.removed });
    if (change.added) out.push({ op: 'added', text: change.added });
    change = null;
  };
  parts.forEach((part, k) => {
    const next = parts[k + 1];
    if (part.op === 'same' && change && next && next.op !== 'same' && /^\s+$/.test(part.text)) {
      change.removed += part.text;
      change.added += part.text;
    } else if (part.op === 'same') {
      flush();
      out.push(part);
    } else {
      change ??= { removed: '', added: '' };
      change[part.op] += part.text;
    }
  });
  flush();
  return out;
}
