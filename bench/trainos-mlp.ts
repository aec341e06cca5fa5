// TrainOS built-in tabular MLP (TF.js, wasm backend, in this process) against the same network in PyTorch on one
// thread (bench/trainos_mlp_torch.py): a synthetic 3-class table of --rows x --features numbers, the same layer
// sizes, ReLU, softmax cross-entropy, Adam, learning rate, batch size and epochs, no validation split. Also TF.js's
// own tf.layers model.fit on the same data, the usual way to train in TF.js, for reference. Seconds are per epoch,
// the mean after the first (which includes warm-up: wasm and JIT compilation), wall-clock and CPU (the process's
// user + system time, which the other work on a shared machine disturbs less); the ratios are to PyTorch. With
// --repeat N the variants run N times in turn and each one's best run is shown. The initial weights differ (Glorot
// uniform here and in tf.layers, PyTorch's own default there), so the losses differ a little.
//   npx tsx bench/trainos-mlp.ts [--rows 20000] [--features 20] [--hidden 64,32] [--epochs 5] [--batch 32]
//                                [--lr 0.001] [--variants builtin,layers,torch] [--repeat 1] [--json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTf } from '#platform/builtin-training/backend';
import { seededRandom, normalSample } from '#platform/builtin-training/rng';
import { runBuiltinTrainer } from '#platform/builtin-training/train';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    features: { type: 'string', default: '20' },
    hidden: { type: 'string', default: '64,32' },
    epochs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.001' },
    variants: { type: 'string', default: 'builtin,layers,torch' },
    repeat: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const FEATURES = Number(opts.features);
const HIDDEN = opts.hidden.split(',').filter(Boolean).map(Number);
const EPOCHS = Number(opts.epochs);
const BATCH = Number(opts.batch);
const LR = Number(opts.lr);
const CLASSES = 3;
const PYTHON = '/usr/bin/python3';
const TORCH_PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'trainos_mlp_torch.py');

