import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { TemplateJobInput, TrainingCheckpoint, TrainingJob, TrainingTemplate } from '#shared/contracts/trainos';

/**
 * The PyTorch template (resources/templates/pytorch-tabular) as script jobs on a real core, in Debian's Python
 * with torch: a run with per-step and per-epoch metrics, checkpoints and the model as artifacts; checkpoints by time
 * (mid-epoch too) or per epoch; a resume after SIGKILL that continues the step numbering exactly; and a clean stop on
 * SIGTERM.
 */

const TEMPLATE = fileURLToPath(new URL('../../../../resources/templates/pytorch-tabular', import.meta.url));
/** Debian's interpreter, which has torch and numpy (a development Python on PATH may not). */
const PYTHON = '/usr/bin/python3';

/** The manifest as written (the core serves it parsed, with defaults filled in). */
const manifest = JSON.parse(readFileSync(path.join(TEMPLATE, 'template.json'), 'utf8')) as Extract<
  TrainingTemplate,
  { kind: 'script' }
>;

/** The manifest's command with its {param} placeholders filled in from `values`, else the params' defaults: for runs
 * of train.py outside a job, with the same arguments as the jobs. */
function commandFor(values: Record<string, string | number>): string[] {
  return manifest.command.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (_, name: string) => {
      const param = manifest.params.find((p) => p.name === name);
      if (!param) throw new Error(`template.json: the command names no param '${name}'`);
      const value = values[name] ?? param.default;
      if (value === undefined) throw new Error(`template.json: '${name}' has no value`);
      return String(value);
    }),
  );
}

