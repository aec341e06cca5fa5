import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { openDatabase, runMigrations } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { ImportResult } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import { encodeMetricBatch } from '#shared/metric-batch-binary';
import { decodeSeriesBinary } from '#shared/series-binary';
import { modelhubMigrations } from './schema';
import { jsonNumber } from './series';
import { TrackingService } from './service';
import { ModelhubStore } from './store';

let t: TestCore;
beforeAll(async () => {
  t = await startTestCore();
});
afterAll(async () => {
  await t.close();
});

async function mlflow(pathname: string, body: object): Promise<Record<string, unknown>> {
  const res = await t.request(`/api/2.0/mlflow/${pathname}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

async function rejects(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('experiments and runs through the native API', () => {
  let experimentId: string;
  const runIds: string[] = [];

  beforeAll(async () => {
    experimentId = (await t.client.call('experiments.create', { name: 'native', tags: [{ key: 'team', value: 'ml' }] }))
      .id;
    // Five runs: lr 0.1 … 0.5, acc rising with lr, one of them tagged.
    for (let i = 1; i <= 5; i++) {
      const created = await mlflow('runs/create', { experiment_id: experimentId, run_name: `r${i}`, start_time: i });
      const id = (created.run as { info: { run_id: string } }).info.run_id;
      runIds.push(id);
      await mlflow('runs/log-batch', {
        run_id: id,
        params: [{ key: 'lr', value: `0.${i}` }],
        tags: i === 3 ? [{ key: 'team', value: 'x' }] : [],
        metrics: Array.from({ length: 50 }, (_, step) => ({
          key: 'acc',
          value: (i / 10) * (step / 49),
          timestamp: 1000 + step,
          step,
        })),
      });
    }
  });

  it('lists and gets experiments, filtered by name', async () => {
    const list = await t.client.call('experiments.list', { filter: "name = 'native'" });
    expect(list.items).toEqual([
      expect.objectContaining({ id: experimentId, tags: [{ key: 'team', value: 'ml' }], runCount: 5 }),
    ]);
    expect((await t.client.call('experiments.get', { experiment: experimentId })).name).toBe('native');
    const dup = await rejects(t.client.call('experiments.create', { name: 'native' }));
    expect(dup.httpStatus).toBe(409);
  });

  it('searches runs with the filter language, orders by metrics and pages', async () => {
    const found = await t.client.call('runs.search', {
      experimentIds: [experimentId],
      filter: "metrics.acc > 0.25 and params.lr != '0.5'",
      orderBy: ['metrics.acc DESC'],
    });
    expect(found.items.map((r) => r.info.name)).toEqual(['r4', 'r3']);
    const tagged = await t.client.call('runs.search', { experimentIds: [experimentId], filter: "tags.team = 'x'" });
    expect(tagged.items.map((r) => r.info.name)).toEqual(['r3']);
    const page1 = await t.client.call('runs.search', {
      experimentIds: [experimentId],
      orderBy: ['attributes.start_time ASC'],
      limit: 2,
    });
    const page2 = await t.client.call('runs.search', {
      experimentIds: [experimentId],
      orderBy: ['attributes.start_time ASC'],
      limit: 2,
      pageToken: page1.nextPageToken ?? undefined,
    });
    expect([...page1.items, ...page2.items].map((r) => r.info.name)).toEqual(['r1', 'r2', 'r3', 'r4']);
    const bad = await rejects(
      t.client.call('runs.search', { experimentIds: [experimentId], filter: 'metrics.acc >> 1' }),
    );
    expect(bad.httpStatus).toBe(400);
    expect(bad.message).toMatch(/Invalid comparator/);
  });

  it('serves chart data downsampled on the server, keeping first and last points', async () => {
    const { series } = await t.client.call('runs.series', {
      runIds: runIds.slice(0, 2),
      keys: ['acc', 'nope'],
      maxPoints: 10,
    });
    expect(series.map((s) => [s.runId, s.key, s.total, s.x.length])).toEqual([
      [runIds[0], 'acc', 50, 10],
      [runIds[1], 'acc', 50, 10],
    ]);
    expect(series[0]?.x[0]).toBe(0);
    expect(series[0]?.x.at(-1)).toBe(49);
    expect(series[1]?.y.at(-1)).toBeCloseTo(0.2, 10);
    // Asked again after more points arrive, the chart has them (downsampled series are cached per point count).
    await mlflow('runs/log-metric', { run_id: runIds[0], key: 'acc', value: 2.5, step: 60, timestamp: 999_999 });
    const again = await t.client.call('runs.series', { runIds: [runIds[0] as string], keys: ['acc'], maxPoints: 10 });
    expect(again.series.map((s) => [s.total, s.x.at(-1), s.y.at(-1)])).toEqual([[51, 60, 2.5]]);
    const byTime = await t.client.call('runs.series', {
      runIds: [runIds[0] as string],
      keys: ['acc'],
      x: 'time',
      maxPoints: 10,
    });
    expect(byTime.series[0]?.x.at(-1)).toBe(999_999);
    const unknown = await rejects(
      t.client.call('runs.series', { runIds: [runIds[0] as string, 'f'.repeat(32)], keys: ['acc'] }),
    );
    expect(unknown.httpStatus).toBe(404);
    expect(unknown.message).toContain('f'.repeat(32));
    // The binary form carries the same points.
    const input = { runIds: runIds.slice(0, 2), keys: ['acc'], maxPoints: 10 };
    const json = await t.client.call('runs.series', input);
    const binary = await t.client.file('runs.seriesBinary', input);
    expect(binary.contentType).toBe('application/x-aidos-series');
    expect(
      decodeSeriesBinary(binary.bytes).series.map((s) => ({ ...s, x: [...s.x], y: [...s.y].map(jsonNumber) })),
    ).toEqual(json.series);
    const tooMany = await rejects(t.client.file('runs.seriesBinary', { ...input, maxPoints: 5 }));
    expect(tooMany.httpStatus).toBe(400);
    expect(tooMany.message).toMatch(/maxPoints/);
    const history = await t.client.call('runs.history', { run: runIds[0] as string, key: 'acc', limit: 20 });
    expect(history.items).toHaveLength(20);
    expect(history.nextPageToken).not.toBeNull();
  });

  it('takes metric points in binary batches, and refuses a malformed or oversized one whole', async () => {
    const run = runIds[4] as string;
    const post = (body: Uint8Array, id = run) =>
      t.request(`/api/v1/runs/${id}/metrics`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
    const points = Array.from({ length: 3000 }, (_, i) => ({
      key: i % 3 === 0 ? 'binary/val' : 'binary/loss',
      value: i === 3 ? Number.NaN : i / 2,
      timestamp: 1_000_000 + i,
      step: i,
    }));
    const ok = await post(encodeMetricBatch(points));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ points: 3000 });
    const loss = await t.client.call('runs.history', { run, key: 'binary/loss', limit: 5 });
    expect(loss.items.map((p) => [p.step, p.value, p.timestamp])).toEqual([
      [1, 0.5, 1_000_001],
      [2, 1, 1_000_002],
      [4, 2, 1_000_004],
      [5, 2.5, 1_000_005],
      [7, 3.5, 1_000_007],
    ]);
    const val = await t.client.call('runs.history', { run, key: 'binary/val', limit: 2 });
    expect(val.items.map((p) => p.value)).toEqual([0, 'NaN']);

    const count = async () =>
      (await t.client.call('runs.history', { run, key: 'binary/loss', limit: 100_000 })).items.length;
    const before = await count();
    const refused = async (body: Uint8Array, status: number, message: string, id = run) => {
      const res = await post(body, id);
      const json = (await res.json()) as { error: { message: string } };
      expect(res.status, JSON.stringify(json)).toBe(status);
      expect(json.error.message).toContain(message);
    };
    const good = encodeMetricBatch([{ key: 'binary/loss', value: 1, timestamp: 5, step: 9_999 }]);
    await refused(good.subarray(0, good.length - 2), 400, `the metric batch is ${good.length - 2} bytes`);
    await refused(new TextEncoder().encode('{"metrics":[]}'), 400, 'does not start with AIMB');
    await refused(
      encodeMetricBatch([{ key: 'binary/loss', value: 1, timestamp: 5, step: 0.5 }]),
      400,
      'point 0 (binary/loss) has the step 0.5, not an integer',
    );
    await refused(encodeMetricBatch([{ key: 'a//b', value: 1, timestamp: 5, step: 1 }]), 400, "'a//b'");
    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ key: 'binary/loss', value: 1, timestamp: 5, step: i }));
    await refused(encodeMetricBatch(tooMany), 400, 'holds 10001 points; at most 10000');
    await refused(good, 404, 'f'.repeat(32), 'f'.repeat(32));
    expect(await count()).toBe(before);
  });

  it('lists and serves a run’s artifacts', async () => {
    const run = runIds[0] as string;
    const put = await t.request(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${run}/artifacts/plots/loss.txt`, {
      method: 'PUT',
      body: 'loss went down',
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    expect((await t.client.call('runs.artifacts', { run })).items).toEqual([
      { path: 'plots', isDir: true, size: null },
    ]);
    expect((await t.client.call('runs.artifacts', { run, path: 'plots' })).items).toEqual([
      { path: 'plots/loss.txt', isDir: false, size: 14 },
    ]);
    const file = await t.client.file('runs.artifact', { run, path: 'plots/loss.txt' });
    expect(Buffer.from(file.bytes).toString()).toBe('loss went down');
    const traversal = await t.request(
      `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${run}/artifacts/..%2F..%2Fescape.txt`,
      { method: 'PUT', body: 'x', headers: { 'content-type': 'text/plain' } },
    );
    expect(traversal.status).toBe(400);
  });
});

