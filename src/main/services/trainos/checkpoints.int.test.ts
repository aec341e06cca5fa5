import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';
import type { TrainingJob, TrainingJobInput } from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';

const NODE = process.execPath;

/**
 * A training script in miniature: logs `loss` per step through MLflow's REST API and saves a checkpoint (its step
 * as text) through TrainOS's, resuming from AIDOS_RESUME_CHECKPOINT when it is given one. Arguments: steps,
 * checkpoint every n steps, and the step after which its first attempt kills itself with SIGKILL (the file
 * CRASH_MARKER says it did).
 */
const TRAINER = `
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const env = process.env;
const [steps, every, crashAfter, valueScale] = process.argv.slice(-4).map(Number);
const auth = { authorization: 'Bearer ' + env.AIDOS_TOKEN };
const resumed = env.AIDOS_RESUME_CHECKPOINT ? Number(readFileSync(env.AIDOS_RESUME_CHECKPOINT, 'utf8')) : 0;
if (env.AIDOS_RESUME_CHECKPOINT && String(resumed) !== env.AIDOS_RESUME_STEP) throw new Error('step mismatch');
console.log('starting after step ' + resumed);
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
async function checkpoint(step) {
  const res = await fetch(env.AIDOS_URL + '/api/v1/training/jobs/' + env.AIDOS_JOB_ID + '/checkpoints?step=' + step + '&name=state.txt', {
    method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: String(step) });
  if (res.status !== 201) throw new Error('checkpoint ' + res.status + ' ' + await res.text());
}
for (let step = resumed + 1; step <= steps; step++) {
  const res = await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ run_id: env.AIDOS_RUN_ID, key: 'loss', value: valueScale * step + (resumed > 0 ? 0.5 : 0), timestamp: Date.now(), step }),
  });
  if (res.status !== 200) throw new Error('log ' + res.status);
  if (step % every === 0) await checkpoint(step);
  if (step === crashAfter && !existsSync(env.CRASH_MARKER)) { writeFileSync(env.CRASH_MARKER, ''); process.kill(process.pid, 'SIGKILL'); }
  if (stopping) { await checkpoint(step); console.log('stopped at ' + step); process.exit(143); }
  await new Promise((r) => setTimeout(r, 50));
}
console.log('done');`;

