import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, importDataset, tempDir, waitFor } from '#platform/testing';
import type { ModelhubService } from '#services/modelhub/contract';
import type { Evaluation } from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';
import { registerIrisClassifier } from '../testing';

// A real core: iris trained by the built-in trainer (TF.js, in this thread), registered in ModelHub with its
// preprocessing, evaluated through real onnxruntime deployments on DataForge versions.

let t: TestCore;
const work = tempDir();
const IRIS_LINES = readFileSync(fixturePath('data', 'iris.csv'), 'utf8').trim().split(/\r?\n/);
/** iris with a `site` column the model does not take: north for even rows, south for odd ones. */
const SITES_CSV = [
  `${IRIS_LINES[0]},site`,
  ...IRIS_LINES.slice(1).map((line, i) => `${line},${i % 2 === 0 ? 'north' : 'south'}`),
].join('\n');

async function appError(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const finished = (id: string) =>
  waitFor(
    async () => {
      const e = await t.client.call('evaluations.get', { id });
      return e.state === 'succeeded' || e.state === 'failed' ? e : undefined;
    },
    120_000,
    `evaluation ${id}`,
  );

beforeAll(async () => {
  t = await startTestCore();
  // Version 2 (the same files) is never evaluated, for the gates.
  await registerIrisClassifier(t.core.service<ModelhubService>('modelhub'), 'iris', 2);
  const gguf = readFileSync(fixturePath('models', 'tiny-llama-memorizer-q8.gguf'));
  const upload = await t.client.call('uploads.create', { filename: 'tiny-llama.gguf', size: gguf.length });
  await t.client.send('uploads.append', { id: upload.id, offset: 0 }, gguf);
  await t.client.call('models.create', { name: 'tiny-llama' });
  await t.client.call('models.createVersion', { name: 'tiny-llama', uploadId: upload.id, aliases: [] });

  writeFileSync(path.join(work.dir, 'iris-sites.csv'), SITES_CSV);
  await importDataset(t.client, 'iris-sites', path.join(work.dir, 'iris-sites.csv'));
}, 180_000);

afterAll(async () => {
  await t?.close();
  work.remove();
});

describe('evaluation runs', { timeout: 180_000 }, () => {
  let evaluation: Evaluation;

  it('evaluates a model version on a dataset version through a temporary deployment, removed afterwards', async () => {
    const created = await t.request('/api/v1/evaluations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'iris', version: 1, dataset: 'iris-sites', target: 'species', slice: 'site' }),
    });
    const body = (await created.json()) as Evaluation;
    expect(created.status, JSON.stringify(body)).toBe(201);
    const { id, state } = body;
    expect(state).toBe('queued');
    evaluation = await finished(id);
    expect(evaluation, evaluation.reason ?? '').toMatchObject({
      state: 'succeeded',
      task: 'classification',
      model: 'iris',
      modelVersion: 1,
      deployment: null,
      dataset: 'iris-sites',
      datasetVersion: 1,
      file: 'iris-sites.csv',
      rows: 150,
      progress: 1,
    });
    const { items } = await t.client.call('deployments.list', {});
    expect(items.map((d) => d.name)).toEqual([]);
  });

  it('reports the metrics computed independently from the same predictions', async () => {
    // The model is deterministic: the predictions through a deployment of our own are the evaluation's.
    await t.client.call('deployments.create', { model: 'iris', version: 1, name: 'iris-live' });
    const rows = IRIS_LINES.slice(1).map((line) => {
      const [a, b, c, d] = line.split(',').map(Number);
      return { sepal_length: a, sepal_width: b, petal_length: c, petal_width: d };
    });
    const labels = IRIS_LINES.slice(1).map((line) => line.split(',')[4]!);
    const { predictions } = await t.client.call('deployments.predict', { deployment: 'iris-live', rows });
    const predicted = predictions as { label: string; probabilities: Record<string, number> }[];
    const classes = ['setosa', 'versicolor', 'virginica'];
    const accuracy = predicted.filter((p, i) => p.label === labels[i]).length / labels.length;
    const eps = 2.220446049250313e-16;
    const logLoss =
      -predicted.reduce((s, p, i) => s + Math.log(Math.min(1 - eps, Math.max(eps, p.probabilities[labels[i]!]!))), 0) /
      labels.length;
    const confusion = classes.map((truth) =>
      classes.map((guess) => predicted.filter((p, i) => labels[i] === truth && p.label === guess).length),
    );
    const f1s = classes.map((_, c) => {
      const tp = confusion[c]![c]!;
      const predictedC = confusion.reduce((s, row) => s + row[c]!, 0);
      const actualC = confusion[c]!.reduce((s, n) => s + n, 0);
      const precision = predictedC ? tp / predictedC : 0;
      const recall = tp / actualC;
      return precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    });
    expect(accuracy).toBeGreaterThan(0.8);

    expect(evaluation.metrics.accuracy).toBeCloseTo(accuracy, 12);
    expect(evaluation.metrics.macro_f1).toBeCloseTo(f1s.reduce((s, f) => s + f, 0) / 3, 12);
    expect(evaluation.metrics.log_loss).toBeCloseTo(logLoss, 5);
    const report = evaluation.report;
    if (report?.task !== 'classification') throw new Error('a classification report was expected');
    expect(report.metrics.classes).toEqual(classes);
    expect(report.metrics.confusionMatrix).toEqual(confusion);
    expect(report.metrics.rocAuc.value).toBeGreaterThan(0.9);
    expect(report.metrics.calibration?.bins).toHaveLength(10);
    const ci = report.intervals?.accuracy;
    expect(ci).toMatchObject({ estimate: evaluation.metrics.accuracy, confidence: 0.95, resamples: 1000 });
    expect(ci!.lower!).toBeLessThan(accuracy);
    expect(ci!.upper!).toBeGreaterThanOrEqual(accuracy);
    // Slices by site: every other row.
    expect(report.slices?.map((s) => [s.value, s.rows])).toEqual([
      ['north', 75],
      ['south', 75],
    ]);
    const north = predicted.filter((p, i) => i % 2 === 0 && p.label === labels[i]).length / 75;
    expect(report.slices?.[0]?.metrics?.accuracy).toBeCloseTo(north, 12);
  });

  it('records the evaluation in ModelHub: a run of the evaluations experiment, linked to the model version', async () => {
    const run = await t.client.call('runs.get', { run: evaluation.runId as string });
    expect(run.info.status).toBe('FINISHED');
    expect(run.metrics.find((m) => m.key === 'accuracy')?.value).toBeCloseTo(evaluation.metrics.accuracy!, 12);
    expect(run.tags).toEqual(
      expect.arrayContaining([
        { key: 'aidos.evaluation', value: evaluation.id },
        { key: 'aidos.model', value: 'iris' },
        { key: 'aidos.model_version', value: '1' },
        { key: 'aidos.dataset', value: 'iris-sites' },
        { key: 'aidos.dataset_version', value: '1' },
      ]),
    );
    const experiment = await t.client.call('experiments.get', { experiment: run.info.experimentId });
    expect(experiment.name).toBe('evaluations');
    const artifact = await t.request(
      `/api/v1/runs/${run.info.id}/artifacts/content?path=${encodeURIComponent('evaluation/report.json')}`,
    );
    expect(((await artifact.json()) as { metrics: { accuracy: number } }).metrics.accuracy).toBe(
      evaluation.metrics.accuracy,
    );
    const version = await t.client.call('models.version', { name: 'iris', version: '1' });
    expect(version.tags).toContainEqual({ key: 'aidos.evaluation', value: evaluation.id });
    const listed = await t.client.call('evaluations.list', { model: 'iris' });
    expect(listed.items.map((e) => e.id)).toContain(evaluation.id);
    expect((await t.client.call('evaluations.list', { model: 'tiny-llama' })).items).toEqual([]);
  });

  it('evaluates an existing deployment, naming the model version it serves', async () => {
    const created = await t.client.call('evaluations.create', {
      deployment: 'iris-live',
      dataset: 'iris-sites',
      target: 'species',
      resamples: 0,
    });
    const done = await finished(created.id);
    expect(done, done.reason ?? '').toMatchObject({
      state: 'succeeded',
      deployment: 'iris-live',
      model: 'iris',
      modelVersion: 1,
    });
    expect(done.metrics.accuracy).toBe(evaluation.metrics.accuracy);
    expect(done.report?.intervals).toBeNull();
    expect((await t.client.call('deployments.get', { deployment: 'iris-live' })).state).toBe('ready');
  });

  it('keeps the API answering while a large evaluation computes its metrics', async () => {
    // 30,000 rows (iris, jittered) and 3,000 resamples: the resamples of the model's distinct probabilities take
    // seconds, most of the evaluation. On the API thread, a request sent meanwhile would wait for all of them.
    const jittered = [
      IRIS_LINES[0],
      ...Array.from({ length: 30_000 }, (_, i) => {
        const cells = IRIS_LINES[1 + (i % 150)]!.split(',');
        const jitter = ((i * 7919) % 21) / 100 - 0.1;
        return [...cells.slice(0, 4).map((v) => (Number(v) + jitter).toFixed(2)), cells[4]].join(',');
      }),
    ].join('\n');
    writeFileSync(path.join(work.dir, 'iris-large.csv'), jittered);
    await importDataset(t.client, 'iris-large', path.join(work.dir, 'iris-large.csv'));
    const created = await t.client.call('evaluations.create', {
      deployment: 'iris-live',
      dataset: 'iris-large',
      target: 'species',
      resamples: 3000,
    });
    const probes: { at: number; ms: number }[] = [];
    let evaluating = true;
    const probing = (async () => {
      while (evaluating) {
        const at = Date.now();
        const res = await t.request('/api/v1/status');
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        probes.push({ at, ms: Date.now() - at });
      }
    })();
    const done = await finished(created.id).finally(() => (evaluating = false));
    await probing;
    expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded', rows: 30_000 });
    expect(done.report?.intervals?.accuracy).toMatchObject({ resamples: 3000 });
    const startedAt = done.startedAt as number;
    const took = (done.finishedAt as number) - startedAt;
    const during = probes.filter((p) => p.at >= startedAt && p.at <= startedAt + took);
    const slowest = Math.max(...during.map((p) => p.ms));
    // Relative to the evaluation, not in absolute milliseconds: this machine may be loaded.
    expect(during.length).toBeGreaterThan(10);
    expect(slowest, `the slowest of ${during.length} requests during a ${took} ms evaluation`).toBeLessThan(took / 4);
  });

  it('ends failed with the reason when the task asked is not what the model does', async () => {
    const created = await t.client
      .call('evaluations.create', {
        model: 'iris',
        version: '@none-yet',
        dataset: 'iris-sites',
        target: 'species',
      })
      .catch((e: unknown) => e);
    expect((created as AppError).message).toMatch(/^version: /);
    const wrong = await t.client.call('evaluations.create', {
      model: 'iris',
      dataset: 'iris-sites',
      target: 'species',
      task: 'regression',
    });
    const done = await finished(wrong.id);
    expect(done.state).toBe('failed');
    expect(done.reason).toBe('task: the model predicts labels (classification), not regression');
    expect((await t.client.call('deployments.list', {})).items.map((d) => d.name)).toEqual(['iris-live']);
  });

  it('refuses bad requests with a 400 naming the field, storing nothing', async () => {
    const before = (await t.client.call('evaluations.list', {})).items.length;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: 'iris', target: 'kind' }, 'target', /'iris-sites.csv' has no column 'kind' \(its columns: .*species/],
      [{ model: 'iris', target: 'species', slice: 'place' }, 'slice', /no column 'place'/],
      [{ model: 'nope', target: 'species' }, 'model', /nope/],
      [{ model: 'iris', version: 9, target: 'species' }, 'version', /version=9/],
      [{ model: 'iris', target: 'species', dataset: 'nope' }, 'dataset', /nope/],
      [{ model: 'iris', target: 'species', datasetVersion: '7' }, 'datasetVersion', /7/],
      [{ model: 'iris', target: 'species', file: 'other.csv' }, 'file', /no file 'other.csv'/],
      [{ model: 'tiny-llama', target: 'species' }, 'model', /GGUF model; tabular evaluation needs an ONNX model/],
      [{ model: 'iris', deployment: 'iris-live', target: 'species' }, 'model', /either a model .* or a deployment/],
      [{ deployment: 'gone', target: 'species' }, 'deployment', /gone/],
    ];
    for (const [input, field, message] of cases) {
      const res = await t.request('/api/v1/evaluations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataset: 'iris-sites', ...input }),
      });
      const body = (await res.json()) as { error: { message: string; details: { field: string } } };
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(body.error.details.field, body.error.message).toBe(field);
      expect(body.error.message).toMatch(message);
    }
    expect((await t.client.call('evaluations.list', {})).items).toHaveLength(before);
  });
});