/** Imports a small table as dataset 'digits' and gives its version id. */
async function importDigits(): Promise<string> {
  const folder = tempDir('aidos-digits-');
  copyFileSync(fixturePath('data/iris.csv'), path.join(folder.dir, 'iris.csv'));
  const started = await t.client.call('datasets.import', { dataset: 'digits', path: folder.dir, create: true });
  const job = await waitFor(
    async () => {
      const j = await t.client.call('jobs.get', { id: started.id });
      if (j.status === 'failed') throw new Error(`import failed: ${j.error?.message ?? ''}`);
      return j.status === 'succeeded' ? j : undefined;
    },
    30_000,
    'import',
  );
  folder.remove();
  return (job.result as ImportResult).version.id;
}

describe('the registry', () => {
  it('registers an ONNX file from a run with its signature, moves aliases and keeps their history', async () => {
    const created = await mlflow('runs/create', { experiment_id: '0', run_name: 'digits' });
    const info = (created.run as { info: { run_id: string; experiment_id: string } }).info;
    const digits = await importDigits();
    await mlflow('runs/log-inputs', {
      run_id: info.run_id,
      datasets: [
        {
          dataset: {
            name: 'digits',
            digest: 'abc',
            source_type: 'aidos',
            source: 'aidos://datasets/digits/versions/1',
          },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
        // A source naming no dataset here is kept, unlinked.
        {
          dataset: {
            name: 'elsewhere',
            digest: 'def',
            source_type: 'aidos',
            source: 'aidos://datasets/nope/versions/3',
          },
        },
      ],
    });
    const onnx = readFileSync(fixturePath('models/digits_mlp.onnx'));
    const put = await t.request(`/api/2.0/mlflow-artifacts/artifacts/0/${info.run_id}/artifacts/model/model.onnx`, {
      method: 'PUT',
      body: onnx,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(200);
    await t.client.call('models.create', { name: 'digits', description: 'an MLP on 8x8 digits' });
    const v1 = await t.client.call('models.createVersion', {
      name: 'digits',
      runId: info.run_id,
      artifactPath: 'model',
      aliases: ['champion'],
    });
    expect(v1).toMatchObject({ version: 1, format: 'onnx', aliases: ['champion'], runId: info.run_id });
    expect(v1.signature).toMatchObject({
      inputs: [{ name: 'x', dtype: 'float32' }],
      outputs: [{ name: 'logits', dtype: 'float32' }],
    });
    const v2 = await t.client.call('models.createVersion', {
      name: 'digits',
      runId: info.run_id,
      artifactPath: 'model',
    });
    await t.client.call('models.setAlias', { name: 'digits', alias: 'champion', version: v2.version });
    await t.client.call('models.setAlias', { name: 'digits', alias: 'challenger', version: 1 });
    await t.client.call('models.deleteAlias', { name: 'digits', alias: 'challenger' });
    expect((await t.client.call('models.version', { name: 'digits', version: 'champion' })).version).toBe(2);
    const history = await t.client.call('models.history', { name: 'digits' });
    expect(history.items.map((h) => [h.name, h.version, h.previousVersion])).toEqual([
      ['champion', 1, null],
      ['champion', 2, 1],
      ['challenger', 1, null],
      ['challenger', null, 1],
    ]);
    expect(history.items.every((h) => h.actor !== '' && h.at > 0)).toBe(true);
    const lineage = await t.client.call('models.lineage', { name: 'digits', version: '1' });
    expect(lineage.run?.info.id).toBe(info.run_id);
    expect(lineage.inputs.map((i) => [i.name, i.datasetVersionId])).toEqual([
      ['digits', digits],
      ['elsewhere', null],
    ]);
    // MLflow clients registering the same folder get the same reading of the file.
    const viaMlflow = await mlflow('model-versions/create', {
      name: 'digits',
      source: `mlflow-artifacts:/0/${info.run_id}/artifacts/model`,
      run_id: info.run_id,
    });
    const v3 = (viaMlflow.model_version as { version: string }).version;
    expect(await t.client.call('models.version', { name: 'digits', version: v3 })).toMatchObject({ format: 'onnx' });
    const missing = await rejects(t.client.call('models.version', { name: 'digits', version: '9' }));
    expect(missing.httpStatus).toBe(404);
    const noAlias = await rejects(t.client.call('models.version', { name: 'digits', version: 'nope' }));
    expect(noAlias.message).toMatch(/alias nope not found/);
    const noArtifact = await rejects(
      t.client.call('models.createVersion', { name: 'digits', runId: info.run_id, artifactPath: 'nothing' }),
    );
    expect(noArtifact.message).toMatch(/has no artifact 'nothing'/);
  });

  it('registers an uploaded GGUF file and reads its signature', async () => {
    const gguf = readFileSync(fixturePath('models/tiny-llama-memorizer-q8.gguf'));
    const upload = await t.client.call('uploads.create', { filename: 'tiny-llama.gguf', size: gguf.length });
    await t.client.send('uploads.append', { id: upload.id, offset: 0 }, gguf);
    await t.client.call('models.create', { name: 'tiny-llama' });
    const v = await t.client.call('models.createVersion', { name: 'tiny-llama', uploadId: upload.id });
    expect(v.format).toBe('gguf');
    expect(v.signature).toMatchObject({ metadata: expect.objectContaining({ architecture: 'llama' }) as unknown });
    // MLflow clients can download it from the version's source.
    const res = await t.request(
      `/api/2.0/mlflow-artifacts/artifacts/${v.source.replace('mlflow-artifacts:/', '')}/tiny-llama.gguf`,
    );
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(gguf)).toBe(true);
  });
});

describe('the default experiment', () => {
  it('is dated when its store is made, and in an older store by its first run or experiment', () => {
    const tmp = tempDir('aidos-modelhub-');
    const fresh = openDatabase(path.join(tmp.dir, 'fresh.sqlite'));
    const older = openDatabase(path.join(tmp.dir, 'older.sqlite'));
    try {
      const before = Date.now();
      runMigrations(fresh, [modelhubMigrations]);
      const store = new TrackingService(new ModelhubStore(fresh), new EventBus(silentLogger()), silentLogger());
      const made = store.experiment('0');
      expect(made.name).toBe('Default');
      expect(made.createdAt).toBeGreaterThanOrEqual(before);
      expect(made.createdAt).toBeLessThanOrEqual(Date.now());

      // A store from before the fix: experiment 0 at time 0, and runs in it since 14 November 2023.
      const upTo4 = { ...modelhubMigrations, migrations: modelhubMigrations.migrations.filter((m) => m.version <= 4) };
      runMigrations(older, [upTo4]);
      const tracking = new TrackingService(new ModelhubStore(older), new EventBus(silentLogger()), silentLogger());
      tracking.createRun({ startTime: 1_700_000_000_000 });
      tracking.createRun({ startTime: 1_710_000_000_000 });
      expect(tracking.experiment('0').createdAt).toBe(0);
      runMigrations(older, [modelhubMigrations]);
      expect(tracking.experiment('0')).toMatchObject({ createdAt: 1_700_000_000_000 });
    } finally {
      fresh.close();
      older.close();
      tmp.remove();
    }
  });
});

describe('runs whose process died', () => {
  it('are marked KILLED after missed heartbeats, or after a long silence without them', () => {
    const tmp = tempDir('aidos-modelhub-');
    const db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
    try {
      runMigrations(db, [modelhubMigrations]);
      const tracking = new TrackingService(new ModelhubStore(db), new EventBus(silentLogger()), silentLogger());
      const withBeats = tracking.createRun({ tags: [{ key: 'aidos.heartbeat_interval_ms', value: '1000' }] }).info.id;
      const plain = tracking.createRun({}).info.id;
      const now = Date.now();
      // 3 s later: neither is dead yet (5 missed beats are 5 s).
      expect(tracking.killSilentRuns(3_600_000, now + 3000)).toEqual([]);
      const killed = tracking.killSilentRuns(3_600_000, now + 6000);
      expect(killed.map((r) => [r.id, r.status])).toEqual([[withBeats, 'KILLED']]);
      expect(tracking.run(withBeats).tags.find((x) => x.key === 'aidos.killed_reason')?.value).toMatch(
        /no sign of life/,
      );
      expect(tracking.run(plain).info.status).toBe('RUNNING');
      expect(tracking.killSilentRuns(3_600_000, now + 3_700_000).map((r) => r.id)).toEqual([plain]);
      // A run that keeps logging is never killed.
      const alive = tracking.createRun({ tags: [{ key: 'aidos.heartbeat_interval_ms', value: '1000' }] }).info.id;
      tracking.logBatch(alive, { metrics: [], params: [], tags: [] });
      expect(tracking.killSilentRuns(3_600_000, Date.now() + 2000)).toEqual([]);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});

describe('writes to a run', () => {
  it('are refused at once after the run is deleted, and taken again once it is restored', () => {
    const tmp = tempDir('aidos-modelhub-');
    const db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
    try {
      runMigrations(db, [modelhubMigrations]);
      const store = new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) });
      const tracking = new TrackingService(store, new EventBus(silentLogger()), silentLogger());
      const id = tracking.createRun({}).info.id;
      const point = (step: number) => ({
        metrics: [{ key: 'loss', value: step, timestamp: step, step }],
        params: [],
        tags: [],
      });
      tracking.logBatch(id, point(0));
      tracking.logBatch(id, point(1));
      tracking.setRunLifecycle(id, 'deleted');
      expect(() => tracking.logBatch(id, point(2))).toThrow(/must be in the 'active' state. Current state is deleted/);
      expect(() => tracking.logInputs(id, [])).toThrow(/Current state is deleted/);
      tracking.setRunLifecycle(id, 'active');
      tracking.logBatch(id, point(3));
      expect(tracking.metricHistory(id, 'loss', {}).points.map((p) => p.step)).toEqual([0, 1, 3]);
      const unknown = 'f'.repeat(32);
      expect(() => tracking.logBatch(unknown, point(0))).toThrow(`Run with id=${unknown} not found`);
      // A run seen inside a transaction that is rolled back is not taken for an existing one afterwards.
      const ghost = 'e'.repeat(32);
      expect(() =>
        store.transaction(() => {
          store.insertRun({ ...tracking.run(id).info, id: ghost }, Date.now());
          expect(store.runStage(ghost)).toBe('active');
          throw new Error('roll back');
        }),
      ).toThrow('roll back');
      expect(store.runStage(ghost)).toBeUndefined();
      expect(() => tracking.logBatch(ghost, point(0))).toThrow(`Run with id=${ghost} not found`);
      store.close();
    } finally {
      db.close();
      tmp.remove();
    }
  });

  it('start without counting the experiment’s runs, with the same run info and errors as before', () => {
    const tmp = tempDir('aidos-modelhub-');
    const db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
    try {
      runMigrations(db, [modelhubMigrations]);
      const store = new ModelhubStore(db);
      const tracking = new TrackingService(store, new EventBus(silentLogger()), silentLogger());
      const exp = tracking.createExperiment({ name: 'e', artifactLocation: '/tmp/artifacts' });
      const counted = vi.spyOn(store, 'experiment');
      const run = tracking.createRun({ experimentId: exp, runName: 'r', startTime: 5 });
      expect(counted).not.toHaveBeenCalled();
      expect(run.info).toMatchObject({
        experimentId: exp,
        name: 'r',
        status: 'RUNNING',
        startTime: 5,
        lifecycleStage: 'active',
        artifactUri: `/tmp/artifacts/${run.info.id}/artifacts`,
      });
      expect(tracking.createRun({}).info.artifactUri).toMatch(/^mlflow-artifacts:\/0\/[0-9a-f]{32}\/artifacts$/);
      expect(tracking.experiment(exp).runCount).toBe(1);
      expect(() => tracking.createRun({ experimentId: '999' })).toThrow('No Experiment with id=999 exists');
      expect(() => tracking.createRun({ experimentId: 'x' })).toThrow('No Experiment with id=x exists');
      tracking.setExperimentLifecycle(exp, 'deleted');
      expect(() => tracking.createRun({ experimentId: exp })).toThrow(
        `The experiment ${exp} must be in the 'active' state. Current state is deleted.`,
      );
    } finally {
      db.close();
      tmp.remove();
    }
  });
});

describe('chart data of a series that keeps growing', () => {
  it('has every point after each append, across chunk merges and the journal, by step and by time', () => {
    const tmp = tempDir('aidos-modelhub-');
    const db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
    runMigrations(db, [modelhubMigrations]);
    // Small batches go through the journal, large ones straight to their chunks: the order must hold across both.
    const store = new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) });
    try {
      const tracking = new TrackingService(store, new EventBus(silentLogger()), silentLogger());
      const run = tracking.createRun({}).info.id;
      let state = 7;
      const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const steps: number[] = [];
      const values: (number | string)[] = [];
      while (steps.length < 5000) {
        // Batches of 1 to 400 points: many small tail chunks, merged and settled along the way.
        const size = 1 + Math.floor(random() ** 3 * 400);
        const metrics = Array.from({ length: size }, (_, i) => {
          const step = steps.length + i;
          return { key: 'loss', value: step % 997 === 0 ? NaN : random(), timestamp: 1000 + step * 10, step };
        });
        tracking.logBatch(run, { metrics, params: [], tags: [] });
        for (const m of metrics) {
          steps.push(m.step);
          values.push(Number.isNaN(m.value) ? 'NaN' : m.value);
        }
        // Read back after some batches only, so that journaled points are pending when a large batch arrives.
        if (random() < 0.4) continue;
        const [byStep] = tracking.chartSeries([run], ['loss'], { x: 'step', maxPoints: 100_000, method: 'lttb' });
        expect([...(byStep?.x ?? [])]).toEqual(steps);
        expect([...(byStep?.y ?? [])].map(jsonNumber)).toEqual(values);
        // Charts sort by x; the history is in logging order, which the journal must not change.
        expect(tracking.metricHistory(run, 'loss', {}).points.map((p) => p.step)).toEqual(steps);
        if (random() < 0.2) {
          const [byTime] = tracking.chartSeries([run], ['loss'], { x: 'time', maxPoints: 100_000, method: 'lttb' });
          expect([...(byTime?.x ?? [])]).toEqual(steps.map((s) => 1000 + s * 10));
        }
      }
    } finally {
      store.close();
      db.close();
      tmp.remove();
    }
  });
});

