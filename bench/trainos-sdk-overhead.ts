// TrainOS: what tracking costs a training script. The PyTorch template (resources/templates/pytorch-tabular/train.py)
// on a synthetic 50,000-row x 20-column CSV, run bare (`--no-log`, no AIDOS_* in its environment: the SDK is not
// even imported) and as a job of a real core, submitted from the template (`trainingTemplates.submit`, the same
// arguments; the table a DataForge dataset version mounted as TRAIN; `loss` logged every step, validation metrics
// every epoch, checkpoints as the template's default says (one a minute, and one after the last epoch) or as
// --checkpoint-every says ('epoch': one after every epoch), system metrics every 10 s, the model uploaded at the end), alternating,
// each --reps times (the order swapped every repetition). The core runs in this process, as the app's would beside
// the job. Short runs, many of them: on a shared machine the clock and the neighbours drift by 20% and more over
// minutes, so repetitions taken back to back and compared pair by pair resolve more than a few long ones.
//
// The bench learns that a job has ended from the core's own events (what the app's window follows over its
// WebSocket), not by asking: it used to poll `trainingJobs.get` every 20 ms, ~3 ms of the core's CPU a call, a
// quarter of a CPU all through every job run and never through a bare one. On two busy vCPUs that alone slows a
// loop by more than everything the SDK does (a bare run beside the same polling: +33%, median of 3 pairs at load
// 2-3; +78% in a pair at load 4-5).
//
// Measured by train.py itself (its last line, `timing {...}`): `train_s`, the wall time of the training loop (all
// steps with their logging and checkpoints), `train_cpu_s`, the CPU time of the whole Python process meanwhile (every
// thread: the SDK's sender too), and `total_s`, from its argument parsing to its end (data loading, `aidos.init`,
// the artifact upload and `finish` included). Also the process's wall time as seen from outside: spawn to exit for a
// bare run, the job's startedAt to endedAt.
// Also, from the job's own line: the time its loop spent in `aidos.log` calls and in checkpoints, and the CPU of
// its other threads (the SDK's sender): the SDK's share of the loop, which machine noise hardly touches. And the
// core's CPU (this process: the core, the bench only waits) from each run's start to its end: what the app takes
// beside the job (storing the points and checkpoints, following its output), against what it takes idle.
// Target: the job's training loop is at most 3% slower than the bare one: the median of the repetitions' ratios
// (job / bare, run back to back); the medians of each kind are printed too. Also compared pair by pair: the loop at
// its median step (steps × the median step + the time between steps, from train.py's timing line), which the slow
// seconds of a shared VM (steps taking twice as long in bare and job runs alike) move far less than the total.
// --together runs each repetition's two at the same time (on a machine with cores to spare: both then see the same
// clock speed and neighbours, which on a shared VM drift by 20% and more between runs).
// --pin keeps the core (this process) on the first CPU and the training script, bare and job alike, on the second,
// so that the core's work for the job never runs on the loop's CPU; what the core takes is printed apart.
// To measure another copy of the SDK (before/after a change), put the folder holding its `aidos` package on
// PYTHONPATH: the core passes its environment to the job, where train.py imports `aidos` from there first.
//   npx tsx bench/trainos-sdk-overhead.ts [--rows 50000] [--cols 20] [--epochs 10] [--batch-size 64] [--reps 7]
//                                         [--checkpoint-every SECONDS|epoch] [--together] [--pin]
//                                         [--python /usr/bin/python3] [--json]
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTestCore, type TestCore } from '#core/testing';
import { waitFor } from '#platform/testing';
import { shippedTemplatesDir } from '#services/trainos/templates';
import type { TemplateParamValue, TrainingJob, TrainingTemplate } from '#shared/contracts/trainos';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    cols: { type: 'string', default: '20' },
    epochs: { type: 'string', default: '10' },
    'batch-size': { type: 'string', default: '64' },
    reps: { type: 'string', default: '7' },
    'checkpoint-every': { type: 'string' },
    together: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const COLS = Number(opts.cols);
const EPOCHS = Number(opts.epochs);
const BATCH = Number(opts['batch-size']);
const REPS = Number(opts.reps);
/** Each repetition's bare run and job at the same time (a machine with cores to spare): both see the same clock. */
const TOGETHER = opts.together;
/** The core on CPU 0, the training script on CPU 1 (Linux, `taskset`). */
const PIN = opts.pin;
const PYTHON = opts.python;
const TARGET_PERCENT = 3;
const TEMPLATES = shippedTemplatesDir();
if (!TEMPLATES) throw new Error('resources/templates not found');
const TEMPLATE = path.join(TEMPLATES, 'pytorch-tabular');

