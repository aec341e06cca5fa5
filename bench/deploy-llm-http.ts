// DeployEngine's OpenAI-compatible chat endpoint over HTTP against node-llama-cpp called in this process (issue 6):
// tokens/s streamed through `POST /v1/chat/completions` (SSE) from a GGUF deployment in a real `aidos serve` child
// process, against node-llama-cpp's own evaluate loop here on the same model, settings and prompt tokens (the
// messages rendered as the deployment renders them). The tiny llama fixture, context 128, threads 1, greedy, end
// of generation banned (`ignore_eos`, llama-server's extension) so every run generates --tokens tokens; each run
// from a cold KV cache (the deployment's conversation reuse is defeated by a different user message per run, and
// the direct sequence's history is cleared). Runs interleave, so load drifts hit both alike.
// Time to first token runs from sending the request (direct: from the call) to the first text; tokens/s is decode
// speed (tokens after the first over the time after the first). Targets: >= 97% of direct tokens/s, TTFT + <= 2 ms.
//   npx tsx bench/deploy-llm-http.ts [--tokens 120] [--runs 15] [--warmup 3] [--threads 1] [--json]
import { readFileSync } from 'node:fs';
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

function finish(start: number, first: number, tokens: number, text: string): Run {
  const end = performance.now();
  return { ttftMs: first - start, tokensPerSecond: ((tokens - 1) * 1000) / (end - first), tokens, text };
}

/** A different message per run: the deployment cannot reuse the previous run's KV cache. */
const messagesOf = (i: number): ChatTurn[] => [
  { role: 'user', content: `word word ${i % 2 === 0 ? 'word' : 'words'}` },
];

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
    let text = '';
    let completionTokens = 0;
    let pending = '';
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
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let end;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const payload = event.startsWith('data: ') ? event.slice(6) : '';
            if (payload === '' || payload === '[DONE]') continue;
            const parsed = JSON.parse(payload) as {
              choices: { delta?: { content?: string } }[];
              usage?: { completion_tokens: number } | null;
            };
            const delta = parsed.choices[0]?.delta?.content;
            if (delta) {
              if (first === 0) first = performance.now();
              text += delta;
            }
            if (parsed.usage) completionTokens = parsed.usage.completion_tokens;
          }
        });
        res.on('end', () => resolve(finish(start, first, completionTokens, text)));
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
const loadBefore = os.loadavg();
const runs: Record<string, Run[]> = { direct: [], http: [] };
for (let i = 0; i < WARMUP + RUNS; i++) {
  for (const [name, run] of Object.entries(variants)) {
    const result = await run(i);
    if (i >= WARMUP) runs[name]!.push(result);
  }
}
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
    `  HTTP / direct: ${(ratio * 100).toFixed(1)}% of decode tokens/s (target >= 97%), TTFT ` +
      `${ttftOverheadMs >= 0 ? '+' : ''}${ttftOverheadMs.toFixed(2)} ms (target <= 2 ms): ${met ? 'MET' : 'MISSED'}; ` +
      `same text: ${sameText ? 'yes' : 'NO'}`,
  );
}
