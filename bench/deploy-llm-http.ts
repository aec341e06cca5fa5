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
//   npx tsx bench/deploy-llm-http.ts [--tokens 120] [--runs 15] [--warmup 3] [--threads 1] [--json]
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
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
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const TOKENS = Number(opts.tokens);
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const THREADS = Number(opts.threads);
const CONTEXT = 128;
const MODEL = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');

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

// ---- the server: `aidos serve` in a child process with the model deployed ----
const data = tempDir('aidos-bench-llm-http-');
const server = serveCli(data.dir);
const url = new URL(await server.ready);
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

/** One streamed chat completion; the text of each SSE delta as it arrives, the usage at the end. */
function streamChat(i: number): Promise<Run> {
  const body = Buffer.from(
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
        res.on('end', () => {
          const end = performance.now();
          let text = '';
          let completionTokens = 0;
          for (const event of Buffer.concat(chunks).toString('utf8').split('\n\n')) {
            const payload = event.startsWith('data: ') ? event.slice(6) : '';
            if (payload === '' || payload === '[DONE]') continue;
            const parsed = JSON.parse(payload) as {
              choices: { delta?: { content?: string } }[];
              usage?: { completion_tokens: number } | null;
            };
            text += parsed.choices[0]?.delta?.content ?? '';
            if (parsed.usage) completionTokens = parsed.usage.completion_tokens;
          }
          resolve(finish(start, first, completionTokens, text, end));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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

const variants: Record<'direct' | 'http', (i: number) => Promise<Run>> = { direct, http: streamChat };
/** CPU time of all threads of a process so far, in ms (Linux schedstat: nanosecond resolution). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  }
  return ns / 1e6;
}
const serverPid = server.child.pid as number;
const loadBefore = os.loadavg();
const runs: Record<string, Run[]> = { direct: [], http: [] };
// CPU per generated token: this process for both (the direct loop; the HTTP client), the server for HTTP.
const cpu = { direct: 0, client: 0, server: 0 };
const generated = { direct: 0, http: 0 };
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const [name, run] of Object.entries(variants) as ['direct' | 'http', (i: number) => Promise<Run>][]) {
    const [self, served] = [cpuMs(process.pid), cpuMs(serverPid)];
    const result = await run(i);
    if (i < WARMUP) continue;
    runs[name]!.push(result);
    generated[name] += result.tokens;
    if (name === 'direct') cpu.direct += cpuMs(process.pid) - self;
    else {
      cpu.client += cpuMs(process.pid) - self;
      cpu.server += cpuMs(serverPid) - served;
    }
  }
}
const cpuPerToken = {
  directMs: cpu.direct / generated.direct,
  serverMs: cpu.server / generated.http,
  clientMs: cpu.client / generated.http,
};
const loadAfter = os.loadavg();
agent.destroy();
await context.dispose();
await model.dispose();
server.child.kill('SIGTERM');
await new Promise((resolve) => server.child.once('exit', resolve));
data.remove();

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
) as Record<'direct' | 'http', { tokens: number; tokensPerSecond: Range; ttftMs: Range }>;
// The same text both ways, run by run (odd and even runs have different messages).
const sameText = runs.direct!.every((r, i) => r.text === runs.http![i]?.text);
const ratio = summary.http.tokensPerSecond.median / summary.direct.tokensPerSecond.median;
const ttftOverheadMs = summary.http.ttftMs.median - summary.direct.ttftMs.median;
const met = ratio >= 0.97 && ttftOverheadMs <= 2;

if (opts.json) {
  console.log(
    JSON.stringify({
      benchmark: 'deploy-llm-http',
      contextSize: CONTEXT,
      threads: THREADS,
      tokens: TOKENS,
      runs: RUNS,
      loadBefore,
      loadAfter,
      sameText,
      httpVsDirectTokensPerSecond: ratio,
      ttftOverheadMs,
      cpuPerToken,
      met,
      results: summary,
    }),
  );
} else {
  const fmt = (r: Range, digits: number) =>
    `${r.median.toFixed(digits)} [${r.min.toFixed(digits)}-${r.max.toFixed(digits)}]`;
  console.log(
    `deploy-llm-http: tiny llama, context ${CONTEXT}, threads ${THREADS}, greedy, ${TOKENS} tokens, ${RUNS} runs ` +
      `each after ${WARMUP} warm-up (median [min-max]); load ${loadBefore[0]!.toFixed(2)} -> ${loadAfter[0]!.toFixed(2)}`,
  );
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `  ${name.padEnd(7)} ${fmt(s.tokensPerSecond, 0)} tok/s   TTFT ${fmt(s.ttftMs, 2)} ms   ${s.tokens} tokens`,
    );
  }
  console.log(
    `  CPU a token (all threads): direct ${cpuPerToken.directMs.toFixed(3)} ms; HTTP server ` +
      `${cpuPerToken.serverMs.toFixed(3)} ms + client ${cpuPerToken.clientMs.toFixed(3)} ms`,
  );
  console.log(
    `  HTTP / direct: ${(ratio * 100).toFixed(1)}% of decode tokens/s (target >= 97%), TTFT ` +
      `${ttftOverheadMs >= 0 ? '+' : ''}${ttftOverheadMs.toFixed(2)} ms (target <= 2 ms): ${met ? 'MET' : 'MISSED'}; ` +
      `same text: ${sameText ? 'yes' : 'NO'}`,
  );
}
