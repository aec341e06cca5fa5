// EvalKit drift: a reference and a current table of --rows rows (default 100,000 each) x --columns columns
// (default 100: 70 numeric Float64Arrays, 30 categorical string arrays of 3 to 40 categories); every fifth column
// of the current table is shifted (numbers: mean and scale; categories: reweighted), the rest come from the same
// distribution. The report computes per column PSI (10 reference-quantile bins), Jensen–Shannon distance, KS
// (numeric: statistic and asymptotic p-value) or chi-square (categorical), and the verdict. Times are wall-clock
// for `driftReport` over all columns, on this thread, from the arrays in memory. Target: ≤ 10 s on 2 cores.
//   npx tsx bench/evalkit-drift.ts [--rows 100000] [--columns 100] [--categorical 0.3] [--repeat 3] [--json]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { driftReport, type DriftColumn, type DriftReport } from '#platform/evaluation/drift';
import { RandomStream } from '#platform/evaluation/random';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    columns: { type: 'string', default: '100' },
    categorical: { type: 'string', default: '0.3' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const COLUMNS = Number(opts.columns);
const CATEGORICAL = Math.round(COLUMNS * Number(opts.categorical));
const REPEAT = Number(opts.repeat);
const TARGET_S = 10;

function numeric(random: RandomStream, shift: number, scale: number, skewed: boolean): Float64Array {
  const out = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const z = random.normal() * scale + shift;
    // Some columns skewed and rounded (ties), as amounts and counts are.
    out[i] = skewed ? Math.round(Math.exp(z) * 100) / 100 : z;
  }
  return out;
}

function categorical(random: RandomStream, categories: string[], weights: number[]): string[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = weights.map(
    (
      (s) => (w: number) =>
        (s += w / total)
    )(0),
  );
  return Array.from({ length: ROWS }, () => {
    const u = random.uniform();
    const k = cdf.findIndex((c) => u < c);
    return categories[k === -1 ? categories.length - 1 : k]!;
  });
}

function generate(): DriftColumn[] {
  const random = new RandomStream(11);
  const columns: DriftColumn[] = [];
  for (let c = 0; c < COLUMNS; c++) {
    const drifted = c % 5 === 0;
    if (c < COLUMNS - CATEGORICAL) {
      const skewed = c % 3 === 0;
      columns.push({
        name: `num_${c}`,
        kind: 'numeric',
        reference: numeric(random, 0, 1, skewed),
        current: numeric(random, drifted ? 0.6 : 0, drifted ? 1.3 : 1, skewed),
      });
    } else {
      const k = 3 + (c % 38);
      const categories = Array.from({ length: k }, (_, i) => `cat_${c}_${i}`);
      const weights = categories.map((_, i) => 1 / (i + 1));
      const shifted = weights.map((w, i) => (drifted && i % 2 === 0 ? w * 4 : w));
      columns.push({
        name: `cat_${c}`,
        kind: 'categorical',
        reference: categorical(random, categories, weights),
        current: categorical(random, categories, shifted),
      });
    }
  }
  return columns;
}

const genStart = performance.now();
const columns = generate();
const generateSeconds = (performance.now() - genStart) / 1000;

const loadBefore = os.loadavg();
const runs: { seconds: number; cpuSeconds: number }[] = [];
let report: DriftReport | undefined;
for (let r = 0; r < REPEAT; r++) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  report = driftReport(columns);
  const used = process.cpuUsage(cpu);
  runs.push({ seconds: (performance.now() - t0) / 1000, cpuSeconds: (used.user + used.system) / 1e6 });
}
const loadAfter = os.loadavg();

const seconds = runs.map((r) => r.seconds);
const expectedDrifted = Array.from({ length: COLUMNS }, (_, c) => c % 5 === 0).filter(Boolean).length;
const summary = {
  benchmark: 'evalkit-drift',
  rows: ROWS,
  columns: COLUMNS,
  numeric: COLUMNS - CATEGORICAL,
  categorical: CATEGORICAL,
  repeat: REPEAT,
  targetSeconds: TARGET_S,
  generateSeconds,
  bestSeconds: Math.min(...seconds),
  worstSeconds: Math.max(...seconds),
  runs,
  drifted: report?.drifted,
  warnings: report?.features.filter((f) => f.verdict === 'warning').length,
  shiftedColumns: expectedDrifted,
  loadBefore,
  loadAfter,
};
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `evalkit-drift: ${ROWS.toLocaleString('en')} rows x ${COLUMNS} columns (${summary.numeric} numeric, ${CATEGORICAL} ` +
      `categorical), reference and current; load average ${load(loadBefore)} before, ${load(loadAfter)} after`,
  );
  runs.forEach((r, i) =>
    console.log(`  run ${i + 1}: ${r.seconds.toFixed(2)} s wall, ${r.cpuSeconds.toFixed(2)} s CPU`),
  );
  console.log(
    `  best ${summary.bestSeconds.toFixed(2)} s, worst ${summary.worstSeconds.toFixed(2)} s (target ≤ ${TARGET_S} s)`,
  );
  console.log(
    `  drifted: ${report?.drifted} of ${COLUMNS}, warnings ${summary.warnings} (${expectedDrifted} shifted on purpose); data generated in ${generateSeconds.toFixed(1)} s`,
  );
}
