// Timing loops shared by the serving benchmarks: sequential requests, and N closed-loop clients.

export interface Latency {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export function summarise(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { n: ms.length, mean: ms.reduce((a, b) => a + b, 0) / ms.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** One request; `i` numbers the requests (to pick an input). */
export type Call = (i: number) => Promise<unknown>;

/** `warmup` untimed calls, then `iterations` sequential calls, each timed (ms). */
export async function sequential(call: Call, warmup: number, iterations: number): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await call(i);
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await call(i);
    ms.push(performance.now() - t);
  }
  return summarise(ms);
}

/** `clients` closed-loop clients for `seconds` after `warmupMs` untimed: requests per second and their latency. */
export async function closedLoop(
  call: Call,
  clients: number,
  seconds: number,
  warmupMs: number,
): Promise<{ rps: number; latency: Latency }> {
  const warmEnd = performance.now() + warmupMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < warmEnd; i += clients) await call(i);
    }),
  );
  const ms: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < end; i += clients) {
        const t = performance.now();
        await call(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { rps: ms.length / ((performance.now() - start) / 1000), latency: summarise(ms) };
}