describe('checkpoints, resumes and preemption', { timeout: 120_000 }, () => {
  let t: TestCore;
  let work: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    t = await startTestCore();
    work = tempDir('aidos-checkpoints-');
  });
  afterAll(async () => {
    await t.close();
    work.remove();
  });

  const trainer = (steps: number, every: number, crashAfter: number, valueScale = 1) => [
    NODE,
    '--input-type=module',
    '-e',
    TRAINER,
    String(steps),
    String(every),
    String(crashAfter),
    String(valueScale),
  ];
  const submit = (spec: Partial<TrainingJobInput> & Pick<TrainingJobInput, 'command'>) =>
    t.client.call('trainingJobs.submit', { workingDir: work.dir, ...spec });
  const until = (id: string, done: (job: TrainingJob) => boolean, what: string) =>
    waitFor(
      async () => {
        const job = await t.client.call('trainingJobs.get', { job: id });
        return done(job) ? job : undefined;
      },
      60_000,
      what,
    );
  const ended = (id: string) => until(id, (j) => j.state !== 'queued' && j.state !== 'running', `job ${id} to end`);
  const lossSteps = async (runId: string) =>
    (await t.client.call('runs.history', { run: runId, key: 'loss' })).items.map((p) => [p.step, p.value]);
  const rejects = async (promise: Promise<unknown>): Promise<AppError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  };

  it('resumes a job killed with SIGKILL from its newest checkpoint, in the same run, without duplicate or missing steps', async () => {
    // Checkpoints at steps 2 and 4; killed after logging step 5, which the second attempt logs again.
    const job = await submit({
      name: 'resumable',
      command: trainer(8, 2, 5),
      retries: 1,
      env: { CRASH_MARKER: path.join(work.dir, 'crashed-1') },
    });
    const done = await ended(job.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2, resumedFromStep: 4 });
    expect(done.lastCheckpoint).toMatchObject({ step: 8, attempt: 2, name: 'state.txt', size: 1 });

    const history = await lossSteps(done.runId as string);
    expect(history).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5.5],
      [6, 6.5],
      [7, 7.5],
      [8, 8.5],
    ]);
    const log = await t.client.call('trainingJobs.logs', { job: job.id });
    const stdout = log.lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(stdout).toEqual(['starting after step 0', 'starting after step 4', 'done']);

    const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    expect(checkpoints.map((c) => [c.attempt, c.step])).toEqual([
      [1, 2],
      [1, 4],
      [2, 6],
      [2, 8],
    ]);
    const content = await t.request(`/api/v1/training/jobs/${job.id}/checkpoints/${checkpoints[1]?.id}/content`);
    expect(content.status).toBe(200);
    expect(await content.text()).toBe('4');
    // The copy the second attempt read is the checkpoint's file, under its name.
    const copy = path.join(t.core.dataDir, 'trainos', 'checkpoints', job.id, checkpoints[1]?.id as string, 'state.txt');
    expect(readFileSync(copy, 'utf8')).toBe('4');

    // An ended job saves no more; names and steps are checked; unknown jobs and checkpoints are 404s.
    const save = (id: string, query: string, body = 'x') =>
      t.request(`/api/v1/training/jobs/${id}/checkpoints?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
    const late = await save(job.id, 'step=9&name=state.txt');
    expect(late.status).toBe(409);
    expect(await late.text()).toMatch(/only a running job saves checkpoints/);
    expect((await save(job.id, 'step=-1&name=a')).status).toBe(400);
    const badName = await save(job.id, 'step=1&name=..%2Fescape');
    expect(badName.status).toBe(400);
    expect(await badName.text()).toMatch(/name/);
    expect((await save('01J0000000000000000000000X', 'step=1&name=a')).status).toBe(404);
    const missing = await rejects(t.client.call('trainingJobs.checkpoints', { job: '01J0000000000000000000000X' }));
    expect(missing.httpStatus).toBe(404);
  });

  it('keeps only the newest checkpoints a job asks for, and still resumes from the newest after SIGKILL', async () => {
    const job = await submit({
      command: trainer(8, 2, 5),
      retries: 1,
      keepCheckpoints: 2,
      env: { CRASH_MARKER: path.join(work.dir, 'crashed-keep') },
    });
    const done = await ended(job.id);
    // Killed after step 5 with checkpoints at 2 and 4 kept: it resumed from 4, the newest.
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2, resumedFromStep: 4, spec: { keepCheckpoints: 2 } });
    const { checkpoints } = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    expect(checkpoints.map((c) => [c.attempt, c.step])).toEqual([
      [2, 6],
      [2, 8],
    ]);
    const kept = await t.request(`/api/v1/training/jobs/${job.id}/checkpoints/${checkpoints[0]?.id}/content`);
    expect(await kept.text()).toBe('6');
    // The dropped ones are gone from the job, and nothing holds their bytes: the blob store's GC frees them.
    const holders = (sha: string) => t.core.blobs.refsOf(sha).filter((r) => r.ref === job.id);
    for (const step of ['2', '4']) {
      const sha = createHash('sha256').update(step).digest('hex');
      expect(holders(sha), `the checkpoint of step ${step}`).toEqual([]);
    }
    expect(holders(checkpoints[1]?.sha256 as string)).toEqual([{ owner: 'trainos', ref: job.id }]);
    expect(await lossSteps(done.runId as string)).toHaveLength(8);

    const refused = await rejects(submit({ command: trainer(1, 1, 0), keepCheckpoints: 0 }));
    expect(refused.httpStatus).toBe(400);
    expect(refused.message).toMatch(/keepCheckpoints/);
  });

  it('starts a failed job without a checkpoint over, forgetting the points of the failed attempt', async () => {
    const job = await submit({
      command: trainer(4, 100, 3, 10),
      retries: 1,
      env: { CRASH_MARKER: path.join(work.dir, 'crashed-2') },
    });
    const done = await ended(job.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2, resumedFromStep: null, lastCheckpoint: null });
    // The second attempt's values only (10 × step), each step once.
    expect(await lossSteps(done.runId as string)).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });

  it('preempts a checkpointed job of lower priority for a higher one, then resumes it from its checkpoint', async () => {
    const all = { gpus: 0, cpuThreads: os.availableParallelism(), ramMb: 64 };
    const low = await submit({ name: 'low', command: trainer(400, 2, 0), resources: all, priority: 0 });
    // Running, with a checkpoint: only then may it be preempted.
    await until(low.id, (j) => j.state === 'running' && j.lastCheckpoint !== null, 'the low job to checkpoint');
    const high = await submit({ name: 'high', command: trainer(2, 100, 0), resources: all, priority: 10 });

    const requeued = await until(low.id, (j) => j.attempt === 2, 'the low job to be queued again');
    expect(requeued.reason).toMatch(
      new RegExp(`^preempted by job ${high.id}; resumes from its checkpoint at step \\d+$`),
    );
    expect(await ended(high.id)).toMatchObject({ state: 'succeeded', attempt: 1 });

    const resumed = await until(low.id, (j) => j.state === 'running' && j.attempt === 2, 'the low job to resume');
    const stoppedAt = Number(/step (\d+)$/.exec(requeued.reason ?? '')?.[1]);
    expect(resumed.resumedFromStep).toBe(stoppedAt);
    await waitFor(
      async () => {
        const log = await t.client.call('trainingJobs.logs', { job: low.id });
        const texts = log.lines.map((l) => l.text);
        return texts.includes(`stopped at ${stoppedAt}`) && texts.includes(`starting after step ${stoppedAt}`);
      },
      30_000,
      'the resumed attempt to start from the step it stopped at',
    );
    await t.client.call('trainingJobs.cancel', { job: low.id });
    const cancelled = await ended(low.id);
    expect(cancelled.state).toBe('cancelled');
    // Steps 1… once each, whatever was logged between the checkpoint and the stop.
    const steps = (await lossSteps(cancelled.runId as string)).map(([s]) => s);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
  });
});