const root = mkdtempSync(path.join(os.tmpdir(), 'aidos-bench-sdk-overhead-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.once('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/**
 * What runs train.py, bare and as the job (the template's `python` parameter): with --pin, a script that starts
 * the interpreter on CPU 1 (the core stays on CPU 0, and the job would inherit that from the core's launcher).
 */
function scriptPython(): string {
  if (!PIN) return PYTHON;
  if (os.availableParallelism() < 2) throw new Error('--pin needs two CPUs');
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const wrapper = path.join(root, 'python-on-cpu1');
  writeFileSync(wrapper, `#!/bin/sh\nexec taskset -c 1 '${PYTHON.replaceAll("'", "'\\''")}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}
const SCRIPT_PYTHON = scriptPython();

/** mulberry32: the same table every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** COLS numeric columns (uniform in [-1, 1]) and a 3-class label from a fixed linear score. */
async function writeTable(file: string): Promise<void> {
  const rand = seeded(7);
  const weights = Array.from({ length: COLS }, () => rand() * 2 - 1);
  const out = createWriteStream(file);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  await write(`${Array.from({ length: COLS }, (_, i) => `x${i}`).join(',')},label\n`);
  for (let r = 0; r < ROWS; r++) {
    const x = Array.from({ length: COLS }, () => rand() * 2 - 1);
    const score = x.reduce((sum, v, i) => sum + v * (weights[i] as number), 0);
    await write(`${x.map((v) => v.toFixed(5)).join(',')},${score > 0.5 ? 'high' : score < -0.5 ? 'low' : 'mid'}\n`);
  }
  await new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve(null))));
}

interface Timing {
  load_s: number;
  train_s: number;
  train_cpu_s: number;
  /** Of train_cpu_s, the threads other than the main one (the SDK's sender and sampler). */
  other_threads_cpu_s: number;
  /** Of train_s, in the per-step `aidos.log` calls. */
  log_s: number;
  /** Of train_s, in checkpoint(): writing the file, sending the buffered metrics, uploading. */
  checkpoint_s: number;
  /** The median training step (its `aidos.log` call included), in µs. */
  step_median_us: number;
  /** Of train_s, the time outside the steps: validation, checkpoints, the last uploads. */
  between_steps_s: number;
  total_s: number;
}
interface Sample extends Timing {
  mode: 'bare' | 'job';
  rep: number;
  /** How many checkpoints the job saved (0 bare). */
  checkpoints: number;
  /** Seconds the process ran, seen from outside (bare: spawn to exit; job: startedAt to endedAt). */
  wall_s: number;
  /** CPU seconds of this process (the core) from the run's start to its end (a job: from its submission). */
  core_cpu_s: number;
  /** Seconds that window lasted. */
  core_window_s: number;
  load: number;
  /**
   * The loop as if every step took the median step, plus the time between steps: what the loop costs without
   * the seconds in which a shared VM runs slow (its steps then take twice as long, bare or job alike).
   */
  steady_s: number;
}

/** This process's CPU time so far, in seconds. */
function coreCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function parseTiming(lines: string[]): Timing {
  const line = lines.findLast((l) => l.startsWith('timing '));
  if (!line) throw new Error(`train.py printed no timing line:\n${lines.slice(-20).join('\n')}`);
  return JSON.parse(line.slice('timing '.length)) as Timing;
}

/** The template's parameters for both runs (the rest take the manifest's defaults). */
const PARAMS: Record<string, TemplateParamValue> = {
  python: SCRIPT_PYTHON,
  target: 'label',
  epochs: EPOCHS,
  batch_size: BATCH,
  hidden: '64,32',
  threads: 1,
  ...(opts['checkpoint-every'] === undefined ? {} : { checkpoint_every: opts['checkpoint-every'] }),
};

/** train.py's arguments as the core fills in the template's command (the bare run gets the same ones). */
function trainArgs(template: TrainingTemplate): string[] {
  if (template.kind !== 'script') throw new Error(`template ${template.id} is not a script`);
  const value = (name: string) => PARAMS[name] ?? template.params.find((p) => p.name === name)?.default ?? '';
  return template.command.slice(1).map((arg) => arg.replace(/\{(\w+)\}/g, (_, name: string) => String(value(name))));
}

/** This process's environment without AIDOS_*, and on the CPU as the job is (the template asks for no GPU). */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '' };
  for (const key of Object.keys(env)) if (key.startsWith('AIDOS_')) delete env[key];
  return env;
}

async function runBare(template: TrainingTemplate, dataDir: string, rep: number): Promise<Sample> {
  const env = bareEnv();
  const args = [
    ...trainArgs(template),
    '--data-dir',
    dataDir,
    '--no-log',
    '--output-dir',
    path.join(root, `bare-${rep}`),
  ];
  const t0 = performance.now();
  const cpu0 = coreCpuSeconds();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(SCRIPT_PYTHON, args, { cwd: TEMPLATE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output: text }));
  });
  const wall = (performance.now() - t0) / 1000;
  const core = { core_cpu_s: coreCpuSeconds() - cpu0, core_window_s: wall };
  if (code !== 0) throw new Error(`bare train.py exited with ${code}:\n${output}`);
  const timing = parseTiming(output.split('\n'));
  return {
    mode: 'bare',
    checkpoints: 0,
    rep,
    ...timing,
    steady_s: steadySeconds(timing),
    wall_s: wall,
    ...core,
    load: os.loadavg()[0] as number,
  };
}

/**
 * Submits a job and resolves once it has ended, as the core's `training.job.updated` events tell (subscribed before
 * the submission, so that no end is missed): waiting costs the core nothing.
 */
async function submitAndAwaitEnd(t: TestCore, submit: () => Promise<TrainingJob>): Promise<TrainingJob> {
  const ended = new Set<string>();
  let check = () => {};
  const off = t.core.bus.on('training.job.updated', (event) => {
    const { job } = event.data as { job: TrainingJob };
    if (job.state === 'queued' || job.state === 'running') return;
    ended.add(job.id);
    check();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const { id } = await submit();
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the job ${id} did not end in 30 min`)), 30 * 60_000);
      check = () => {
        if (ended.has(id)) resolve();
      };
      check();
    });
    return await t.client.call('trainingJobs.get', { job: id });
  } finally {
    clearTimeout(timer);
    off();
  }
}

