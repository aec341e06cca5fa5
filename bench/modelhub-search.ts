// ModelHub reads over HTTP, against a real core (in a child process, fresh data dir), one keep-alive connection:
//   3. POST /api/2.0/mlflow/runs/search, filter `metrics.acc > 0.5 and params.lr = '0.01'`, ordered by
//      `metrics.acc DESC`, a page of 100, over 10,000 runs (3 params, 3 metrics each): p95 <= 20 ms;
//   4. POST /api/v1/runs/series/binary (the chart data the app draws) for 100 runs x 10,000 steps of one key,
//      maxPoints 1000 (LTTB): <= 100 ms. Judged on "live" requests: before each, every run gets one more point
//      (untimed), so no series is served from the server's cache of drawn series. Also timed: the same as JSON
//      (runs/series), and "repeated" requests with nothing new.
// MLflow 2.12 with SQLite on this machine: a runs/search page of 100 over 1,000 runs took 160-280 ms.
//   npx tsx bench/modelhub-search.ts [--runs 10000] [--searches 200] [--chart-runs 100] [--steps 10000] [--json]
import { parseArgs } from 'node:util';
import { decodeSeriesBinary } from '#shared/series-binary';
import { benchRoot, Client, machineLine, startServer, summarize, verdict, type BenchServer } from './modelhub-common';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    searches: { type: 'string', default: '200' },
    'chart-runs': { type: 'string', default: '100' },
    steps: { type: 'string', default: '10000' },
    charts: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const SEARCHES = Number(opts.searches);
const CHART_RUNS = Number(opts['chart-runs']);
const STEPS = Number(opts.steps);
const CHARTS = Number(opts.charts);
const TARGET = { searchP95Ms: 20, seriesMs: 100 };
const API = '/api/2.0/mlflow';
const FILTER = "metrics.acc > 0.5 and params.lr = '0.01'";

async function createRun(client: Client, experimentId: string, name: string): Promise<string> {
  const r = await client.post<{ run: { info: { run_id: string } } }>(`${API}/runs/create`, {
    experiment_id: experimentId,
    run_name: name,
    start_time: Date.now(),
  });
  return r.run.info.run_id;
}

/** Runs `work(i)` for i in [0, n) over `clients` connections at once (seeding only; the timed parts are sequential). */
async function parallel(clients: Client[], n: number, work: (client: Client, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < n) await work(client, next++);
    }),
  );
}

/** 10,000 runs with params lr, batch_size, optimizer and metrics acc, loss, f1 (3 steps each). */
async function seedSearch(clients: Client[], experimentId: string): Promise<void> {
  const lrs = ['0.1', '0.01', '0.001'];
  const optimizers = ['adam', 'sgd', 'adamw', 'lion'];
  await parallel(clients, RUNS, async (client, i) => {
    const runId = await createRun(client, experimentId, `search-${i}`);
    const t = Date.now();
    const metrics = [];
    for (let step = 0; step < 3; step++) {
      metrics.push({ key: 'acc', value: Math.random(), timestamp: t + step, step });
      metrics.push({ key: 'loss', value: Math.random() * 3, timestamp: t + step, step });
      metrics.push({ key: 'f1', value: Math.random(), timestamp: t + step, step });
    }
    await client.post(`${API}/runs/log-batch`, {
      run_id: runId,
      params: [
        { key: 'lr', value: lrs[i % 3] },
        { key: 'batch_size', value: String(32 << (i % 4)) },
        { key: 'optimizer', value: optimizers[i % 4] },
      ],
      metrics,
    });
  });
}

/** 100 runs, each a `loss` curve of 10,000 steps (logged 1,000 points a request). */
async function seedSeries(clients: Client[], experimentId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let r = 0; r < CHART_RUNS; r++) ids.push(await createRun(clients[0] as Client, experimentId, `chart-${r}`));
  const perRun = Math.ceil(STEPS / 1000);
  const t0 = Date.now();
  await parallel(clients, CHART_RUNS * perRun, async (client, i) => {
    // Request i logs part i / CHART_RUNS of run i % CHART_RUNS: the connections log different runs at once, and each
    // run's parts arrive in step order (as from one training process per run).
    const run = i % CHART_RUNS;
    const s0 = Math.floor(i / CHART_RUNS) * 1000;
    const metrics = [];
    for (let step = s0; step < Math.min(STEPS, s0 + 1000); step++) {
      const value = 2 * Math.exp(-step / 2000) + 0.05 * Math.random() + run / 1000;
      metrics.push({ key: 'loss', value, timestamp: t0 + step * 40, step });
    }
    await client.post(`${API}/runs/log-batch`, { run_id: ids[run], metrics });
  });
  return ids;
}

async function timed(n: number, warmup: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  return times;
}