describe('truncating a run’s metrics for a resumed training job', () => {
  it('drops the points after a step in every series, keeps the rest and logs the dropped steps again', () => {
    const tmp = tempDir('aidos-modelhub-');
    const db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
    runMigrations(db, [modelhubMigrations]);
    const store = new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) });
    try {
      const tracking = new TrackingService(store, new EventBus(silentLogger()), silentLogger());
      const run = tracking.createRun({}).info.id;
      // In batches of at most 1,000 points (MLflow's limit).
      const log = (key: string, from: number, to: number, value: (s: number) => number) => {
        for (let start = from; start <= to; start += 1000) {
          const end = Math.min(to, start + 999);
          tracking.logBatch(run, {
            metrics: Array.from({ length: end - start + 1 }, (_, i) => ({
              key,
              step: start + i,
              timestamp: 1000 + start + i,
              value: value(start + i),
            })),
            params: [],
            tags: [],
          });
        }
      };
      // One point at a time (journal, tail chunks) and in a large batch (settled chunks).
      for (let s = 1; s <= 30; s++) log('loss', s, s, (x) => 1 / x);
      log('loss', 31, 3000, (x) => 1 / x);
      log('val_acc', 1, 3, (x) => x / 10);
      log('late', 2500, 2600, () => 1);
      // Charted before, so that stale cached columns would show.
      expect(
        tracking.chartSeries([run], ['loss'], { x: 'step', maxPoints: 100_000, method: 'lttb' })[0]?.x.length,
      ).toBe(3000);

      tracking.truncateMetrics(run, 20);
      expect(tracking.metricHistory(run, 'loss', {}).points.map((p) => p.step)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(tracking.metricHistory(run, 'val_acc', {}).points).toHaveLength(3);
      expect(tracking.metricHistory(run, 'late', {}).points).toEqual([]);
      const latest = new Map(tracking.run(run).metrics.map((m) => [m.key, m]));
      expect(latest.get('loss')).toMatchObject({ step: 20, value: 1 / 20 });
      expect(latest.has('late')).toBe(false);

      // The resumed attempt logs steps 21… again, with other values: no duplicates, no gaps, no stale chart.
      log('loss', 21, 3000, (x) => 2 / x);
      const history = tracking.metricHistory(run, 'loss', {}).points;
      expect(history.map((p) => p.step)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
      expect(history[25]?.value).toBe(2 / 26);
      const [chart] = tracking.chartSeries([run], ['loss'], { x: 'step', maxPoints: 100_000, method: 'lttb' });
      expect(chart?.y[25]).toBe(2 / 26);

      tracking.truncateMetrics(run, null);
      expect(tracking.run(run).metrics).toEqual([]);
    } finally {
      store.close();
      db.close();
      tmp.remove();
    }
  });
});
