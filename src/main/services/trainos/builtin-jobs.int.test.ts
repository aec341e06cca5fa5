import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCli, startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { TrainingJob, TrainingJobInput } from '#shared/contracts/trainos';
import type { ModelhubService } from '#services/modelhub/contract';
import { AppError } from '#shared/errors';
import { tableInput } from './builtin/testing';
import type { FeatureEncoding, TabularPreprocessing } from './builtin/trainer';

const IRIS_TRAINER = {
  kind: 'tabular-classifier',
  target: 'species',
  epochs: 6,
  earlyStoppingPatience: 0,
} as const;

/** The metric history of a run: for each key, its steps and values in step order. */
type History = Record<string, { step: number; value: number }[]>;

describe('built-in training jobs', { timeout: 180_000 }, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await startTestCore();
    const imported = await t.client.call('datasets.import', {
      dataset: 'iris',
      path: fixturePath('data', 'iris.csv'),
      create: true,
    });
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: imported.id })).status) || undefined,
      60_000,
      'the import',
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const submit = (spec: Omit<TrainingJobInput, 'kind'>) =>
    t.client.call('trainingJobs.submit', { kind: 'builtin', datasets: [{ dataset: 'iris' }], ...spec });
  const ended = (id: string) =>
    waitFor(
      async () => {
        const job = await t.client.call('trainingJobs.get', { job: id });
        return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
      },
      120_000,
      `job ${id} to end`,
    );
  const history = (runId: string, keys: string[]): History => {
    const { tracking } = t.core.service<ModelhubService>('modelhub');
    return Object.fromEntries(
      keys.map((key) => [
        key,
        tracking
          .metricHistory(runId, key, { maxResults: 100_000 })
          .points.map((p) => ({ step: p.step, value: p.value }))
          .sort((a, b) => a.step - b.step),
      ]),
    );
  };
  const artifact = async (runId: string, file: string) =>
    (await t.request(`/api/v1/runs/${runId}/artifacts/content?path=${encodeURIComponent(file)}`)).text();
  const logText = async (id: string) =>
    (await t.client.call('trainingJobs.logs', { job: id })).lines.map((l) => l.text).join('\n');

  it('trains on a dataset version: metrics and a checkpoint every epoch, the ONNX export registered with its preprocessing', async () => {
    const job = await submit({ trainer: IRIS_TRAINER });
    expect(job).toMatchObject({
      name: 'tabular-classifier on iris',
      spec: { registerModel: 'iris-tabular-classifier' },
    });
    const done = await ended(job.id);
    expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded', attempt: 1 });
    const runId = done.runId as string;

    const metrics = history(runId, ['loss', 'val_loss', 'accuracy', 'val_accuracy']);
    for (const series of Object.values(metrics)) expect(series.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // It learns: iris is easy.
    expect((metrics.loss?.[5]?.value as number) < (metrics.loss?.[0]?.value as number)).toBe(true);

    const checkpoints = await t.client.call('trainingJobs.checkpoints', { job: job.id });
    expect(checkpoints.checkpoints.map((c) => c.step)).toEqual([1, 2, 3, 4, 5, 6]);

    const run = await t.client.call('runs.get', { run: runId });
    expect(run.info.status).toBe('FINISHED');
    expect(run.params).toEqual(
      expect.arrayContaining([
        { key: 'kind', value: 'tabular-classifier' },
        { key: 'target', value: 'species' },
        { key: 'epochs', value: '6' },
      ]),
    );
    expect(run.inputs.map((i) => i.name)).toEqual(['iris']);
    expect(run.metrics.map((m) => m.key)).toEqual(expect.arrayContaining(['best_epoch', 'best_val_loss']));

    const version = await t.client.call('models.version', { name: 'iris-tabular-classifier', version: '1' });
    expect(version).toMatchObject({ runId, format: 'onnx' });
    expect(JSON.stringify(version.signature)).toContain('features');
    const preprocessing = JSON.parse(await artifact(runId, 'model/preprocessing.json')) as {
      kind: string;
      features: FeatureEncoding[];
    };
    expect(preprocessing.kind).toBe('tabular-classifier');
    expect(preprocessing.features.map((f) => f.column)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    expect(await logText(job.id)).toMatch(/registered model 'iris-tabular-classifier' version 1/);
  });

  it('keeps a TF.js export beside the ONNX model: deployed with runtime tfjs, it answers as the ONNX deployment does', async () => {
    const done = await ended((await submit({ trainer: IRIS_TRAINER, registerModel: 'iris-tfjs' })).id);
    expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded' });
    const runId = done.runId as string;
    // Still an ONNX version; the TF.js graph model carries the same preprocessing.
    expect(await t.client.call('models.version', { name: 'iris-tfjs', version: '1' })).toMatchObject({
      format: 'onnx',
    });
    const pre = JSON.parse(await artifact(runId, 'model/preprocessing.json')) as TabularPreprocessing;
    const graph = JSON.parse(await artifact(runId, 'model/tfjs/model.json')) as {
      format: string;
      userDefinedMetadata: Record<string, unknown>;
    };
    expect(graph.format).toBe('graph-model');
    expect(graph.userDefinedMetadata['aidos.preprocessing']).toEqual(pre);

    const onnx = await t.client.call('deployments.create', { model: 'iris-tfjs', name: 'iris-on-onnx', threads: 1 });
    const tfjs = await t.client.call('deployments.create', {
      model: 'iris-tfjs',
      name: 'iris-on-tfjs',
      runtime: 'tfjs',
    });
    expect([onnx.runtime, onnx.state, tfjs.runtime, tfjs.state]).toEqual(['onnx', 'ready', 'tfjs', 'ready']);
    expect(tfjs.modelKind).toBe('tabular-classifier');

    // KServe v2 infer: the same probabilities from both runtimes.
    const rows = 20;
    const { data } = tableInput(pre, 'iris.csv');
    const infer = async (model: string) => {
      const res = await t.request(`/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [
            {
              name: pre.input.name,
              shape: [rows, pre.inputSize],
              datatype: 'FP32',
              data: [...data.subarray(0, rows * pre.inputSize)],
            },
          ],
        }),
      });
      const body = (await res.json()) as { outputs?: { data: number[] }[]; error?: string };
      expect(res.status, body.error).toBe(200);
      return body.outputs?.[0]?.data ?? [];
    };
    const fromOnnx = await infer('iris-on-onnx');
    const fromTfjs = await infer('iris-on-tfjs');
    expect(fromOnnx).toHaveLength(rows * 3);
    expect(Math.max(...fromOnnx.map((v, i) => Math.abs(v - (fromTfjs[i] as number))))).toBeLessThan(1e-4);

    // JSON rows through the preprocessing the TF.js model carries: the same labels and probabilities.
    const flowers = [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
      { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
      // A missing value is imputed inside the graph.
      { sepal_length: null, sepal_width: 2.8, petal_length: 4.5, petal_width: 1.3 },
    ];
    const predict = async (deployment: string) =>
      (await t.client.call('deployments.predict', { deployment, rows: flowers })).predictions as {
        label: string;
        probabilities: Record<string, number>;
      }[];
    const byOnnx = await predict('iris-on-onnx');
    const byTfjs = await predict('iris-on-tfjs');
    expect(byTfjs.map((p) => p.label)).toEqual(byOnnx.map((p) => p.label));
    for (const [i, p] of byOnnx.entries())
      for (const [label, probability] of Object.entries(p.probabilities))
        expect(Math.abs(probability - (byTfjs[i]?.probabilities[label] as number))).toBeLessThan(1e-4);

    // A version of the same model without a TF.js export (its ONNX file uploaded alone) cannot be served by TF.js.
    const bytes = Buffer.from(
      await (await t.request(`/api/v1/runs/${runId}/artifacts/content?path=model%2Fmodel.onnx`)).arrayBuffer(),
    );
    const upload = await t.client.call('uploads.create', { filename: 'model.onnx', size: bytes.length });
    await t.client.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
    const bare = await t.client.call('models.createVersion', { name: 'iris-tfjs', uploadId: upload.id });
    const refused = await t.client
      .call('deployments.create', { model: 'iris-tfjs', version: bare.version, name: 'bare-on-tfjs', runtime: 'tfjs' })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('INVALID_ARGUMENT');
    expect((refused as AppError).message).toMatch(
      /^runtime: version 2 of 'iris-tfjs' is an ONNX model without a TF\.js export/,
    );
    // A runtime that does not serve the format is refused too.
    const wrong = await t.client
      .call('deployments.create', { model: 'iris-tfjs', name: 'iris-on-gguf', runtime: 'gguf' })
      .catch((err: unknown) => err);
    expect((wrong as AppError).message).toMatch(/^runtime: 'gguf' does not serve iris-tfjs version 2 \(format onnx\)/);
    await t.client.call('deployments.delete', { deployment: 'iris-on-onnx' });
    await t.client.call('deployments.delete', { deployment: 'iris-on-tfjs' });
  });

  it("encodes columns by the dataset's declared types", async () => {
    // Declared a category, a numeric-looking column is one-hot encoded instead of normalised.
    await t.client.call('datasets.setSchema', {
      dataset: 'iris',
      version: '1',
      path: 'iris.csv',
      types: { sepal_width: 'string' },
    });
    try {
      const done = await ended((await submit({ trainer: { ...IRIS_TRAINER, epochs: 1 }, registerModel: 'typed' })).id);
      expect(done.state, done.reason ?? '').toBe('succeeded');
      const { features } = JSON.parse(await artifact(done.runId as string, 'model/preprocessing.json')) as {
        features: FeatureEncoding[];
      };
      expect(features.find((f) => f.column === 'sepal_width')?.encoding).toBe('one-hot');
      expect(features.find((f) => f.column === 'sepal_length')?.encoding).toBe('numeric');
    } finally {
      await t.client.call('datasets.setSchema', {
        dataset: 'iris',
        version: '1',
        path: 'iris.csv',
        types: { sepal_width: null },
      });
    }
  });

  it('runs from the built-in templates, their parameters typed', async () => {
    const { templates } = await t.client.call('trainingTemplates.list');
    expect(templates.map((x) => x.id)).toEqual(
      expect.arrayContaining([
        'builtin-tabular-classifier',
        'builtin-tabular-regressor',
        'builtin-image-classifier',
        'builtin-text-classifier',
      ]),
    );
    const job = await t.client.call('trainingTemplates.submit', {
      template: 'builtin-tabular-classifier',
      params: { target: 'species', epochs: 2, learning_rate: 0.01 },
      datasets: { TRAIN: { dataset: 'iris' } },
    });
    expect(job.spec).toMatchObject({
      kind: 'builtin',
      trainer: { kind: 'tabular-classifier', target: 'species', epochs: 2, learningRate: 0.01 },
    });
    // Unset optional parameters are left out, so the trainer's defaults apply.
    expect(job.spec.trainer).not.toHaveProperty('maxSamples');
    expect(job.spec.trainer).not.toHaveProperty('file');
    expect((await ended(job.id)).state).toBe('succeeded');

    await expect(
      t.client.call('trainingTemplates.submit', {
        template: 'builtin-tabular-classifier',
        params: {},
        datasets: { TRAIN: { dataset: 'iris' } },
      }),
    ).rejects.toThrow(/params\.target: is required/);
  });

  it('fails a job whose trainer cannot read the data, saying why', async () => {
    const done = await ended((await submit({ trainer: { ...IRIS_TRAINER, target: 'colour' } })).id);
    expect(done.state).toBe('failed');
    expect(done.reason).toMatch(/colour/);
    expect(await logText(done.id)).toMatch(/colour/);
  });

  it('refuses specs a built-in trainer cannot run, naming the field', async () => {
    const cases: [Omit<TrainingJobInput, 'kind'>, RegExp][] = [
      [{}, /\btrainer: is required for a 'builtin' job/],
      [{ trainer: IRIS_TRAINER, command: ['python3'] }, /\bcommand: is for 'script' jobs/],
      [{ trainer: IRIS_TRAINER, datasets: [] }, /\bdatasets: a 'builtin' job trains on exactly one dataset version/],
      [{ trainer: IRIS_TRAINER, resources: { gpus: 1 } }, /\bresources\.gpus: built-in trainers run on the CPU/],
      [{ trainer: { ...IRIS_TRAINER, kind: 'forest' as never } }, /\btrainer\.kind/],
      [{ trainer: { kind: 'tabular-classifier' } }, /\btrainer\.target: target \(the label column\) is required/],
    ];
    for (const [spec, message] of cases) {
      const err = await submit(spec).catch((e: unknown) => e);
      expect(err, JSON.stringify(spec)).toBeInstanceOf(AppError);
      expect((err as AppError).message).toMatch(message);
      expect((err as AppError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('cancels a running trainer, and its run is marked killed', async () => {
    const job = await submit({ trainer: { ...IRIS_TRAINER, epochs: 500, batchSize: 1 }, registerModel: 'cancelled' });
    await waitFor(
      async () => ((await t.client.call('trainingJobs.get', { job: job.id })).lastCheckpoint ? true : undefined),
      60_000,
      'a first checkpoint',
    );
    await t.client.call('trainingJobs.cancel', { job: job.id });
    const done = await ended(job.id);
    expect(done.state).toBe('cancelled');
    expect((await t.client.call('runs.get', { run: done.runId as string })).info.status).toBe('KILLED');
    await expect(t.client.call('models.get', { name: 'cancelled' })).rejects.toThrow(/cancelled/);
  });
});

describe('a built-in training job after kill -9 of the app', { timeout: 300_000 }, () => {
  it('resumes from its last checkpoint in the same run: each epoch once, as an uninterrupted job has them', async () => {
    const tmp = tempDir();
    const data = tempDir();
    let server = serveCli(tmp.dir);
    try {
      let url = await server.ready;
      const token = readFileSync(path.join(tmp.dir, 'token'), 'utf8').trim();
      const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${url}${route}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
        return (await res.json()) as T;
      };
      copyFileSync(fixturePath('data', 'iris.csv'), path.join(data.dir, 'iris.csv'));
      const imported = await api<{ id: string }>('POST', '/api/v1/datasets/iris/imports', {
        path: data.dir,
        create: true,
      });
      await waitFor(
        async () =>
          (await api<{ status: string }>('GET', `/api/v1/jobs/${imported.id}`)).status === 'succeeded' || undefined,
        60_000,
        'the import',
      );
      const spec = {
        kind: 'builtin',
        datasets: [{ dataset: 'iris' }],
        trainer: { ...IRIS_TRAINER, epochs: 20, batchSize: 1 },
      };
      const getJob = (id: string) => api<TrainingJob>('GET', `/api/v1/training/jobs/${id}`);
      const finished = (id: string) =>
        waitFor(
          async () => {
            const job = await getJob(id);
            return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
          },
          180_000,
          `job ${id} to end`,
        );
      const losses = async (runId: string) => {
        const out: Record<string, number[][]> = {};
        for (const key of ['loss', 'val_loss']) {
          const page = await api<{ metrics: { step: number; value: number }[] }>(
            'GET',
            `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${key}&max_results=10000`,
          );
          out[key] = page.metrics.map((m) => [m.step, m.value]).sort((a, b) => (a[0] as number) - (b[0] as number));
        }
        return out;
      };

      const killed = await api<TrainingJob>('POST', '/api/v1/training/jobs', spec);
      const atKill = await waitFor(
        async () => {
          const job = await getJob(killed.id);
          if (job.state !== 'running' && job.state !== 'queued') {
            throw new Error(`the job ${job.state} before the kill: ${job.reason ?? ''}`);
          }
          return (job.lastCheckpoint?.step ?? 0) >= 3 ? job : undefined;
        },
        120_000,
        'a checkpoint of epoch 3',
      );
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.on('exit', r));

      server = serveCli(tmp.dir);
      url = await server.ready;
      const resumed = await finished(killed.id);
      expect(resumed, resumed.reason ?? '').toMatchObject({ state: 'succeeded', runId: atKill.runId, attempt: 2 });
      expect(resumed.resumedFromStep).toBeGreaterThanOrEqual(3);
      const logs = await api<{ lines: { text: string }[] }>('GET', `/api/v1/training/jobs/${killed.id}/logs`);
      expect(logs.lines.map((l) => l.text).join('\n')).toContain(`resuming after epoch ${resumed.resumedFromStep}`);

      // The same job never interrupted, for comparison: the same seed gives the same training.
      const reference = await finished((await api<TrainingJob>('POST', '/api/v1/training/jobs', spec)).id);
      expect(reference.state).toBe('succeeded');
      const got = await losses(resumed.runId as string);
      const want = await losses(reference.runId as string);
      for (const key of ['loss', 'val_loss']) {
        const steps = (got[key] ?? []).map((p) => p[0]);
        expect(steps, `${key}: no duplicates and no gaps`).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        for (const [i, [, value]] of (got[key] ?? []).entries()) {
          expect(value).toBeCloseTo(want[key]?.[i]?.[1] as number, 4);
        }
      }
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.on('exit', r));
      tmp.remove();
      data.remove();
    }
  });
});
