// EvalKit classification metrics with bootstrap confidence intervals over --rows predictions (default 1,000,000;
// --classes 2 (default): labels 0/1 and P(1); more: a probability column per class; probabilities rounded to
// --decimals 3, or 'full' for all distinct): all the point metrics
// (accuracy, per-class precision/recall/F1, macro/weighted, ROC AUC, PR AUC, log loss, confusion matrix,
// calibration), then percentile intervals of accuracy, F1, ROC AUC, PR AUC and log loss from --resamples seeded
// resamples (default 1,000), on --threads worker threads (default 2; 0 runs them on this thread).
// With few distinct (score, class) cells a resample is an exact multinomial draw over the cells; with distinct
// scores (--decimals full) it gives every row a Poisson(1) weight, all the resamples of a thread walking the sorted
// rows together piece by piece (see #platform/evaluation/bootstrap). With more classes, from 10,000 rows every row
// gets a Poisson(1) weight hashed from (resample, row), and each class's one-vs-rest ranking is walked with them.
// Times are wall-clock from the arrays in memory to the intervals; 'cold' includes starting the worker threads
// (from source, each registers tsx first), 'warm' reuses them. CPU is the whole process's (all threads) over the
// run, steadier than wall time on a shared machine. Target: ≤ 5 s on a 2-core machine.
//   npx tsx bench/evalkit-metrics.ts [--rows 1000000] [--resamples 1000] [--decimals 3|full] [--threads 2]
//                                    [--classes 2] [--repeat 3] [--json]
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  bootstrapClassification,
  type ClassificationHeadline,
  type ConfidenceInterval,
} from '#platform/evaluation/bootstrap';
import { metricsOfPrepared, prepareClassification } from '#platform/evaluation/classification';
import { workerReplicateRunner } from '#platform/evaluation/parallel';
import { RandomStream } from '#platform/evaluation/random';
import { WorkerPool } from '#platform/worker-pool';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    resamples: { type: 'string', default: '1000' },
    threads: { type: 'string', default: '2' },
    decimals: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '3' },
    classes: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const RESAMPLES = Number(opts.resamples);
const THREADS = Number(opts.threads);
const REPEAT = Number(opts.repeat);
const CLASSES = Number(opts.classes);
/** Probabilities rounded to this many decimals (as a model exporting 3 decimals); 'full' keeps every bit. */
const DECIMALS = opts.decimals === 'full' ? null : Number(opts.decimals);
const TARGET_S = 5;

const round = (p: number) => (DECIMALS === null ? p : Math.round(p * 10 ** DECIMALS) / 10 ** DECIMALS);

/**
 * A seeded problem. Binary: a latent score, the label drawn from it, the probability a noisy calibrated view.
 * More classes: a label, and a softmax of noisy logits that favour it, one probability column per class.
 */
function generate(): { labels: Int32Array; probabilities: Float64Array[] } {
  const random = new RandomStream(7);
  const labels = new Int32Array(ROWS);
  const probabilities = Array.from({ length: CLASSES === 2 ? 1 : CLASSES }, () => new Float64Array(ROWS));
  const logits = new Float64Array(CLASSES);
  for (let i = 0; i < ROWS; i++) {
    if (CLASSES === 2) {
      const latent = random.normal();
      labels[i] = random.uniform() < 1 / (1 + Math.exp(-2 * latent)) ? 1 : 0;
      probabilities[0]![i] = round(1 / (1 + Math.exp(-2 * (latent + 0.4 * random.normal()))));
      continue;
    }
    labels[i] = Math.floor(random.uniform() * CLASSES);
    let total = 0;
    for (let c = 0; c < CLASSES; c++) total += logits[c] = Math.exp((c === labels[i] ? 1 : 0) + random.normal());
    for (let c = 0; c < CLASSES; c++) probabilities[c]![i] = round(logits[c]! / total);
  }
  return { labels, probabilities };
}

const data = generate();
const pool = THREADS > 0 ? new WorkerPool(os.tmpdir(), THREADS) : null;
const runner = pool ? workerReplicateRunner(pool) : undefined;

interface Run {
  totalSeconds: number;
  prepareSeconds: number;
  metricsSeconds: number;
  bootstrapSeconds: number;
  /** CPU time of the whole process (every thread, the bootstrap workers included) over the run. */
  cpuSeconds: number;
  cold: boolean;
}

const loadBefore = os.loadavg();
const runs: Run[] = [];
let intervals: Record<ClassificationHeadline, ConfidenceInterval> | undefined;
let point: ReturnType<typeof metricsOfPrepared> | undefined;
for (let r = 0; r < REPEAT; r++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const classes = Array.from({ length: CLASSES }, (_, c) => c);
  const prepared = prepareClassification(
    CLASSES === 2
      ? { labels: data.labels, positiveProbability: data.probabilities[0]!, classes }
      : { labels: data.labels, classProbabilities: data.probabilities, classes },
  );
  const t1 = performance.now();
  point = metricsOfPrepared(prepared);
  const t2 = performance.now();
  intervals = await bootstrapClassification(prepared, {
    resamples: RESAMPLES,
    seed: 1,
    metrics: point,
    ...(runner ? { runner, parts: THREADS } : {}),
  });
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  runs.push({
    totalSeconds: (t3 - t0) / 1000,
    prepareSeconds: (t1 - t0) / 1000,
    metricsSeconds: (t2 - t1) / 1000,
    bootstrapSeconds: (t3 - t2) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cold: r === 0 && pool !== null,
  });
}
const loadAfter = os.loadavg();
await pool?.close();

const totals = runs.map((r) => r.totalSeconds);
const summary = {
  benchmark: 'evalkit-metrics',
  rows: ROWS,
  classes: CLASSES,
  resamples: RESAMPLES,
  decimals: DECIMALS ?? 'full',
  threads: THREADS,
  repeat: REPEAT,
  targetSeconds: TARGET_S,
  bestSeconds: Math.min(...totals),
  worstSeconds: Math.max(...totals),
  loadBefore,
  loadAfter,
  runs,
  intervals,
};
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `${path.basename(import.meta.filename)}: ${ROWS.toLocaleString('en')} ${CLASSES === 2 ? 'binary' : `${CLASSES}-class`} predictions (${DECIMALS ?? 'full'} decimals), ` +
      `${RESAMPLES} bootstrap resamples, ` +
      `${THREADS ? `${THREADS} worker threads` : 'this thread'}; load average ${load(loadBefore)} before, ${load(loadAfter)} after`,
  );
  console.log('  run    total s   prepare s   metrics s   bootstrap s   CPU s');
  runs.forEach((r, i) =>
    console.log(
      `  ${String(i + 1).padEnd(2)}${r.cold ? 'cold' : 'warm'} ${r.totalSeconds.toFixed(2).padStart(8)} ${r.prepareSeconds
        .toFixed(2)
        .padStart(
          11,
        )} ${r.metricsSeconds.toFixed(2).padStart(11)} ${r.bootstrapSeconds.toFixed(2).padStart(13)} ${r.cpuSeconds.toFixed(2).padStart(7)}`,
    ),
  );
  console.log(
    `  best ${summary.bestSeconds.toFixed(2)} s, worst ${summary.worstSeconds.toFixed(2)} s (target ≤ ${TARGET_S} s)`,
  );
  for (const [name, ci] of Object.entries(intervals ?? {})) {
    console.log(
      `  ${name.padEnd(9)} ${ci.estimate?.toFixed(5)}  [${ci.lower?.toFixed(5)}, ${ci.upper?.toFixed(5)}]  (${ci.valid} resamples)`,
    );
  }
}