async function runJob(t: TestCore, rep: number): Promise<Sample> {
  const t0 = performance.now();
  const cpu0 = coreCpuSeconds();
  // As the app's "new training job" form submits it.
  const job = await submitAndAwaitEnd(t, () =>
    t.client.call('trainingTemplates.submit', {
      template: 'pytorch-tabular',
      name: `overhead ${rep}`,
      params: PARAMS,
      datasets: { TRAIN: { dataset: 'bench-table' } },
      experiment: 'bench-sdk-overhead',
    }),
  );
  const core = { core_cpu_s: coreCpuSeconds() - cpu0, core_window_s: (performance.now() - t0) / 1000 };
  const lines = (await t.client.call('trainingJobs.logs', { job: job.id, maxBytes: 4_194_304 })).lines.map(
    (l) => l.text,
  );
  if (job.state !== 'succeeded') throw new Error(`the job ${job.state}: ${job.reason}\n${lines.slice(-20).join('\n')}`);
  // What the job did besides training: every step logged, checkpoints (one per epoch if asked), the last at the end.
  const steps = (await t.client.call('runs.history', { run: job.runId as string, key: 'loss', limit: 100_000 })).items;
  const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
  const perEpoch = PARAMS.checkpoint_every === 'epoch';
  if (
    steps.length !== stepsPerEpoch() * EPOCHS ||
    checkpoints.at(-1)?.step !== steps.length ||
    (perEpoch && checkpoints.length !== EPOCHS)
  ) {
    throw new Error(
      `the job logged ${steps.length} loss points and checkpoints at steps ${checkpoints.map((c) => c.step).join(', ')}`,
    );
  }
  const wall = ((job.endedAt ?? 0) - (job.startedAt ?? 0)) / 1000;
  const timing = parseTiming(lines);
  return {
    mode: 'job',
    rep,
    checkpoints: checkpoints.length,
    ...timing,
    steady_s: steadySeconds(timing),
    wall_s: wall,
    ...core,
    load: os.loadavg()[0] as number,
  };
}

function steadySeconds(timing: Timing): number {
  return (timing.step_median_us / 1e6) * stepsPerEpoch() * EPOCHS + timing.between_steps_s;
}

