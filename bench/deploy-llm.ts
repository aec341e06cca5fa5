// DeployEngine's GGUF runtime (src/main/services/deploy/llm) streaming against node-llama-cpp called directly in
// this process, on the same model and settings: the tiny llama fixture, context 128, threads 1, greedy, the same
// prompt, end-of-generation banned so every run generates --tokens tokens (the model would stop after a sentence).
// Variants, interleaved run by run so load drifts hit them alike, each on a cold KV cache:
//   direct-evaluate   LlamaContextSequence.evaluate + model.detokenize per token (the lowest-level streaming loop)
//   direct-completion LlamaCompletion.generateCompletion with onTextChunk (node-llama-cpp's streaming API)
//   runtime           GgufRuntime.startCompletion, iterating its text deltas (what the /v1 routes will call)
// Time to first token runs from the call to the first text; tokens/s is decode speed (tokens after the first over
// the time after the first). The HTTP path (SSE through the gateway) is not measured here: no routes exist yet.
//   npx tsx bench/deploy-llm.ts [--tokens 120] [--runs 15] [--warmup 3] [--threads 1] [--json]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LlamaCompletion, type Token } from 'node-llama-cpp';
import { sharedLlama } from '#services/deploy/llm/backend';
import { GgufRuntime } from '#services/deploy/llm/runtime';
import { banEog } from './llm-common';

const { values: opts } = parseArgs({
  options: {
    tokens: { type: 'string', default: '120' },
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    model: { type: 'string' },
    prompt: { type: 'string', default: 'word word word' },
    json: { type: 'boolean', default: false },
  },
});
const TOKENS = Number(opts.tokens);
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const THREADS = Number(opts.threads);
const PROMPT = opts.prompt;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = opts.model ?? path.resolve(ROOT, 'test-fixtures/models/tiny-llama-memorizer-q8.gguf');
const CONTEXT = 128;

interface Run {
  ttftMs: number;
  /** Decode speed: tokens after the first over the time after the first. */
  tokensPerSecond: number;
  /** Tokens over the whole call, prompt evaluation included. */
  overallTokensPerSecond: number;
  /** The process's CPU time (all threads) per generated token: less disturbed by other work than wall time. */
  cpuUsPerToken: number;
  tokens: number;
  text: string;
}

function finish(start: number, first: number, tokens: number, text: string): Run {
  const end = performance.now();
  return {
    ttftMs: first - start,
    tokensPerSecond: ((tokens - 1) * 1000) / (end - first),
    overallTokensPerSecond: (tokens * 1000) / (end - start),
    cpuUsPerToken: 0,
    tokens,
    text,
  };
}

