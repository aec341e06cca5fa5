/**
 * Ready-to-copy client code for a deployment's endpoint: curl, Python's `openai` and the `openai` npm package,
 * pointed at this core (`${origin}/v1`, the deployment's name as the model). The key is read from the
 * `AIDOS_API_KEY` environment variable, never written into the snippet: an API key is made in Settings.
 */

export type SnippetLanguage = 'curl' | 'python' | 'javascript';

export interface Snippet {
  language: SnippetLanguage;
  label: string;
  code: string;
}

/**
 * What a deployment serves, which decides the endpoint its snippets call: OpenAI's chat completions or embeddings
 * (GGUF), the Open Inference Protocol's infer (`tensor`, any ONNX or TF.js model), or AI-DOS's predict with JSON rows
 * (`tabular`).
 */
export type SnippetKind = 'chat' | 'embedding' | 'tensor' | 'tabular';

export interface SnippetTarget {
  /** The core's origin, e.g. `http://127.0.0.1:8000` (a trailing slash is dropped). */
  origin: string;
  /** The deployment's name: OpenAI's `model`. */
  model: string;
  kind: SnippetKind;
  /** ONNX, TF.js: the model's first input, for the example request (a placeholder without it). */
  input?: { name: string; datatype: string; shape: number[] };
  /** A tabular model's feature columns, for the example row (placeholders without them). */
  columns?: readonly string[] | null;
}

export const API_KEY_ENV = 'AIDOS_API_KEY';
const SAMPLE_PROMPT = 'Hello! Who are you?';
const SAMPLE_TEXT = 'The quick brown fox';

/** A word for a POSIX shell: single-quoted unless it is plainly safe. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A string literal in Python or JavaScript (JSON's escaping is valid in both). */
function literal(text: string): string {
  return JSON.stringify(text);
}

export function baseUrlOf(origin: string): string {
  return `${origin.replace(/\/+$/, '')}/v1`;
}

export function snippets(target: SnippetTarget): Snippet[] {
  if (target.kind === 'tensor' || target.kind === 'tabular') {
    return [
      { language: 'curl', label: 'curl', code: curlSnippet(target) },
      { language: 'python', label: 'Python (requests)', code: pythonSnippet(target) },
      { language: 'javascript', label: 'JavaScript (fetch)', code: javascriptSnippet(target) },
    ];
  }
  return [
    { language: 'curl', label: 'curl', code: curlSnippet(target) },
    { language: 'python', label: 'Python (openai)', code: pythonSnippet(target) },
    { language: 'javascript', label: 'JavaScript (openai)', code: javascriptSnippet(target) },
  ];
}

/** Where a tensor's example values go in a body: each language writes them as code (`[0] * 64`). */
const VALUES = '__values__';
/** The most values curl's body holds literally; beyond, a python3 one-liner writes the body. */
const CURL_INLINE_VALUES = 1024;

/**
 * A tensor deployment's (ONNX, TF.js) endpoint and example body: v2 infer for a tensor model (zeros, as many as
 * its input's shape holds, at `VALUES`), predict for a tabular one (a row of its columns).
 */
export function tensorRequest(target: SnippetTarget): { url: string; body: unknown; values: number } {
  const origin = target.origin.replace(/\/+$/, '');
  if (target.kind === 'tabular') {
    const columns = target.columns ?? ['feature_1', 'feature_2'];
    return {
      url: `${origin}/api/v1/deployments/${encodeURIComponent(target.model)}/predict`,
      body: { rows: [Object.fromEntries(columns.map((c) => [c, 0]))] },
      values: 0,
    };
  }
  const input = target.input ?? { name: 'input', datatype: 'FP32', shape: [1, 4] };
  const shape = input.shape.map((d) => (d < 0 ? 1 : d));
  return {
    url: `${origin}/v2/models/${encodeURIComponent(target.model)}/infer`,
    body: { inputs: [{ name: input.name, shape, datatype: input.datatype, data: VALUES }] },
    values: shape.reduce((n, d) => n * d, 1),
  };
}

/** The body as JSON with its values written by `valuesCode` (the count of zeros → code for them). */
function bodyCode(body: unknown, valuesCode: string): string {
  return JSON.stringify(body).replace(JSON.stringify(VALUES), valuesCode);
}