/** As train.py splits: a fifth of the rows held out for validation. */
function stepsPerEpoch(): number {
  return Math.ceil((ROWS - Math.round(ROWS * 0.2)) / BATCH);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main() {
  const load0 = os.loadavg();
  const dataDir = path.join(root, 'data');
  mkdirSync(dataDir);
  const table = path.join(dataDir, 'table.csv');
  await writeTable(table);
  // Aged past the stat cache's racy window, as imports expect of settled files.
  const old = new Date(Date.now() - 60_000);
  utimesSync(table, old, old);

  const t = await startTestCore({ dataDir: path.join(root, 'core') });
  const samples: Sample[] = [];
  try {
    const imported = await t.client.call('datasets.import', { dataset: 'bench-table', path: dataDir, create: true });
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: imported.id })).status) || undefined,
      10 * 60_000,
      'the import',
    );
    const template = (await t.client.call('trainingTemplates.list')).templates.find((x) => x.id === 'pytorch-tabular');
    if (!template) throw new Error(`the core lists no template pytorch-tabular (in ${TEMPLATES})`);
    // One short bare run first: Python, torch and the table in the page cache for every measured run alike.
    await runBareWarmUp(dataDir);
    const report = (sample: Sample) => {
      samples.push(sample);
      if (opts.json) return;
      console.error(
        `  rep ${sample.rep} ${sample.mode.padEnd(4)}  train ${sample.train_s.toFixed(2)} s` +
          `  cpu ${sample.train_cpu_s.toFixed(2)} s (other threads ${sample.other_threads_cpu_s.toFixed(2)})` +
          `  log ${sample.log_s.toFixed(2)} s  checkpoints ${sample.checkpoint_s.toFixed(2)} s` +
          `  total ${sample.total_s.toFixed(2)} s  wall ${sample.wall_s.toFixed(2)} s` +
          `  core cpu ${sample.core_cpu_s.toFixed(2)} s in ${sample.core_window_s.toFixed(1)} s  load ${sample.load.toFixed(2)}`,
      );
    };
    for (let rep = 1; rep <= REPS; rep++) {
      if (TOGETHER) {
        const both = await Promise.all([runBare(template, dataDir, rep), runJob(t, rep)]);
        both.forEach(report);
        continue;
      }
      const order = rep % 2 === 1 ? (['bare', 'job'] as const) : (['job', 'bare'] as const);
      for (const mode of order) report(mode === 'bare' ? await runBare(template, dataDir, rep) : await runJob(t, rep));
    }
  } finally {
    await t.close();
  }
  const load1 = os.loadavg();

  const of = (mode: 'bare' | 'job', key: keyof Timing | 'wall_s' | 'steady_s') =>
    median(samples.filter((s) => s.mode === mode).map((s) => s[key]));
  const keys = [
    'train_s',
    'train_cpu_s',
    'step_median_us',
    'between_steps_s',
    'steady_s',
    'total_s',
    'wall_s',
  ] as const;
  const medians = Object.fromEntries(
    keys.map((k) => [
      k,
      { bare: of('bare', k), job: of('job', k), overheadPercent: (of('job', k) / of('bare', k) - 1) * 100 },
    ]),
  ) as Record<(typeof keys)[number], { bare: number; job: number; overheadPercent: number }>;
  // What the SDK itself takes inside the job's training loop (medians), in percent of the bare loop. The bare
  // run's log_s (timing a call that does nothing) is what measuring costs: taken off the job's.
  const parts = ['log_s', 'checkpoint_s', 'other_threads_cpu_s'] as const;
  const sdk = Object.fromEntries(
    parts.map((k) => {
      const job = of('job', k) - (k === 'log_s' ? of('bare', k) : 0);
      return [k, { job, percentOfBareLoop: (job / of('bare', 'train_s')) * 100 }];
    }),
  ) as Record<(typeof parts)[number], { job: number; percentOfBareLoop: number }>;
  const directPercent = sdk.log_s.percentOfBareLoop + sdk.checkpoint_s.percentOfBareLoop;
  // Each repetition's job against its own bare run (back to back, or together): the machine's drift cancels.
  const pairs = (key: 'train_s' | 'train_cpu_s' | 'steady_s') => {
    const percents: number[] = [];
    for (let rep = 1; rep <= REPS; rep++) {
      const bare = samples.find((s) => s.mode === 'bare' && s.rep === rep);
      const job = samples.find((s) => s.mode === 'job' && s.rep === rep);
      if (bare && job) percents.push((job[key] / bare[key] - 1) * 100);
    }
    return { medianPercent: median(percents), minPercent: Math.min(...percents), maxPercent: Math.max(...percents) };
  };
  const paired = { train_s: pairs('train_s'), train_cpu_s: pairs('train_cpu_s'), steady_s: pairs('steady_s') };
  // The core's CPU while each kind of run went on, in percent of one CPU (medians).
  const coreBusy = (mode: 'bare' | 'job') =>
    median(samples.filter((s) => s.mode === mode).map((s) => (s.core_cpu_s / s.core_window_s) * 100));
  const coreCpuPercent = { bare: coreBusy('bare'), job: coreBusy('job') };
  const result = {
    benchmark: 'trainos-sdk-overhead',
    rows: ROWS,
    columns: COLS,
    epochs: EPOCHS,
    batchSize: BATCH,
    stepsPerEpoch: stepsPerEpoch(),
    reps: REPS,
    python: PYTHON,
    together: TOGETHER,
    pinned: PIN,
    samples,
    medians,
    sdk,
    /** The SDK's calls in the loop (log + checkpoints), in percent of the bare loop: the overhead without noise. */
    directPercent,
    /** Per repetition, job / bare − 1 in percent: median, least and most. */
    paired,
    /** CPU of the core (this process) during the runs, in percent of one CPU. */
    coreCpuPercent,
    loadAverage: { start: load0, end: load1 },
    targetPercent: TARGET_PERCENT,
    met: paired.train_s.medianPercent <= TARGET_PERCENT,
  };
  if (opts.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const steps = stepsPerEpoch() * EPOCHS;
  console.log(
    `trainos-sdk-overhead: pytorch-tabular train.py, ${ROWS} rows x ${COLS} columns, ${EPOCHS} epochs x ` +
      `${stepsPerEpoch()} steps (batch ${BATCH}, --threads 1), ${REPS} runs each` +
      `${TOGETHER ? ' (bare and job at the same time)' : ' (alternating)'}` +
      `${PIN ? ', the core on CPU 0 and the script on CPU 1' : ''}, medians`,
  );
  const checkpoints = [...new Set(samples.filter((x) => x.mode === 'job').map((x) => x.checkpoints))].join(' or ');
  const every = PARAMS.checkpoint_every ?? "the template's default";
  console.log(
    `  job: ${steps} loss points, ${checkpoints} checkpoints (every: ${every}), system metrics, model upload; ` +
      'bare: --no-log',
  );
  console.log('  measure                        bare        job   overhead');
  const names: Record<(typeof keys)[number], string> = {
    train_s: 'training loop, wall (s)',
    train_cpu_s: 'training loop, CPU (s)',
    step_median_us: 'median step (µs)',
    between_steps_s: 'loop outside steps (s)',
    steady_s: 'loop at the median step (s)',
    total_s: 'script start to end (s)',
    wall_s: 'process wall (s)',
  };
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
  for (const k of keys) {
    const m = medians[k];
    console.log(
      `  ${names[k].padEnd(27)} ${m.bare.toFixed(2).padStart(8)}   ${m.job.toFixed(2).padStart(8)}   ${signed(m.overheadPercent)}`,
    );
  }
  for (const [k, name] of [
    ['train_s', 'wall'],
    ['train_cpu_s', 'CPU'],
    ['steady_s', 'at the median step'],
  ] as const) {
    const p = paired[k];
    console.log(
      `  training loop, ${name}, job / bare of each repetition: median ${signed(p.medianPercent)}` +
        ` (${signed(p.minPercent)} … ${signed(p.maxPercent)})`,
    );
  }
  console.log(
    `  the core's CPU during the runs (% of one CPU): ${coreCpuPercent.bare.toFixed(1)}% beside a bare run,` +
      ` ${coreCpuPercent.job.toFixed(1)}% running the job`,
  );
  console.log("  in the job's loop                         s   of the bare loop");
  const partNames: Record<(typeof parts)[number], string> = {
    log_s: 'aidos.log calls (wall)¹',
    checkpoint_s: 'checkpoints (wall)',
    other_threads_cpu_s: 'other threads (CPU)',
  };
  for (const k of parts) {
    console.log(
      `  ${partNames[k].padEnd(27)}            ${sdk[k].job.toFixed(2).padStart(8)}   ${sdk[k].percentOfBareLoop.toFixed(1)}%`,
    );
  }
  console.log("  ¹ less the bare run's (timing a call that does nothing)");
  console.log(
    `  target: training loop <= ${TARGET_PERCENT}% slower as a job (median of the repetitions): ` +
      `${result.met ? 'met' : 'MISSED'} ` +
      `(SDK calls in the loop: ${directPercent.toFixed(1)}% of it; at the median step: ` +
      `${signed(paired.steady_s.medianPercent)})` +
      `   load average ${load0.map((x) => x.toFixed(2)).join(' ')} at the start, ${load1.map((x) => x.toFixed(2)).join(' ')} at the end`,
  );
}

async function runBareWarmUp(dataDir: string): Promise<void> {
  const env = bareEnv();
  const args = ['train.py', '--target', 'label', '--epochs', '1', '--data-dir', dataDir, '--no-log'];
  await new Promise((resolve, reject) => {
    const child = spawn(SCRIPT_PYTHON, [...args, '--output-dir', path.join(root, 'warm-up')], {
      cwd: TEMPLATE,
      env,
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

await main();
