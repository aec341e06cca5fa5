// DeployEngine's OpenAI-compatible chat endpoint over HTTP against node-llama-cpp called in this process (issue 6):
// tokens/s streamed through `POST /v1/chat/completions` (SSE) from a GGUF deployment in a real `aidos serve` child
// process, against node-llama-cpp's own evaluate loop here on the same model, settings and prompt tokens (the
// messages rendered as the deployment renders them). The tiny llama fixture, context 128, threads 1, greedy, end
// of generation banned (`ignore_eos`, llama-server's extension) so every run generates --tokens tokens; each run
// from a cold KV cache (the deployment's conversation reuse is defeated by a user message that differs from its
// first word run to run, and the direct sequence's history is cleared). Runs interleave, so load drifts hit both
// alike. The HTTP client only keeps the bytes while a stream runs (it shares the CPUs with the server).
// Time to first token runs from sending the request (direct: from the call) to the first text; tokens/s is decode
// speed (tokens after the first over the time after the first). Targets: >= 97% of direct tokens/s, TTFT + <= 2 ms.
// --model FILE benchmarks another GGUF (e.g. one from bench/make-llama-gguf.ts, with a realistic per-token time).
// --baseline DIR also serves the same deployment from another checkout (e.g. `git archive` of an earlier commit,
// with node_modules linked) and interleaves it, for before/after figures from one run.
// --client raw sends the requests over a kept-alive socket with no HTTP library (as wrk does for the ONNX bench):
// the figures are then the server's, without what Node's own HTTP client adds on this side (~0.6 ms to the first
// token here, measured in alternating runs). The default, node:http, is what a Node application would use.
// 300 runs by default (~40 s with the tiny model): on a 2-vCPU VM the tokens/s ratio ranged 88-103% run to run
// with 15 or 30, and 94-97% in 16 of 18 runs with 300 (the VM's slow phases still throw the odd run far off).
//   npx tsx bench/deploy-llm-http.ts [--tokens 120] [--runs 300] [--warmup 5] [--threads 1] [--model FILE]
//     [--baseline DIR] [--client node|raw] [--json]
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serveCli } from '#core/testing';
import { localTokenPath } from '#platform/config';
import { fixturePath, tempDir } from '#platform/testing';
import { sharedLlama } from '#services/deploy/llm/backend';
import { promptRenderer, type ChatTurn } from '#services/deploy/llm/prompt';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { banEog } from './llm-common';

const { values: opts } = parseArgs({
  options: {
    tokens: { type: 'string', default: '120' },
    runs: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    model: { type: 'string' },
    client: { type: 'string', default: 'node' },
    json: { type: 'boolean', default: false },
  },
});
const TOKENS = Number(opts.tokens);
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const THREADS = Number(opts.threads);
const CONTEXT = 128;
const MODEL =
  opts.model === undefined ? fixturePath('models', 'tiny-llama-memorizer-q8.gguf') : path.resolve(opts.model);
const MODEL_NAME = opts.model === undefined ? 'tiny llama' : path.basename(MODEL);
if (opts.client !== 'node' && opts.client !== 'raw') throw new Error(`--client is node or raw, not '${opts.client}'`);

interface Range {
  median: number;
  min: number;
  max: number;
}

interface Run {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
  text: string;
}

function finish(start: number, first: number, tokens: number, text: string, end = performance.now()): Run {
  return { ttftMs: first - start, tokensPerSecond: ((tokens - 1) * 1000) / (end - first), tokens, text };
}

/**
 * A different message per run, differing from its first word: the deployment cannot reuse the previous run's KV
 * cache beyond BOS, so both sides evaluate (nearly) the whole prompt.
 */
const messagesOf = (i: number): ChatTurn[] => [
  { role: 'user', content: `${i % 2 === 0 ? 'word' : 'words'} word word` },
];

/** How the first chunk with text starts (the role chunk before it has `"delta":{"role":…`). */
const FIRST_TEXT = '"delta":{"content"';