async function main(): Promise<void> {
  const llama = await sharedLlama(false);
  const model = await llama.loadModel({ modelPath: MODEL, gpuLayers: 0 });
  const bias = banEog(model);
  const evaluateContext = await model.createContext({ contextSize: CONTEXT, threads: THREADS });
  const evaluateSequence = evaluateContext.getSequence();
  const completionContext = await model.createContext({ contextSize: CONTEXT, threads: THREADS });
  const completionSequence = completionContext.getSequence();
  const completion = new LlamaCompletion({ contextSequence: completionSequence });
  const runtime = await GgufRuntime.load({ path: MODEL, contextSize: CONTEXT, threads: THREADS });

  const variants: Record<string, () => Promise<Run>> = {
    'direct-evaluate': async () => {
      await evaluateSequence.clearHistory();
      const start = performance.now();
      const prompt = [model.tokens.bos as Token, ...model.tokenize(PROMPT)];
      let first = 0;
      let text = '';
      let count = 0;
      const recent = prompt.slice(-8);
      for await (const token of evaluateSequence.evaluate(prompt, { temperature: 0, tokenBias: bias })) {
        text += model.detokenize([token], false, recent);
        recent.push(token);
        recent.shift();
        if (count++ === 0) first = performance.now();
        if (count >= TOKENS) break;
      }
      return finish(start, first, count, text);
    },
    'direct-completion': async () => {
      await completionSequence.clearHistory();
      const start = performance.now();
      let first = 0;
      let text = '';
      let count = 0;
      await completion.generateCompletion(PROMPT, {
        temperature: 0,
        maxTokens: TOKENS,
        tokenBias: bias,
        // Its text is released late (held for stop-trigger detection), so time the first token, not text.
        onToken: (tokens) => {
          if (first === 0) first = performance.now();
          count += tokens.length;
        },
        onTextChunk: (chunk) => {
          text += chunk;
        },
      });
      return finish(start, first, count, text);
    },
    runtime: async () => {
      await runtime.clearCache();
      const start = performance.now();
      let first = 0;
      let text = '';
      const generation = await runtime.startCompletion(PROMPT, { temperature: 0, maxTokens: TOKENS, ignoreEos: true });
      for await (const delta of generation) {
        if (first === 0) first = performance.now();
        text += delta;
      }
      const result = await generation.result;
      return finish(start, first, result.completionTokens, text);
    },
  };

  const loadBefore = os.loadavg();
  const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [name, run] of Object.entries(variants)) {
      const cpu = process.cpuUsage();
      const result = await run();
      const used = process.cpuUsage(cpu);
      result.cpuUsPerToken = (used.user + used.system) / result.tokens;
      if (i >= WARMUP) runs[name]!.push(result);
    }
  }
  const loadAfter = os.loadavg();

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const summary = Object.entries(runs).map(([name, list]) => {
    const tps = list.map((r) => r.tokensPerSecond);
    const ttft = list.map((r) => r.ttftMs);
    const overall = list.map((r) => r.overallTokensPerSecond);
    const cpu = list.map((r) => r.cpuUsPerToken);
    return {
      variant: name,
      tokens: list[0]?.tokens ?? 0,
      tokensPerSecond: { median: median(tps), min: Math.min(...tps), max: Math.max(...tps) },
      overallTokensPerSecond: { median: median(overall), min: Math.min(...overall), max: Math.max(...overall) },
      cpuUsPerToken: { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu) },
      ttftMs: { median: median(ttft), min: Math.min(...ttft), max: Math.max(...ttft) },
    };
  });
  // LlamaCompletion trims the leading space and evaluates the prompt its own way, so its text may differ a little.
  const texts = new Set([...runs['direct-evaluate']!, ...runs.runtime!].map((r) => r.text));
  const reference = summary.find((s) => s.variant === 'direct-evaluate')!;
  const ours = summary.find((s) => s.variant === 'runtime')!;
  const ratio = ours.tokensPerSecond.median / reference.tokensPerSecond.median;
  const overallRatio = ours.overallTokensPerSecond.median / reference.overallTokensPerSecond.median;
  const cpuRatio = ours.cpuUsPerToken.median / reference.cpuUsPerToken.median;
  const ttftOverheadMs = ours.ttftMs.median - reference.ttftMs.median;

  await runtime.dispose();
  await completionContext.dispose();
  await evaluateContext.dispose();
  await model.dispose();

  if (opts.json) {
    console.log(
      JSON.stringify({
        benchmark: 'deploy-llm',
        model: path.basename(MODEL),
        contextSize: CONTEXT,
        threads: THREADS,
        tokens: TOKENS,
        runs: RUNS,
        prompt: PROMPT,
        loadBefore,
        loadAfter,
        sameTextAsDirectEvaluate: texts.size === 1,
        runtimeVsDirectTokensPerSecond: ratio,
        runtimeVsDirectOverallTokensPerSecond: overallRatio,
        runtimeVsDirectCpuPerToken: cpuRatio,
        runtimeTtftOverheadMs: ttftOverheadMs,
        results: summary,
      }),
    );
    return;
  }
  console.log(
    `deploy-llm: ${path.basename(MODEL)}, context ${CONTEXT}, threads ${THREADS}, greedy, ${TOKENS} tokens from ` +
      `${JSON.stringify(PROMPT)}, ${RUNS} runs each after ${WARMUP} warm-up (median [min-max])`,
  );
  console.log(
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  );
  for (const s of summary) {
    console.log(
      `  ${s.variant.padEnd(18)} ${s.tokensPerSecond.median.toFixed(0).padStart(6)} tok/s ` +
        `[${s.tokensPerSecond.min.toFixed(0)}-${s.tokensPerSecond.max.toFixed(0)}]   overall ` +
        `${s.overallTokensPerSecond.median.toFixed(0)} [${s.overallTokensPerSecond.min.toFixed(0)}-${s.overallTokensPerSecond.max.toFixed(0)}]   TTFT ${s.ttftMs.median.toFixed(2)} ms ` +
        `[${s.ttftMs.min.toFixed(2)}-${s.ttftMs.max.toFixed(2)}]   CPU ${s.cpuUsPerToken.median.toFixed(0)} µs/token ` +
        `[${s.cpuUsPerToken.min.toFixed(0)}-${s.cpuUsPerToken.max.toFixed(0)}]   ${s.tokens} tokens`,
    );
  }
  console.log(
    `  runtime / direct-evaluate: ${(ratio * 100).toFixed(1)}% of decode tokens/s, ` +
      `${(overallRatio * 100).toFixed(1)}% overall, ${(cpuRatio * 100).toFixed(1)}% of the CPU per token, TTFT ${ttftOverheadMs >= 0 ? '+' : ''}${ttftOverheadMs.toFixed(2)} ms` +
      `; same text as direct-evaluate: ${texts.size === 1 ? 'yes' : `no (${texts.size} texts)`}`,
  );
}

await main();