/** Runs a program to its end without blocking the event loop (the core under test answers from this process). */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
    for (const key of Object.keys(env)) if (key.startsWith('AIDOS_')) delete env[key];
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The job's Python process (`python3 train.py …`, not its wrapper shell), found by AIDOS_JOB_ID in /proc. */
function trainerPid(jobId: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== PYTHON || argv[1] !== 'train.py') continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`AIDOS_JOB_ID=${jobId}`)) {
        return Number(entry);
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

/** A classification table of `rows` rows: 5 numeric columns (some missing), one text column, a 3-class target. */
function syntheticTable(rows: number): string {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const lines = ['a,b,c,d,e,colour,label'];
  for (let i = 0; i < rows; i++) {
    const x = Array.from({ length: 5 }, rand);
    const colour = ['red', 'green', 'blue'][i % 3] as string;
    const score = (x[0] as number) + 0.5 * (x[1] as number) + (colour === 'red' ? 0.4 : 0);
    const label = score > 0.4 ? 'high' : score < -0.4 ? 'low' : 'mid';
    const cells = x.map((v, k) => (k === 4 && i % 17 === 0 ? '' : v.toFixed(4)));
    lines.push([...cells, colour, label].join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe('the PyTorch tabular template', { timeout: 240_000 }, () => {
  let t: TestCore;
  let work: ReturnType<typeof tempDir>;

  const importTable = async (dataset: string, file: string, content: string) => {
    const dir = path.join(work.dir, 'import', dataset);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, file), content);
    // Aged past the stat cache's racy window, as imports expect of settled files.
    const old = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, file), old, old);
    const started = await t.client.call('datasets.import', { dataset, path: dir, create: true });
    const job = await waitFor(
      async () => {
        const j = await t.client.call('jobs.get', { id: started.id });
        return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
      },
      60_000,
      `the import of ${dataset}`,
    );
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  };

  beforeAll(async () => {
    t = await startTestCore();
    work = tempDir('aidos-pytorch-template-');
    await importTable('iris', 'iris.csv', readFileSync(fixturePath('data/iris.csv'), 'utf8'));
    await importTable('synthetic', 'table.csv', syntheticTable(2000));
  });
  afterAll(async () => {
    await t.close();
    work.remove();
  });

  /** A job from the template, as the app's "new training job" form submits it. */
  const submit = (
    params: Record<string, string | number>,
    dataset: string,
    extra: Partial<Pick<TemplateJobInput, 'retries'>> = {},
  ) =>
    t.client.call('trainingTemplates.submit', {
      template: 'pytorch-tabular',
      params: { python: PYTHON, threads: 1, ...params },
      datasets: { TRAIN: { dataset } },
      experiment: 'pytorch-template',
      ...extra,
    });
  const ended = (id: string) =>
    waitFor(
      async () => {
        const job = await t.client.call('trainingJobs.get', { job: id });
        return job.state === 'queued' || job.state === 'running' ? undefined : job;
      },
      180_000,
      `job ${id} to end`,
    );
  const logOf = async (id: string) =>
    (await t.client.call('trainingJobs.logs', { job: id, maxBytes: 4_194_304 })).lines.map((l) => l.text);
  const history = async (job: TrainingJob, key: string) =>
    (await t.client.call('runs.history', { run: job.runId as string, key })).items;
  const steps = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('is listed by the core with its params, and every flag of its command is one train.py takes', async () => {
    const { templates } = await t.client.call('trainingTemplates.list');
    const listed = templates.find((x) => x.id === 'pytorch-tabular');
    expect(listed).toMatchObject({ kind: 'script', datasets: [{ as: 'TRAIN' }] });
    expect(listed?.resources).toEqual({ gpus: 0, cpuThreads: 1, ramMb: 1024 });
    expect(listed?.params.find((p) => p.name === 'python')?.default).toBe('python3');
    expect(listed?.params.filter((p) => p.required).map((p) => p.name)).toEqual(['target']);
    // Every param is used by the command (a param that changes nothing would mislead the form).
    const used = new Set(manifest.command.flatMap((a) => [...a.matchAll(/\{(\w+)\}/g)].map((m) => m[1])));
    expect([...used].sort()).toEqual(listed?.params.map((p) => p.name).sort());
    const help = await run(PYTHON, ['train.py', '--help'], TEMPLATE);
    expect(help.code, help.output).toBe(0);
    for (const flag of manifest.command.filter((a) => a.startsWith('--'))) expect(help.output).toContain(flag);
  });

  it('trains on a dataset version as a job: per-step loss, per-epoch validation, a checkpoint, model', async () => {
    const epochs = 20;
    const job = await submit({ target: 'species', epochs, lr: 0.02, batch_size: 16, hidden: '16' }, 'iris');
    expect(job.spec.workingDir).toBe(TEMPLATE);
    const done = await ended(job.id);
    const log = await logOf(job.id);
    expect(done.state, log.join('\n')).toBe('succeeded');
    expect(log).toContain(
      'classification: 120 training rows, 30 validation rows, 4 inputs, 3 outputs, 8 steps per epoch, on cpu',
    );
    const perEpoch = 8;

    expect((await history(done, 'loss')).map((p) => p.step)).toEqual(steps(1, epochs * perEpoch));
    const accuracy = await history(done, 'val_accuracy');
    expect(accuracy.map((p) => p.step)).toEqual(steps(1, epochs).map((e) => e * perEpoch));
    expect(accuracy.at(-1)?.value).toBeGreaterThan(0.8);
    expect((await history(done, 'epoch')).map((p) => p.value)).toEqual(steps(1, epochs));
    expect((await history(done, 'val_loss')).length).toBe(epochs);

    // By default a checkpoint a minute and one after the last epoch: a run of a few seconds saves only that.
    const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    expect(checkpoints.map((c) => [c.attempt, c.step, c.name])).toEqual([[1, epochs * perEpoch, 'checkpoint.pt']]);

    const runInfo = await t.client.call('runs.get', { run: done.runId as string });
    expect(runInfo.info.status).toBe('FINISHED');
    expect(runInfo.params).toEqual(
      expect.arrayContaining([
        { key: 'target', value: 'species' },
        { key: 'epochs', value: String(epochs) },
        { key: 'table', value: 'iris.csv' },
        { key: 'rows_train', value: '120' },
      ]),
    );
    const { items } = await t.client.call('runs.artifacts', { run: done.runId as string, path: 'model' });
    expect(items.map((i) => i.path).sort()).toEqual(['model/model.pt', 'model/preprocessing.json']);

    // The artifacts are a usable model: predict.py applies them to the table.
    const modelDir = path.join(work.dir, 'model');
    mkdirSync(modelDir);
    for (const file of ['model.pt', 'preprocessing.json']) {
      const { bytes } = await t.client.file('runs.artifact', { run: done.runId as string, path: `model/${file}` });
      writeFileSync(path.join(modelDir, file), bytes);
    }
    const preprocessing = JSON.parse(readFileSync(path.join(modelDir, 'preprocessing.json'), 'utf8')) as {
      classes: string[];
      features: { name: string; kind: string }[];
    };
    expect(preprocessing.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(preprocessing.features.map((f) => [f.name, f.kind])).toEqual([
      ['sepal_length', 'numeric'],
      ['sepal_width', 'numeric'],
      ['petal_length', 'numeric'],
      ['petal_width', 'numeric'],
    ]);
    const predicted = await run(
      PYTHON,
      [
        'predict.py',
        '--model-dir',
        modelDir,
        '--file',
        fixturePath('data/iris.csv'),
        '--output',
        path.join(work.dir, 'p.csv'),
      ],
      TEMPLATE,
    );
    expect(predicted.code, predicted.output).toBe(0);
    const summary = JSON.parse(predicted.output.trim().split('\n').at(-1) as string) as {
      rows: number;
      accuracy: number;
    };
    expect(summary.rows).toBe(150);
    expect(summary.accuracy).toBeGreaterThan(0.8);
  });

  // 2000 rows: 1600 for training, 200 steps of 8 per epoch (long enough to kill the job mid-run).
  const synthetic = {
    target: 'label',
    epochs: 5,
    lr: 0.01,
    batch_size: 8,
    hidden: '16,8',
    seed: 3,
    checkpoint_every: 'epoch',
  };
  const perEpoch = 200;
  let bareEpochLines: string[] = [];

  /**
   * A checkpoint is the whole state: downloaded and continued bare, it trains on to the same end as the
   * uninterrupted bare run (an epoch it stopped in is averaged over all its steps, before and after: the same numbers).
   */
  const resumesAsUninterrupted = async (jobId: string, checkpoint: TrainingCheckpoint, label: string) => {
    const file = path.join(work.dir, `${label}.pt`);
    const { bytes } = await t.client.file('trainingJobs.checkpointContent', { job: jobId, checkpoint: checkpoint.id });
    writeFileSync(file, bytes);
    const dataDir = path.join(work.dir, 'import', 'synthetic');
    const args = commandFor({ python: PYTHON, threads: 1, ...synthetic }).slice(1);
    const resumed = await run(
      PYTHON,
      [...args, '--data-dir', dataDir, '--resume', file, '--no-log', '--output-dir', path.join(work.dir, label)],
      TEMPLATE,
    );
    expect(resumed.code, resumed.output).toBe(0);
    const epoch = Math.floor(checkpoint.step / perEpoch);
    expect(resumed.output).toContain(
      `resuming from step ${checkpoint.step} (epoch ${epoch + 1}, batch ${checkpoint.step % perEpoch})`,
    );
    expect(resumed.output.split('\n').filter((l) => l.startsWith('epoch '))).toEqual(bareEpochLines.slice(epoch));
  };

  it('runs bare, without the SDK, from a folder', async () => {
    const dataDir = path.join(work.dir, 'import', 'synthetic');
    const args = commandFor({ python: PYTHON, threads: 1, ...synthetic }).slice(1);
    const bare = await run(
      PYTHON,
      [...args, '--data-dir', dataDir, '--output-dir', path.join(work.dir, 'bare')],
      TEMPLATE,
    );
    expect(bare.code, bare.output).toBe(0);
    bareEpochLines = bare.output.split('\n').filter((l) => l.startsWith('epoch '));
    expect(bareEpochLines).toHaveLength(synthetic.epochs);
    const timingLine = bare.output.split('\n').findLast((l) => l.startsWith('timing '));
    const timing = JSON.parse(timingLine?.slice('timing '.length) ?? '{}') as Record<string, unknown>;
    expect(Object.keys(timing)).toEqual([
      'load_s',
      'train_s',
      'train_cpu_s',
      'other_threads_cpu_s',
      'log_s',
      'checkpoint_s',
      'step_median_us',
      'between_steps_s',
      'total_s',
    ]);
    const { train_s, checkpoint_s, step_median_us, between_steps_s } = timing as Record<
      'train_s' | 'checkpoint_s' | 'step_median_us' | 'between_steps_s',
      number
    >;
    expect(checkpoint_s).toBe(0);
    // The steps and what lies between them (validation) make up the loop.
    expect(step_median_us).toBeGreaterThan(0);
    expect(between_steps_s).toBeGreaterThan(0);
    expect(step_median_us * 1e-6 * perEpoch * synthetic.epochs).toBeLessThan(train_s * 2);
    expect(between_steps_s).toBeLessThan(train_s);
    expect(readdirSync(path.join(work.dir, 'bare', 'model')).sort()).toEqual(['model.pt', 'preprocessing.json']);
  });

  it('resumes after SIGKILL from the latest checkpoint, logging every step exactly once', async () => {
    const job = await submit(synthetic, 'synthetic', { retries: 1 });
    await waitFor(
      async () =>
        (await t.client.call('trainingJobs.checkpoints', { job: job.id })).checkpoints.length >= 2 || undefined,
      120_000,
      'the second checkpoint',
    );
    const pid = trainerPid(job.id);
    expect(pid, 'the python process of the job').toBeDefined();
    process.kill(pid as number, 'SIGKILL');

    const done = await ended(job.id);
    const log = await logOf(job.id);
    expect([done.state, done.attempt], log.join('\n')).toEqual(['succeeded', 2]);
    const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    const lastOfFirst = checkpoints.filter((c) => c.attempt === 1).at(-1);
    expect(lastOfFirst?.step).toBeGreaterThanOrEqual(2 * perEpoch);
    expect(done.resumedFromStep).toBe(lastOfFirst?.step);
    const resumedEpoch = (lastOfFirst?.step as number) / perEpoch;
    expect(log).toContain(`resuming from step ${lastOfFirst?.step} (epoch ${resumedEpoch + 1}, batch 0)`);
    // One checkpoint per epoch across both attempts, the second continuing where the first stopped.
    expect(checkpoints.map((c) => c.step)).toEqual(steps(1, synthetic.epochs).map((e) => e * perEpoch));
    expect(checkpoints.map((c) => c.attempt)).toEqual(
      steps(1, synthetic.epochs).map((e) => (e <= resumedEpoch ? 1 : 2)),
    );

    // Every step once: the points the first attempt logged past its checkpoint were dropped, the second logged them.
    expect((await history(done, 'loss')).map((p) => p.step)).toEqual(steps(1, synthetic.epochs * perEpoch));
    expect((await history(done, 'epoch')).map((p) => [p.step, p.value])).toEqual(
      steps(1, synthetic.epochs).map((e) => [e * perEpoch, e]),
    );
    // And the same training as without the crash: the epochs after the resume print as the bare run's did.
    expect(log.filter((l) => l.startsWith('epoch ')).slice(-(synthetic.epochs - resumedEpoch))).toEqual(
      bareEpochLines.slice(resumedEpoch),
    );
  });

  it('checkpoints by time, mid-epoch too, and a mid-epoch checkpoint resumes the same training', async () => {
    // Every 10 ms: an epoch of 200 steps takes longer than that, so some checkpoints fall inside epochs.
    const job = await submit({ ...synthetic, checkpoint_every: '0.01' }, 'synthetic');
    const done = await ended(job.id);
    expect(done.state, (await logOf(job.id)).join('\n')).toBe('succeeded');
    const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    const at = checkpoints.map((c) => c.step);
    expect(at.slice(1).every((step, i) => step > (at[i] as number))).toBe(true);
    expect(at.at(-1)).toBe(synthetic.epochs * perEpoch);
    const mid = checkpoints.find((c) => c.step > perEpoch && c.step % perEpoch !== 0);
    expect(mid, `checkpoints at steps ${at.join(', ')}`).toBeDefined();
    expect((await history(done, 'loss')).map((p) => p.step)).toEqual(steps(1, synthetic.epochs * perEpoch));
    await resumesAsUninterrupted(job.id, mid as TrainingCheckpoint, 'mid-epoch');
  });

  it('refuses a checkpoint interval that is not a number of seconds or "epoch"', async () => {
    const dataDir = path.join(work.dir, 'import', 'synthetic');
    for (const every of ['0', '-5', 'hourly', 'inf']) {
      const args = commandFor({ python: PYTHON, threads: 1, ...synthetic, checkpoint_every: every }).slice(1);
      const refused = await run(PYTHON, [...args, '--data-dir', dataDir, '--no-log'], TEMPLATE);
      expect(refused.code).toBe(2);
      expect(refused.output).toContain(
        `--checkpoint-every takes a number of seconds above 0 or 'epoch', got '${every}'`,
      );
    }
  });

  it('on SIGTERM (cancel) checkpoints the step it is at, ends the run as KILLED, and resumes from there bare', async () => {
    const job = await submit(synthetic, 'synthetic');
    await waitFor(
      async () =>
        (await t.client.call('trainingJobs.checkpoints', { job: job.id })).checkpoints.length >= 1 || undefined,
      120_000,
      'the first checkpoint',
    );
    await t.client.call('trainingJobs.cancel', { job: job.id });
    const done = await ended(job.id);
    const log = await logOf(job.id);
    expect(done.state, log.join('\n')).toBe('cancelled');
    const last = done.lastCheckpoint;
    expect(last?.step).toBeGreaterThanOrEqual(perEpoch);
    expect(log).toContain('SIGTERM: stopping after this step');
    expect(log).toContain(`stopped at step ${last?.step}`);
    expect((await history(done, 'loss')).map((p) => p.step)).toEqual(steps(1, last?.step as number));
    expect((await t.client.call('runs.get', { run: done.runId as string })).info.status).toBe('KILLED');
    await resumesAsUninterrupted(job.id, last as TrainingCheckpoint, 'stopped');
  });
});