// ---- the servers: `aidos serve` in a child process with the model deployed (this checkout, and --baseline's) ----
interface Server {
  child: ChildProcess;
  url: URL;
  token: string;
  agent: http.Agent;
  api: ApiClient<typeof apiEndpoints>;
  remove: () => void;
}

/** `serveCli` for another checkout's CLI (the `--baseline` tree). */
function serveCheckout(root: string, dataDir: string): { child: ChildProcess; ready: Promise<string> } {
  const cli = path.join(path.resolve(root), 'src/main/cli/main.ts');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, '--data-dir', dataDir, '--json', 'serve', '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) =>
      resolve((JSON.parse(d.toString().split('\n')[0] as string) as { url: string }).url),
    );
    child.once('exit', (code) => reject(new Error(`${cli} serve exited with ${code}`)));
  });
  return { child, ready };
}

async function startServer(root: string | null): Promise<Server> {
  const data = tempDir('aidos-bench-llm-http-');
  const { child, ready } = root === null ? serveCli(data.dir) : serveCheckout(root, data.dir);
  const url = new URL(await ready);
  const token = readFileSync(localTokenPath(data.dir), 'utf8').trim();
  const api = new ApiClient(apiEndpoints, { baseUrl: url.href, token });
  await api.call('deployments.create', {
    name: 'llm',
    file: MODEL,
    contextSize: CONTEXT,
    threads: THREADS,
    requestLog: { sampleRate: 0 },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return { child, url, token, agent, api, remove: () => data.remove() };
}

const servers: Record<string, Server> = { http: await startServer(null) };
if (opts.baseline !== undefined) servers.baseline = await startServer(opts.baseline);

/** A run from a streamed chat completion's SSE body: the text of its deltas and the usage at the end. */
function runOf(start: number, first: number, body: Buffer, end = performance.now()): Run {
  let text = '';
  let completionTokens = 0;
  for (const event of body.toString('utf8').split('\n\n')) {
    const payload = event.startsWith('data: ') ? event.slice(6) : '';
    if (payload === '' || payload === '[DONE]') continue;
    const parsed = JSON.parse(payload) as {
      choices: { delta?: { content?: string } }[];
      usage?: { completion_tokens: number } | null;
    };
    text += parsed.choices[0]?.delta?.content ?? '';
    if (parsed.usage) completionTokens = parsed.usage.completion_tokens;
  }
  return finish(start, first, completionTokens, text, end);
}

const requestBody = (i: number) =>
  Buffer.from(
    JSON.stringify({
      model: 'llm',
      messages: messagesOf(i),
      max_tokens: TOKENS,
      temperature: 0,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    }),
  );

/** One streamed chat completion through node:http; the text of each SSE delta as it arrives, the usage at the end. */
function streamChat({ url, token, agent }: Server, i: number): Promise<Run> {
  const body = requestBody(i);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first = 0;
    const chunks: Buffer[] = [];
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/chat/completions',
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          let error = '';
          res.on('data', (c: Buffer) => (error += c.toString()));
          res.on('end', () => reject(new Error(`${res.statusCode}: ${error}`)));
          return;
        }
        // The client does as little as it can while the stream runs (it shares the CPUs with the server): it
        // keeps the bytes and looks for the first text delta; the events are parsed once the stream has ended.
        res.on('data', (chunk: Buffer) => {
          if (first === 0 && chunk.includes(FIRST_TEXT)) first = performance.now();
          chunks.push(chunk);
        });
        res.on('end', () => resolve(runOf(start, first, Buffer.concat(chunks))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The same request as streamChat over one kept-alive socket, written as bytes and read as bytes: the response is
 * complete at chunked encoding's last chunk, then its body is decoded. No HTTP library on this side.
 */
const rawSockets: net.Socket[] = [];
async function rawClient({ url, token }: Server): Promise<(i: number) => Promise<Run>> {
  const socket = net.connect(Number(url.port), url.hostname);
  rawSockets.push(socket);
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');
  return (i) => {
    const body = requestBody(i);
    const head =
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const request = Buffer.concat([Buffer.from(head), body]);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let first = 0;
      let tail = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        if (first === 0 && chunk.includes(FIRST_TEXT)) first = performance.now();
        chunks.push(chunk);
        tail = Buffer.concat([tail, chunk]).subarray(-LAST_CHUNK.length);
        if (!tail.equals(LAST_CHUNK)) return;
        const end = performance.now();
        socket.off('data', onData).off('error', reject);
        const response = Buffer.concat(chunks);
        const split = response.indexOf('\r\n\r\n');
        const status = response.subarray(0, response.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.1 200 /.test(status)) return reject(new Error(status));
        // Chunked encoding: a hexadecimal size line, that many bytes, CRLF; a size of 0 ends the body.
        const decoded: Buffer[] = [];
        for (let at = split + 4; ;) {
          const line = response.indexOf('\r\n', at);
          const size = parseInt(response.subarray(at, line).toString(), 16);
          if (size === 0) break;
          decoded.push(response.subarray(line + 2, line + 2 + size));
          at = line + 2 + size + 2;
        }
        resolve(runOf(start, first, Buffer.concat(decoded), end));
      };
      socket.on('data', onData).once('error', reject);
      const start = performance.now();
      socket.write(request);
    });
  };
}

// ---- in process: node-llama-cpp on the same file, settings and prompt tokens ----
const llama = await sharedLlama(false);
const model = await llama.loadModel({ modelPath: MODEL, gpuLayers: 0 });
const template = model.fileInfo.metadata.tokenizer.chat_template;
const renderer = promptRenderer(model, 'auto', typeof template === 'string' && template.length > 0);
const bias = banEog(model);
const context = await model.createContext({ contextSize: CONTEXT, threads: THREADS });
const sequence = context.getSequence();

async function direct(i: number): Promise<Run> {
  await sequence.clearHistory();
  const start = performance.now();
  const { tokens: prompt } = renderer.render(messagesOf(i));
  let first = 0;
  let text = '';
  let count = 0;
  const recent = prompt.slice(-8);
  for await (const next of sequence.evaluate(prompt, { temperature: 0, tokenBias: bias })) {
    text += model.detokenize([next], false, recent);
    recent.push(next);
    recent.shift();
    if (count++ === 0) first = performance.now();
    if (count >= TOKENS) break;
  }
  return finish(start, first, count, text);
}

const variants: Record<string, (i: number) => Promise<Run>> = { direct };
for (const [name, server] of Object.entries(servers)) {
  const raw = opts.client === 'raw' ? await rawClient(server) : null;
  variants[name] = raw ?? ((i) => streamChat(server, i));
}
/** CPU time of all threads of a process so far, in ms (Linux schedstat: nanosecond resolution). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  }
  return ns / 1e6;
}
const loadBefore = os.loadavg();
const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
// CPU per generated token: this process (the direct loop; an HTTP variant's client) and an HTTP variant's server.
const cpu = Object.fromEntries(Object.keys(variants).map((name) => [name, { self: 0, server: 0, tokens: 0 }]));
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const [name, run] of Object.entries(variants)) {
    const serverPid = servers[name]?.child.pid;
    const [self, served] = [cpuMs(process.pid), serverPid === undefined ? 0 : cpuMs(serverPid)];
    const result = await run(i);
    if (i < WARMUP) continue;
    runs[name]!.push(result);
    const used = cpu[name]!;
    used.tokens += result.tokens;
    used.self += cpuMs(process.pid) - self;
    if (serverPid !== undefined) used.server += cpuMs(serverPid) - served;
  }
}
/** ms of CPU a token: this process's (direct: the loop; HTTP: the client) and the server's. */
const cpuPerToken = Object.fromEntries(
  Object.entries(cpu).map(([name, used]) => [
    name,
    { selfMs: used.self / used.tokens, ...(name === 'direct' ? {} : { serverMs: used.server / used.tokens }) },
  ]),
);
const loadAfter = os.loadavg();
/** The server's own time to first token, p50 of the last requests (warm-ups included): the runtime's call to the token. */
const serverTtftMs: Record<string, number | null> = {};
for (const [name, server] of Object.entries(servers)) {
  serverTtftMs[name] = (await server.api.call('deployments.stats', { deployment: 'llm' })).timeToFirstTokenMs.p50;
}
await context.dispose();
await model.dispose();
for (const socket of rawSockets) socket.destroy();
for (const server of Object.values(servers)) {
  server.agent.destroy();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  server.remove();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const summary = Object.fromEntries(
  Object.entries(runs).map(([name, list]) => {
    const tps = list.map((r) => r.tokensPerSecond);
    const ttft = list.map((r) => r.ttftMs);
    return [
      name,
      {
        tokens: list[0]?.tokens ?? 0,
        tokensPerSecond: { median: median(tps), min: Math.min(...tps), max: Math.max(...tps) },
        ttftMs: { median: median(ttft), min: Math.min(...ttft), max: Math.max(...ttft) },
      },
    ];
  }),
) as Record<string, { tokens: number; tokensPerSecond: Range; ttftMs: Range }>;
const direct_ = summary.direct!;
/** An HTTP variant against direct: the same text run by run (odd and even runs differ), tokens/s and TTFT. */
const versus = Object.fromEntries(
  Object.keys(servers).map((name) => {
    const s = summary[name]!;
    const ratio = s.tokensPerSecond.median / direct_.tokensPerSecond.median;
    const ttftOverheadMs = s.ttftMs.median - direct_.ttftMs.median;
    return [
      name,
      {
        sameText: runs.direct!.every((r, i) => r.text === runs[name]![i]?.text),
        httpVsDirectTokensPerSecond: ratio,
        ttftOverheadMs,
        met: ratio >= 0.97 && ttftOverheadMs <= 2,
      },
    ];
  }),
);

if (opts.json) {
  console.log(
    JSON.stringify({
      benchmark: 'deploy-llm-http',
      model: MODEL_NAME,
      contextSize: CONTEXT,
      threads: THREADS,
      tokens: TOKENS,
      runs: RUNS,
      client: opts.client,
      baseline: opts.baseline ?? null,
      loadBefore,
      loadAfter,
      ...versus.http,
      versus,
      cpuPerToken,
      serverTtftMs,
      results: summary,
    }),
  );
} else {
  const fmt = (r: Range, digits: number) =>
    `${r.median.toFixed(digits)} [${r.min.toFixed(digits)}-${r.max.toFixed(digits)}]`;
  console.log(
    `deploy-llm-http: ${MODEL_NAME}, context ${CONTEXT}, threads ${THREADS}, greedy, ${TOKENS} tokens, ${RUNS} runs ` +
      `(client: ${opts.client === 'raw' ? 'raw socket' : 'node:http'}) ` +
      `each after ${WARMUP} warm-up (median [min-max]); load ${loadBefore[0]!.toFixed(2)} -> ${loadAfter[0]!.toFixed(2)}`,
  );
  for (const [name, s] of Object.entries(summary)) {
    const used = cpuPerToken[name]!;
    const cpuText =
      used.serverMs === undefined
        ? `CPU ${used.selfMs.toFixed(3)} ms/token`
        : `CPU server ${used.serverMs.toFixed(3)} + client ${used.selfMs.toFixed(3)} ms/token, ` +
          `server's TTFT p50 ${serverTtftMs[name]?.toFixed(2)} ms`;
    console.log(
      `  ${name.padEnd(8)} ${fmt(s.tokensPerSecond, 0)} tok/s   TTFT ${fmt(s.ttftMs, 2)} ms   ${s.tokens} tokens   ${cpuText}`,
    );
  }
  for (const [name, v] of Object.entries(versus)) {
    console.log(
      `  ${name} / direct: ${(v.httpVsDirectTokensPerSecond * 100).toFixed(1)}% of decode tokens/s (target >= 97%), ` +
        `TTFT ${v.ttftOverheadMs >= 0 ? '+' : ''}${v.ttftOverheadMs.toFixed(2)} ms (target <= 2 ms): ` +
        `${v.met ? 'MET' : 'MISSED'}; same text: ${v.sameText ? 'yes' : 'NO'}`,
    );
  }
}