async function main() {
  const root = benchRoot('modelhub-search');
  const load0 = machineLine();
  let server: BenchServer | undefined;
  const clients: Client[] = [];
  try {
    server = await startServer(root);
    for (let i = 0; i < 4; i++) clients.push(new Client(server));
    const client = clients[0] as Client;
    const { experiment_id: searchExp } = await client.post<{ experiment_id: string }>(`${API}/experiments/create`, {
      name: 'search',
    });
    const { experiment_id: chartExp } = await client.post<{ experiment_id: string }>(`${API}/experiments/create`, {
      name: 'charts',
    });
    let s = performance.now();
    await seedSearch(clients, searchExp);
    const seedSearchS = (performance.now() - s) / 1000;
    s = performance.now();
    const chartRuns = await seedSeries(clients, chartExp);
    const seedSeriesS = (performance.now() - s) / 1000;

    // 3. runs/search
    const searchBody = JSON.stringify({
      experiment_ids: [searchExp],
      filter: FILTER,
      max_results: 100,
      order_by: ['metrics.acc DESC'],
    });
    let matched = 0;
    let cpu0 = server.cpuMs();
    const searchTimes = await timed(SEARCHES, 20, async () => {
      const r = await client.post<{ runs?: unknown[] }>(`${API}/runs/search`, searchBody);
      matched = r.runs?.length ?? 0;
    });
    const search = { ...summarize(searchTimes), serverCpuMs: (server.cpuMs() - cpu0) / (SEARCHES + 20) };

    // 4. runs/series: the binary form the app draws from (judged), and the JSON form, each timed "live" (before
    // each request every run gets one more point, untimed, so nothing comes from the server's cache of drawn
    // series), then the binary form again with nothing new (served from that cache). Both decode the answer, as
    // the app would.
    const seriesBody = JSON.stringify({ runIds: chartRuns, keys: ['loss'], maxPoints: 1000 });
    let seriesCount = 0;
    let pointsEach = 0;
    const fetchBinary = async () => {
      const bytes = await client.postForBytes('/api/v1/runs/series/binary', seriesBody);
      const { series } = decodeSeriesBinary(bytes);
      seriesCount = series.length;
      pointsEach = series[0]?.x.length ?? 0;
    };
    const fetchJson = async () => {
      await client.post<{ series: unknown[] }>('/api/v1/runs/series', seriesBody);
    };
    let nextStep = STEPS;
    const core = server;
    const live = async (fetch: () => Promise<void>) => {
      const times: number[] = [];
      let cpu = 0;
      for (let i = 0; i < CHARTS + 3; i++) {
        const step = nextStep++;
        for (const runId of chartRuns) {
          await client.post(`${API}/runs/log-batch`, {
            run_id: runId,
            metrics: [{ key: 'loss', value: 0.1, timestamp: Date.now(), step }],
          });
        }
        const c0 = core.cpuMs();
        const t = performance.now();
        await fetch();
        // The first 3 warm up (JIT), as for the others.
        if (i >= 3) {
          times.push(performance.now() - t);
          cpu += core.cpuMs() - c0;
        }
      }
      return { ...summarize(times), serverCpuMs: cpu / CHARTS };
    };
    const series = await live(fetchBinary);
    const seriesJson = await live(fetchJson);
    cpu0 = server.cpuMs();
    const repeatedTimes = await timed(CHARTS, 3, fetchBinary);
    const repeated = { ...summarize(repeatedTimes), serverCpuMs: (server.cpuMs() - cpu0) / (CHARTS + 3) };

    const result = {
      benchmark: 'modelhub-search',
      machine: load0,
      loadAfter: machineLine(),
      seed: { runs: RUNS, searchSeconds: seedSearchS, chartRuns: CHART_RUNS, steps: STEPS, seriesSeconds: seedSeriesS },
      search: {
        ...search,
        requests: SEARCHES,
        returned: matched,
        target: TARGET.searchP95Ms,
        met: search.p95 <= TARGET.searchP95Ms,
      },
      series: {
        ...series,
        requests: CHARTS,
        series: seriesCount,
        pointsEach,
        target: TARGET.seriesMs,
        // Every request, not just the median, within the target: the p95.
        met: series.p95 <= TARGET.seriesMs,
        json: seriesJson,
        repeated,
      },
    };
    if (opts.json) console.log(JSON.stringify(result));
    else {
      const ms = (x: number) => `${x.toFixed(2)} ms`;
      console.log(`modelhub-search  ${load0}`);
      console.log(
        `   seeded ${RUNS} runs in ${seedSearchS.toFixed(1)} s; ${CHART_RUNS} runs x ${STEPS} steps in ${seedSeriesS.toFixed(1)} s`,
      );
      console.log(
        `3. runs/search "${FILTER}" order by metrics.acc DESC, page of 100 (${matched} returned), ${SEARCHES} requests: p95 ${ms(search.p95)} (target <= ${TARGET.searchP95Ms} ms) ${verdict(result.search.met)}`,
      );
      console.log(
        `   p50 ${ms(search.p50)}  p99 ${ms(search.p99)}  max ${ms(search.max)}  mean ${ms(search.mean)}; server CPU ${ms(search.serverCpuMs)}/request`,
      );
      console.log(
        `4. runs/series/binary ${seriesCount} runs x ${STEPS} steps, 1 key, maxPoints 1000 (${pointsEach} points each), ${CHARTS} live requests (a new point in every run before each): p95 ${ms(series.p95)} (target <= ${TARGET.seriesMs} ms) ${verdict(result.series.met)}`,
      );
      console.log(
        `   p50 ${ms(series.p50)}  max ${ms(series.max)}  mean ${ms(series.mean)}; server CPU ${ms(series.serverCpuMs)}/request`,
      );
      console.log(
        `   the same as JSON (runs/series), live: p50 ${ms(seriesJson.p50)}  p95 ${ms(seriesJson.p95)}; server CPU ${ms(seriesJson.serverCpuMs)}/request`,
      );
      console.log(
        `   binary, repeated (nothing new, served from the cache): p50 ${ms(repeated.p50)}  p95 ${ms(repeated.p95)}; server CPU ${ms(repeated.serverCpuMs)}/request`,
      );
      console.log(`   load after: ${result.loadAfter}`);
    }
  } finally {
    for (const c of clients) c.close();
    await server?.stop();
  }
}

await main();
