import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';
import type { TrainingJob, TrainingJobInput } from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';

const NODE = process.execPath;
const hasNvidiaSmi = spawnSync('nvidia-smi', ['-L']).error === undefined;

async function rejects(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('training jobs', { timeout: 120_000 }, () => {
  let t: TestCore;
  let work: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    t = await startTestCore();
    work = tempDir('aidos-jobs-work-');
  });
  afterAll(async () => {
    await t.close();
    work.remove();
  });

  const submit = (spec: Partial<TrainingJobInput> & Pick<TrainingJobInput, 'command'>) =>
    t.client.call('trainingJobs.submit', { workingDir: work.dir, ...spec });
  const ended = (id: string) =>
    waitFor(
      async () => {
        const job = await t.client.call('trainingJobs.get', { job: id });
        return job.state === 'queued' || job.state === 'running' ? undefined : job;
      },
      60_000,
      `job ${id} to end`,
    );

  it('runs a script with its run, GPU assignment and access in the environment, and keeps its log', async () => {
    // The script logs a metric to its run through MLflow's REST API, as a training script's client would.
    const script = `
      const env = process.env;
      console.log('run ' + env.AIDOS_RUN_ID + ' gpus [' + env.CUDA_VISIBLE_DEVICES + '] cwd ' + process.cwd());
      console.error('a warning');
      const res = await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
        method: 'POST',
        headers: { authorization: 'Bearer ' + env.AIDOS_TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: env.AIDOS_RUN_ID, key: 'loss', value: 0.25, timestamp: Date.now(), step: 1 }),
      });
      console.log('logged ' + res.status + ' ' + env.GREETING);`;
    const job = await submit({
      name: 'first',
      command: [NODE, '--input-type=module', '-e', script],
      env: { GREETING: 'hello' },
      experiment: 'jobs',
    });
    expect(job).toMatchObject({ name: 'first', state: expect.stringMatching(/queued|running/), attempt: 1 });
    const done = await ended(job.id);
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0, reason: null });
    expect(done.placement).toEqual({ gpus: [], cudaVisibleDevices: '' });
    const log = await t.client.call('trainingJobs.logs', { job: job.id });
    expect(log.atEnd).toBe(true);
    // Each stream keeps its order; between the two, lines are ordered only as finely as the log is read.
    const of = (stream: string) => log.lines.filter((l) => l.stream === stream).map((l) => l.text);
    expect(of('stdout')).toEqual([`run ${done.runId} gpus [] cwd ${work.dir}`, 'logged 200 hello']);
    expect(of('stderr')).toEqual(['a warning']);
    // The run is in the experiment the job named, has the metric, and ended with the job.
    const run = await t.client.call('runs.get', { run: done.runId as string });
    expect(run.metrics.map((m) => [m.key, m.value])).toEqual([['loss', 0.25]]);
    expect(run.info.status).toBe('FINISHED');
    expect(run.tags).toContainEqual({ key: 'aidos.training_job', value: job.id });
    const listed = await t.client.call('trainingJobs.list', { state: 'succeeded' });
    expect(listed.items.map((j) => j.id)).toContain(job.id);
  });

  it('retries a failing job as often as asked, then fails it with the reason; retry by hand makes a new job', async () => {
    const job = await submit({ command: [NODE, '-e', 'console.log("try"); process.exit(3)'], retries: 1 });
    const done = await ended(job.id);
    expect(done).toMatchObject({ state: 'failed', attempt: 2, exitCode: 3, reason: 'exited with code 3' });
    const log = await t.client.call('trainingJobs.logs', { job: job.id });
    expect(log.lines.map((l) => l.text)).toEqual(['try', 'try']); // both attempts, one log
    const run = await t.client.call('runs.get', { run: done.runId as string });
    expect(run.info.status).toBe('FAILED');
    const again = await t.client.call('trainingJobs.retry', { job: job.id });
    expect(again).toMatchObject({ retryOf: job.id, attempt: 1, spec: done.spec });
    expect(again.id).not.toBe(job.id);
    await ended(again.id);
    const running = await submit({ command: [NODE, '-e', 'setTimeout(() => {}, 60000)'] });
    try {
      const refused = await rejects(t.client.call('trainingJobs.retry', { job: running.id }));
      expect(refused.httpStatus).toBe(409);
      expect(refused.message).toMatch(/only an ended job can be retried/);
    } finally {
      await t.client.call('trainingJobs.cancel', { job: running.id });
    }
    await ended(running.id);
  });

  it('sends live log lines in a few events, each line with the offset that joins it to the stored log', async () => {
    const events: { jobId: string; lines: { text: string; nextByte: number }[] }[] = [];
    const off = t.core.bus.on('training.job.log', (e) => events.push(e.data as (typeof events)[number]));
    try {
      const job = await submit({
        command: [NODE, '-e', 'for (let i = 1; i <= 2000; i++) console.log("line " + i)'],
      });
      await ended(job.id);
      const mine = events.filter((e) => e.jobId === job.id);
      const lines = mine.flatMap((e) => e.lines);
      expect(lines.map((l) => l.text)).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`));
      expect(mine.length).toBeLessThan(50);
      // A page of the stored log from any line's nextByte starts with the line after it.
      const page = await t.client.call('trainingJobs.logs', { job: job.id, fromByte: lines[999]?.nextByte ?? -1 });
      expect(page.lines[0]?.text).toBe('line 1001');
    } finally {
      off();
    }
  });

  // Placement reads the GPU inventory and the launcher starts the process: tens of seconds when CI loads both cores.
  it('waits for resources, says why, and cancels queued and running jobs', { timeout: 150_000 }, async () => {
    const all = os.availableParallelism();
    const big = await submit({ command: [NODE, '-e', 'setTimeout(() => {}, 60000)'], resources: { cpuThreads: all } });
    try {
      let seen = big;
      await waitFor(
        async () => (seen = await t.client.call('trainingJobs.get', { job: big.id })).state === 'running' || undefined,
        60_000,
        'the big job to run',
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; it was ${seen.state}, waiting for: ${seen.waitingReason ?? 'nothing named'}`);
      });
      const small = await submit({ command: [NODE, '-e', 'console.log("ran")'] });
      const waiting = await waitFor(
        async () => {
          const j = await t.client.call('trainingJobs.get', { job: small.id });
          return j.waitingReason ? j : undefined;
        },
        30_000,
        'a waiting reason',
      );
      expect(waiting.state).toBe('queued');
      expect(waiting.waitingReason).toMatch(/CPU thread/);
      const cancelledQueued = await t.client.call('trainingJobs.cancel', { job: small.id });
      expect(cancelledQueued).toMatchObject({ state: 'cancelled', reason: 'cancelled before it started' });
    } finally {
      await t.client.call('trainingJobs.cancel', { job: big.id });
    }
    expect(await ended(big.id)).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
  });

  it.skipIf(hasNvidiaSmi)('fails at once a job that asks for a GPU on a machine without one', async () => {
    const job = await submit({ command: [NODE, '-e', 'null'], resources: { gpus: 1 } });
    const done = await ended(job.id);
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/^cannot run here: .*GPU/);
  });

  it('mounts the dataset versions it names and records them as inputs of its run', async () => {
    const data = tempDir('aidos-jobs-data-');
    try {
      writeFileSync(path.join(data.dir, 'train.csv'), 'x,y\n1,2\n');
      writeFileSync(path.join(data.dir, 'notes.txt'), 'hello');
      const importJob = await t.client.call('datasets.import', { dataset: 'digits', path: data.dir, create: true });
      await waitFor(
        async () =>
          ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: importJob.id })).status) || undefined,
        60_000,
        'the import',
      );
      const script =
        'const fs = require("fs"); const dir = process.env.AIDOS_DATASET_DIGITS;' +
        ' console.log(fs.readdirSync(dir).sort().join(",") + " " + fs.readFileSync(dir + "/notes.txt", "utf8"))';
      const job = await submit({ command: [NODE, '-e', script], datasets: [{ dataset: 'digits' }] });
      // The version is fixed at submission: "latest" became its number.
      expect(job.spec.datasets).toEqual([{ dataset: 'digits', version: '1' }]);
      const done = await ended(job.id);
      expect(done.state, done.reason ?? '').toBe('succeeded');
      expect((await t.client.call('trainingJobs.logs', { job: job.id })).lines.map((l) => l.text)).toEqual([
        'notes.txt,train.csv hello',
      ]);
      const version = await t.client.call('datasets.version', { dataset: 'digits', version: '1' });
      const run = await t.client.call('runs.get', { run: done.runId as string });
      expect(run.inputs.map((i) => [i.name, i.source, i.datasetVersionId])).toEqual([
        ['digits', 'aidos://datasets/digits/versions/1', version.id],
      ]);
      const unknown = await rejects(submit({ command: [NODE], datasets: [{ dataset: 'no-such-data' }] }));
      expect([unknown.httpStatus, unknown.message]).toEqual([400, expect.stringMatching(/datasets\.0.*no-such-data/)]);
    } finally {
      data.remove();
    }
  });

  it('refuses bad specs naming the field, and unknown jobs', async () => {
    const relative = await rejects(t.client.call('trainingJobs.submit', { command: ['x'], workingDir: 'rel/dir' }));
    expect([relative.httpStatus, relative.message]).toEqual([400, expect.stringMatching(/workingDir.*absolute/)]);
    const missing = await rejects(submit({ command: ['x'], workingDir: `${work.dir}/nope` }));
    expect(missing.message).toMatch(/workingDir.*nope is not a folder/);
    const empty = await rejects(submit({ command: [] }));
    expect([empty.httpStatus, empty.message]).toEqual([400, expect.stringMatching(/command/)]);
    const noProgram = await rejects(submit({ command: ['', 'train.py'] }));
    expect(noProgram.message).toMatch(/command.*must start with the program to run/);
    const env = await rejects(submit({ command: ['x'], env: { 'BAD NAME': '1' } }));
    expect([env.httpStatus, env.message]).toEqual([400, expect.stringMatching(/env\.BAD NAME/)]);
    const unknown = await rejects(t.client.call('trainingJobs.get', { job: '01JAAAAAAAAAAAAAAAAAAAAAAA' }));
    expect(unknown.httpStatus).toBe(404);
    // A program that does not exist fails the job with a reason, not the request.
    const job = await submit({ command: ['no-such-program-here'] });
    expect(await ended(job.id)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/not found/) });
  });
});