export function curlSnippet(target: SnippetTarget): string {
  const { origin, model, kind } = target;
  if (kind === 'tensor' || kind === 'tabular') {
    const { url, body, values } = tensorRequest(target);
    const headers = [`  -H "Authorization: Bearer $${API_KEY_ENV}" \\`, `  -H "Content-Type: application/json" \\`];
    if (values > CURL_INLINE_VALUES) {
      const python = `import json; print(json.dumps(${bodyCode(body, `[0] * ${values}`)}))`;
      return [`python3 -c ${shellQuote(python)} |`, `curl ${shellQuote(url)} \\`, ...headers, '  -d @-'].join('\n');
    }
    const literal = bodyCode(body, JSON.stringify(new Array<number>(values).fill(0)));
    return [`curl ${shellQuote(url)} \\`, ...headers, `  -d ${shellQuote(literal)}`].join('\n');
  }
  const base = baseUrlOf(origin);
  const body =
    kind === 'chat'
      ? { model, messages: [{ role: 'user', content: SAMPLE_PROMPT }], stream: true }
      : { model, input: SAMPLE_TEXT };
  const path = kind === 'chat' ? 'chat/completions' : 'embeddings';
  return [
    `curl ${shellQuote(`${base}/${path}`)} \\`,
    `  -H "Authorization: Bearer $${API_KEY_ENV}" \\`,
    `  -H "Content-Type: application/json" \\`,
    ...(kind === 'chat' ? ['  -N \\'] : []),
    `  -d ${shellQuote(JSON.stringify(body, null, 2))}`,
  ].join('\n');
}

export function pythonSnippet(target: SnippetTarget): string {
  const { origin, model, kind } = target;
  if (kind === 'tensor' || kind === 'tabular') {
    const { url, body, values } = tensorRequest(target);
    return [
      'import os',
      '',
      'import requests',
      '',
      'response = requests.post(',
      `    ${literal(url)},`,
      `    headers={"Authorization": "Bearer " + os.environ[${literal(API_KEY_ENV)}]},`,
      `    json=${bodyCode(body, `[0] * ${values}`)},`,
      ')',
      'response.raise_for_status()',
      kind === 'tabular' ? 'print(response.json()["predictions"])' : 'print(response.json()["outputs"])',
    ].join('\n');
  }
  const head = [
    'import os',
    '',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${literal(baseUrlOf(origin))}, api_key=os.environ[${literal(API_KEY_ENV)}])`,
    '',
  ];
  if (kind === 'embedding') {
    return [
      ...head,
      `result = client.embeddings.create(model=${literal(model)}, input=${literal(SAMPLE_TEXT)})`,
      'vector = result.data[0].embedding',
      'print(len(vector), vector[:8])',
    ].join('\n');
  }
  return [
    ...head,
    'stream = client.chat.completions.create(',
    `    model=${literal(model)},`,
    `    messages=[{"role": "user", "content": ${literal(SAMPLE_PROMPT)}}],`,
    '    stream=True,',
    ')',
    'for chunk in stream:',
    '    if chunk.choices:',
    '        print(chunk.choices[0].delta.content or "", end="", flush=True)',
    'print()',
  ].join('\n');
}

export function javascriptSnippet(target: SnippetTarget): string {
  const { origin, model, kind } = target;
  if (kind === 'tensor' || kind === 'tabular') {
    const { url, body, values } = tensorRequest(target);
    return [
      `const response = await fetch(${literal(url)}, {`,
      '  method: "POST",',
      `  headers: { Authorization: \`Bearer \${process.env.${API_KEY_ENV}}\`, "Content-Type": "application/json" },`,
      `  body: JSON.stringify(${bodyCode(body, `new Array(${values}).fill(0)`)}),`,
      '});',
      'if (!response.ok) throw new Error(await response.text());',
      kind === 'tabular'
        ? 'console.log((await response.json()).predictions);'
        : 'console.log((await response.json()).outputs);',
    ].join('\n');
  }
  const head = [
    'import OpenAI from "openai";',
    '',
    `const client = new OpenAI({ baseURL: ${literal(baseUrlOf(origin))}, apiKey: process.env.${API_KEY_ENV} });`,
    '',
  ];
  if (kind === 'embedding') {
    return [
      ...head,
      `const result = await client.embeddings.create({ model: ${literal(model)}, input: ${literal(SAMPLE_TEXT)} });`,
      'const vector = result.data[0].embedding;',
      'console.log(vector.length, vector.slice(0, 8));',
    ].join('\n');
  }
  return [
    ...head,
    'const stream = await client.chat.completions.create({',
    `  model: ${literal(model)},`,
    `  messages: [{ role: "user", content: ${literal(SAMPLE_PROMPT)} }],`,
    '  stream: true,',
    '});',
    'for await (const chunk of stream) {',
    '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
    '}',
  ].join('\n');
}