describe('gates', { timeout: 60_000 }, () => {
  const mlflowAlias = (version: string) =>
    t.request('/api/2.0/mlflow/registered-models/alias', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'iris', alias: 'champion', version }),
    });

  it('refuses to move a gated alias to a version that did not pass, through the REST and MLflow APIs', async () => {
    const latest = (await t.client.call('evaluations.list', { model: 'iris', version: 1 })).items.find(
      (e) => e.state === 'succeeded',
    );
    expect(latest?.metrics.accuracy).toBeGreaterThan(0.8);
    const accuracy = latest?.metrics.accuracy as number;
    const strict = await t.client.call('evaluationGates.set', {
      model: 'iris',
      alias: 'champion',
      metric: 'accuracy',
      op: '>=',
      value: accuracy + 0.001,
    });
    const refused = await t.request('/api/v1/models/iris/aliases/champion', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1 }),
    });
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(refused.status, body.error.message).toBe(409);
    expect(body.error).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(body.error.message).toContain(`gate accuracy >= ${accuracy + 0.001}`);
    expect(body.error.message).toContain(`accuracy is ${accuracy} in its latest evaluation`);

    const viaMlflow = await mlflowAlias('1');
    expect(viaMlflow.status).toBe(400);
    expect(await viaMlflow.json()).toMatchObject({
      error_code: 'INVALID_STATE',
      message: expect.stringContaining("alias 'champion' of 'iris' is gated"),
    });
    const status = await t.client.call('evaluationGates.status', { model: 'iris', version: 1 });
    expect(status).toMatchObject({ passed: false, checks: [{ passed: false, actual: accuracy }] });
    expect((await t.client.call('models.get', { name: 'iris' })).aliases).toEqual([]);

    // Other aliases are not gated by it.
    await t.client.call('models.setAlias', { name: 'iris', alias: 'candidate', version: 2 });

    await t.client.call('evaluationGates.set', {
      model: 'iris',
      alias: 'champion',
      metric: 'accuracy',
      op: '>=',
      value: accuracy - 0.001,
    });
    const gates = (await t.client.call('evaluationGates.list', { model: 'iris' })).items;
    expect(gates.map((g) => g.id)).not.toContain(strict.id);
    expect((await mlflowAlias('1')).status).toBe(200);
    expect((await t.client.call('models.version', { name: 'iris', version: 'champion' })).version).toBe(1);

    // Version 2 was never evaluated.
    const unevaluated = await mlflowAlias('2');
    expect(((await unevaluated.json()) as { message: string }).message).toContain('version 2 has no evaluation');

    // A new version registered with the gated alias is refused before it exists: no version 3 is left behind.
    const { runId } = await t.client.call('models.version', { name: 'iris', version: '1' });
    const registering = await appError(
      t.client.call('models.createVersion', {
        name: 'iris',
        runId: runId as string,
        artifactPath: 'model',
        aliases: ['champion'],
      }),
    );
    expect(registering.code).toBe('FAILED_PRECONDITION');
    expect(registering.message).toContain('version 3 has no evaluation');
    expect((await t.client.call('models.versions', { name: 'iris' })).items.map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses a gate on an unknown model or metric, naming the field', async () => {
    const noModel = await appError(
      t.client.call('evaluationGates.set', { model: 'nope', metric: 'accuracy', op: '>=', value: 0.5 }),
    );
    expect(noModel.details).toMatchObject({ field: 'model' });
    const res = await t.request('/api/v1/evaluation-gates', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'iris', metric: 'acuracy', op: '>=', value: 0.5 }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('metric');
  });
});