describe('a job running when the app stops', { timeout: 120_000 }, () => {
  it('is adopted by the next start and its outcome is recorded', async () => {
    const home = tempDir('aidos-jobs-restart-');
    const work = tempDir('aidos-jobs-work-');
    try {
      let t = await startTestCore({ dataDir: home.dir });
      const job: TrainingJob = await t.client.call('trainingJobs.submit', {
        command: [
          NODE,
          '-e',
          'console.log("started"); setTimeout(() => { console.log("done"); process.exit(4) }, 3000)',
        ],
        workingDir: work.dir,
      });
      await waitFor(async () => {
        const log = await t.client.call('trainingJobs.logs', { job: job.id });
        return log.lines.some((l) => l.text === 'started') || undefined;
      });
      await t.close(); // the job keeps running
      t = await startTestCore({ dataDir: home.dir });
      try {
        const done = await waitFor(
          async () => {
            const j = await t.client.call('trainingJobs.get', { job: job.id });
            return j.state === 'running' ? undefined : j;
          },
          30_000,
          'the adopted job to end',
        );
        expect(done).toMatchObject({ state: 'failed', exitCode: 4, reason: 'exited with code 4' });
        const log = await t.client.call('trainingJobs.logs', { job: job.id });
        expect(log.lines.map((l) => l.text)).toEqual(['started', 'done']);
      } finally {
        await t.close();
      }
    } finally {
      home.remove();
      work.remove();
    }
  });
});
