import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';
import type { Sweep, SweepInput } from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';

const NODE = process.execPath;

/**
 * A trial: logs `loss` for steps 1…steps to its run through MLflow's REST API, `pause` ms apart. A 'bad' trial's
 * loss stays at 10; the others' fall as 1 / (lr × 10 × step + layers).
 */
const TRIAL = `
const [quality, lr, layers, steps, pause] = process.argv.slice(-5);
const env = process.env;
for (let step = 1; step <= Number(steps); step++) {
  const loss = quality === 'bad' ? 10 : 1 / (Number(lr) * 10 * step + Number(layers));
  const res = await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + env.AIDOS_TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify({ run_id: env.AIDOS_RUN_ID, key: 'loss', value: loss, timestamp: Date.now(), step }),
  });
  if (res.status !== 200) throw new Error('log ' + res.status);
  await new Promise((r) => setTimeout(r, Number(pause)));
}
console.log('params ' + env.AIDOS_SWEEP_PARAMS);`;

describe('sweeps', { timeout: 180_000 }, () => {
  let t: TestCore;
  let work: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    t = await startTestCore();
    work = tempDir('aidos-sweeps-');
  });
  afterAll(async () => {
    await t.close();
    work.remove();
  });

  const trialJob = (quality: string, steps: number, pause: number) => ({
    command: [NODE, '--input-type=module', '-e', TRIAL, quality, '{lr}', '{layers}', String(steps), String(pause)],
    workingDir: work.dir,
    experiment: 'sweeps',
  });
  const ended = (id: string) =>
    waitFor(
      async () => {
        const sweep = await t.client.call('trainingSweeps.get', { sweep: id });
        return sweep.state === 'running' ? undefined : sweep;
      },
      150_000,
      `sweep ${id} to end`,
    );
  const rejects = async (promise: Promise<unknown>): Promise<AppError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  };

  it('runs a grid as child runs, two at a time, and names the best trial', async () => {
    const input: SweepInput = {
      name: 'grid',
      job: trialJob('good', 3, 10),
      space: { lr: { type: 'choice', values: [0.1, 0.3] }, layers: { type: 'int', min: 1, max: 2 } },
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: 'grid',
      maxTrials: 10,
      parallel: 2,
    };
    let mostActive = 0;
    const off = t.core.bus.on('training.sweep.updated', (e) => {
      const { sweep } = e.data as { sweep: Sweep };
      const active = sweep.trials.filter((x) => x.state === 'queued' || x.state === 'running').length;
      mostActive = Math.max(mostActive, active);
    });
    const created = await t.client.call('trainingSweeps.create', input);
    expect(created.state).toBe('running');
    const sweep: Sweep = await ended(created.id).finally(off);
    expect(mostActive).toBe(2);
    expect(sweep.state).toBe('succeeded');
    expect(sweep.trials.map((x) => x.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(sweep.trials.map((x) => `${x.params.lr}/${x.params.layers}`).sort()).toEqual([
      '0.1/1',
      '0.1/2',
      '0.3/1',
      '0.3/2',
    ]);
    // loss at step 3 = 1 / (30 lr + layers): least for lr 0.3, layers 2.
    const best = sweep.trials.find((x) => x.number === sweep.bestTrial);
    expect(best?.params).toEqual({ lr: 0.3, layers: 2 });
    expect(best?.value).toBeCloseTo(1 / 11, 12);
    expect(best?.step).toBe(3);

    // Each trial's run is a child of the sweep's run, with the trial's values as params.
    for (const trial of sweep.trials) {
      const run = await t.client.call('runs.get', { run: trial.runId as string });
      expect(run.tags).toContainEqual({ key: 'mlflow.parentRunId', value: sweep.runId });
      expect(run.params).toEqual(
        expect.arrayContaining([
          { key: 'lr', value: String(trial.params.lr) },
          { key: 'layers', value: String(trial.params.layers) },
        ]),
      );
      const log = await t.client.call('trainingJobs.logs', { job: trial.jobId });
      expect(JSON.parse(log.lines.at(-1)?.text.slice('params '.length) ?? '')).toEqual(trial.params);
    }
    const parent = await t.client.call('runs.get', { run: sweep.runId as string });
    expect(parent.info.status).toBe('FINISHED');
    expect(parent.tags).toContainEqual({ key: 'aidos.sweep', value: sweep.id });
    expect(parent.metrics.find((m) => m.key === 'best_loss')?.value).toBeCloseTo(1 / 11, 12);
  });

  it('stops trials early by the median rule and goes on with the next', async () => {
    const sweep = await t.client.call('trainingSweeps.create', {
      name: 'median',
      job: { ...trialJob('{quality}', 12, 150) },
      space: {
        quality: { type: 'choice', values: ['good', 'bad'] },
        lr: { type: 'choice', values: [0.2] },
        layers: { type: 'choice', values: [1] },
      },
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: 'grid',
      parallel: 1,
      earlyStopping: { type: 'median', warmupSteps: 2, minTrials: 1 },
    });
    const done = await ended(sweep.id);
    expect(done.state).toBe('succeeded');
    const [good, bad] = done.trials;
    expect(good).toMatchObject({ params: { quality: 'good' }, state: 'completed', step: 12 });
    expect(bad).toMatchObject({ params: { quality: 'bad' }, state: 'pruned', value: 10 });
    expect(bad?.reason).toMatch(/^stopped early by the median rule at step \d+$/);
    expect(bad?.step).toBeLessThan(12);
    const badJob = await t.client.call('trainingJobs.get', { job: bad?.jobId as string });
    expect(badJob.state).toBe('cancelled');
    expect(done.bestTrial).toBe(good?.number);
  });

  it('cancels a sweep with its running trials', async () => {
    const sweep = await t.client.call('trainingSweeps.create', {
      name: 'cancelled',
      job: trialJob('good', 1000, 100),
      space: { lr: { type: 'uniform', min: 0.01, max: 0.1 }, layers: { type: 'int', min: 1, max: 4 } },
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: 'random',
      maxTrials: 5,
      parallel: 2,
    });
    await waitFor(
      async () =>
        (await t.client.call('trainingSweeps.get', { sweep: sweep.id })).trials.some((x) => x.state === 'running') ||
        undefined,
      30_000,
      'a trial to run',
    );
    const cancelled = await t.client.call('trainingSweeps.cancel', { sweep: sweep.id });
    expect(cancelled.state).toBe('cancelled');
    const settled = await waitFor(
      async () => {
        const s = await t.client.call('trainingSweeps.get', { sweep: sweep.id });
        return s.trials.every((x) => x.state === 'cancelled') ? s : undefined;
      },
      30_000,
      'its trials to be cancelled',
    );
    expect(settled.trials).toHaveLength(2);
    for (const trial of settled.trials) {
      expect(trial.params.lr).toBeGreaterThanOrEqual(0.01);
      expect(trial.params.lr).toBeLessThanOrEqual(0.1);
    }
  });

  it('refuses sweeps that cannot run, naming the problem', async () => {
    const base = {
      name: 'bad',
      space: { lr: { type: 'uniform' as const, min: 0.1, max: 0.01 } },
      objective: { metric: 'loss', goal: 'minimize' as const },
    };
    const badRange = await rejects(t.client.call('trainingSweeps.create', { ...base, job: trialJob('good', 1, 1) }));
    expect([badRange.httpStatus, badRange.message]).toEqual([
      400,
      expect.stringMatching(/space\.lr\.max.*min must be below max/),
    ]);
    const space = { lr: { type: 'choice' as const, values: [1] } };
    const neither = await rejects(t.client.call('trainingSweeps.create', { ...base, space }));
    expect([neither.httpStatus, neither.message]).toEqual([400, expect.stringMatching(/give either job or template/)]);
    const noTemplate = await rejects(
      t.client.call('trainingSweeps.create', { ...base, space, template: { template: 'nope' } }),
    );
    expect(noTemplate.httpStatus).toBe(404);
    const notAParam = await rejects(
      t.client.call('trainingSweeps.create', {
        ...base,
        space: { momentum: { type: 'choice', values: [0.9] } },
        template: { template: 'pytorch-tabular', params: { target: 'y' }, datasets: {} },
      }),
    );
    expect([notAParam.httpStatus, notAParam.message]).toEqual([
      400,
      "space.momentum: template 'pytorch-tabular' has no parameter 'momentum'",
    ]);
    const missing = await rejects(t.client.call('trainingSweeps.get', { sweep: '01J0000000000000000000000X' }));
    expect(missing.httpStatus).toBe(404);
  });
});