const root = mkdtempSync(path.join(os.tmpdir(), 'aidos-bench-mlp-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.once('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** Features ~ N(0, 1) on different scales; the class is the argmax of a fixed random linear map plus noise. */
function writeTable(file: string): { x: Float32Array; y: Int32Array } {
  const random = seededRandom(7);
  const map = Array.from({ length: CLASSES * FEATURES }, () => normalSample(random));
  const x = new Float32Array(ROWS * FEATURES);
  const y = new Int32Array(ROWS);
  const lines = [[...Array.from({ length: FEATURES }, (_, j) => `f${j}`), 'y'].join(',')];
  for (let r = 0; r < ROWS; r++) {
    const row = Array.from({ length: FEATURES }, (_, j) => Number((normalSample(random) * (j + 1)).toFixed(4)));
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      const score =
        row.reduce((s, v, j) => s + (v / (j + 1)) * (map[c * FEATURES + j] as number), 0) + normalSample(random) * 0.5;
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    x.set(row, r * FEATURES);
    y[r] = best;
    lines.push([...row, `c${best}`].join(','));
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return { x, y };
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

interface Result {
  variant: string;
  epochSeconds: number[];
  epochCpuSeconds: number[];
  loss: number;
  accuracy: number;
}

async function builtin(dir: string): Promise<Result> {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const restart = () => {
    last = performance.now();
    lastCpu = process.cpuUsage();
  };
  let final: Record<string, number> = {};
  await runBuiltinTrainer(
    {
      kind: 'tabular-classifier',
      target: 'y',
      hiddenUnits: HIDDEN,
      epochs: EPOCHS,
      batchSize: BATCH,
      learningRate: LR,
      validationSplit: 0,
      earlyStoppingPatience: 0,
    },
    dir,
    null,
    {
      // The last data-preparation line comes just before the first batch.
      log: (message) => {
        if (/ training, /.test(message)) restart();
      },
      epochEnd: async (_epoch, metrics) => {
        times.push((performance.now() - last) / 1000);
        cpuTimes.push(cpuSeconds(process.cpuUsage(lastCpu)));
        final = metrics;
      },
      // The next epoch starts after the checkpoint is taken.
      checkpoint: async () => restart(),
    },
  );
  return {
    variant: 'built-in (TF.js wasm, custom loop)',
    epochSeconds: times,
    epochCpuSeconds: cpuTimes,
    loss: final.loss ?? NaN,
    accuracy: final.accuracy ?? NaN,
  };
}

/** The same network with tf.layers and model.fit, on standardised features. */
async function layers(data: { x: Float32Array; y: Int32Array }): Promise<Result> {
  const { tf } = await loadTf();
  const x = Float32Array.from(data.x);
  for (let j = 0; j < FEATURES; j++) {
    let mean = 0;
    for (let r = 0; r < ROWS; r++) mean += x[r * FEATURES + j] as number;
    mean /= ROWS;
    let variance = 0;
    for (let r = 0; r < ROWS; r++) variance += ((x[r * FEATURES + j] as number) - mean) ** 2;
    const std = Math.sqrt(variance / ROWS);
    for (let r = 0; r < ROWS; r++) x[r * FEATURES + j] = ((x[r * FEATURES + j] as number) - mean) / std;
  }
  const model = tf.sequential();
  [...HIDDEN, CLASSES].forEach((units, i) =>
    model.add(
      tf.layers.dense({
        units,
        activation: i < HIDDEN.length ? 'relu' : 'softmax',
        ...(i === 0 ? { inputShape: [FEATURES] } : {}),
      }),
    ),
  );
  model.compile({ optimizer: tf.train.adam(LR), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor2d(x, [ROWS, FEATURES]);
  const ys = tf.tensor2d(Float32Array.from(data.y), [ROWS, 1]);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let start = 0;
  let startCpu = process.cpuUsage();
  const history = await model.fit(xs, ys, {
    epochs: EPOCHS,
    batchSize: BATCH,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochBegin: async () => {
        start = performance.now();
        startCpu = process.cpuUsage();
      },
      onEpochEnd: async () => {
        times.push((performance.now() - start) / 1000);
        cpuTimes.push(cpuSeconds(process.cpuUsage(startCpu)));
      },
    },
  });
  const lastOf = (name: string) => (history.history[name]?.at(-1) as number | undefined) ?? NaN;
  const result = {
    variant: 'TF.js tf.layers model.fit (wasm)',
    epochSeconds: times,
    epochCpuSeconds: cpuTimes,
    loss: lastOf('loss'),
    accuracy: lastOf('acc'),
  };
  tf.dispose([xs, ys]);
  model.dispose();
  return result;
}

function torch(file: string): Result {
  const run = spawnSync(
    PYTHON,
    [
      TORCH_PEER,
      '--csv',
      file,
      '--target',
      'y',
      '--hidden',
      HIDDEN.join(','),
      '--epochs',
      String(EPOCHS),
      '--batch',
      String(BATCH),
      '--lr',
      String(LR),
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`the PyTorch peer failed: ${run.stderr || run.error?.message}`);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as {
    torch: string;
    epochSeconds: number[];
    epochCpuSeconds: number[];
    loss: number;
    accuracy: number;
  };
  return {
    variant: `PyTorch ${out.torch} (1 thread)`,
    epochSeconds: out.epochSeconds,
    epochCpuSeconds: out.epochCpuSeconds,
    loss: out.loss,
    accuracy: out.accuracy,
  };
}

/** Seconds per epoch in steady state: the mean after the first epoch (warm-up), or the only one. */
function steady(seconds: number[]): number {
  const rest = seconds.length > 1 ? seconds.slice(1) : seconds;
  return rest.reduce((a, b) => a + b, 0) / rest.length;
}

const loadBefore = os.loadavg();
const file = path.join(root, 'table.csv');
const data = writeTable(file);
/** Each variant's runs, in the order of --variants. */
const runs = new Map<string, Result[]>();
for (let round = 0; round < Number(opts.repeat); round++) {
  for (const variant of opts.variants.split(',')) {
    let result: Result;
    if (variant === 'builtin') result = await builtin(root);
    else if (variant === 'layers') result = await layers(data);
    else if (variant === 'torch') result = torch(file);
    else throw new Error(`unknown variant '${variant}' (builtin, layers, torch)`);
    runs.set(variant, [...(runs.get(variant) ?? []), result]);
  }
}
const loadAfter = os.loadavg();
/** A variant's best run (the lowest steady CPU time), with its steady wall and CPU seconds. */
const results = [...runs.values()].map((list) => {
  const scored = list.map((r) => ({
    ...r,
    steadySeconds: steady(r.epochSeconds),
    steadyCpuSeconds: steady(r.epochCpuSeconds),
  }));
  return scored.reduce((a, b) => (b.steadyCpuSeconds < a.steadyCpuSeconds ? b : a));
});
const torchResult = results.find((r) => r.variant.startsWith('PyTorch'));

if (opts.json) {
  console.log(
    JSON.stringify({
      benchmark: 'trainos-mlp',
      rows: ROWS,
      features: FEATURES,
      hidden: HIDDEN,
      epochs: EPOCHS,
      batch: BATCH,
      learningRate: LR,
      repeat: Number(opts.repeat),
      loadBefore,
      loadAfter,
      results,
    }),
  );
} else {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `trainos-mlp: ${ROWS} x ${FEATURES} table, ${CLASSES} classes, MLP ${[FEATURES, ...HIDDEN, CLASSES].join('-')}, ` +
      `Adam lr ${LR}, batch ${BATCH}, ${EPOCHS} epochs, best of ${opts.repeat}; load average ${load(loadBefore)} before, ` +
      `${load(loadAfter)} after`,
  );
  console.log(
    '  variant                                wall s/epoch   CPU s/epoch   1st epoch   vs PyTorch (wall / CPU)   final loss   accuracy',
  );
  for (const r of results) {
    const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(1)}x` : '-');
    const ratios = `${ratio(r.steadySeconds, torchResult?.steadySeconds)} / ${ratio(r.steadyCpuSeconds, torchResult?.steadyCpuSeconds)}`;
    console.log(
      `  ${r.variant.padEnd(38)} ${r.steadySeconds.toFixed(3).padStart(13)} ${r.steadyCpuSeconds.toFixed(3).padStart(13)}` +
        ` ${(r.epochSeconds[0] ?? NaN).toFixed(3).padStart(11)} ${ratios.padStart(25)} ${r.loss.toFixed(4).padStart(12)}` +
        ` ${r.accuracy.toFixed(3).padStart(10)}`,
    );
  }
}
