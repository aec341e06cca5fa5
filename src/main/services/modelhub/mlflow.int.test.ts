import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath } from '#platform/testing';

/**
 * Replays the requests that MLflow 2.12's own Python client sent to MLflow's server (recorded in
 * test-fixtures/peers) against ours, and compares our answers with the server's: statuses, error codes, and the
 * JSON of every response (server-set times aside; ids mapped between the two servers).
 */
interface Exchange {
  m: string;
  url: string;
  ct: string | null;
  req: string | null;
  status: number;
  rct: string;
  res: string;
}

const exchanges = readFileSync(fixturePath('peers/mlflow-wire-2.12.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Exchange);

/** Every exchange of the recording is served: tracking, artifacts and the registry. */
const SERVED =
  /^\/api\/2\.0\/(mlflow\/(experiments|runs|metrics|registered-models|model-versions)\/|mlflow-artifacts\/)/;
/** Fields the server sets from its own clock. */
const SERVER_TIMES = new Set(['creation_time', 'last_update_time', 'creation_timestamp', 'last_updated_timestamp']);

let t: TestCore;
beforeAll(async () => {
  t = await startTestCore();
});
afterAll(async () => {
  await t.close();
});

/** Ids the recorded server gave and the ones ours gave for the same things, both ways. */
class IdMap {
  private readonly recordedToOurs = new Map<string, string>();
  private readonly oursToRecorded = new Map<string, string>();

  add(recorded: string, ours: string) {
    this.recordedToOurs.set(recorded, ours);
    this.oursToRecorded.set(ours, recorded);
  }

  toOurs(text: string): string {
    return this.swap(text, this.recordedToOurs);
  }

  toRecorded(text: string): string {
    return this.swap(text, this.oursToRecorded);
  }

  private swap(text: string, map: Map<string, string>): string {
    let out = text;
    for (const [from, to] of map) {
      if (/^\d+$/.test(from)) {
        // Experiment ids: only where they stand as ids.
        out = out
          .replaceAll(`"experiment_id": "${from}"`, `"experiment_id": "${to}"`)
          .replaceAll(`"experiment_id":"${from}"`, `"experiment_id":"${to}"`)
          .replaceAll(`experiment_id=${from}&`, `experiment_id=${to}&`)
          .replaceAll(new RegExp(`experiment_id=${from}$`, 'g'), `experiment_id=${to}`)
          .replaceAll(`"experiment_ids": ["${from}"]`, `"experiment_ids": ["${to}"]`)
          .replaceAll(`mlflow-artifacts:/${from}`, `mlflow-artifacts:/${to}`)
          .replaceAll(`/artifacts/${from}/`, `/artifacts/${to}/`)
          .replaceAll(`path=${from}%2F`, `path=${to}%2F`);
      } else out = out.replaceAll(from, to);
    }
    return out;
  }
}

/** A response without what cannot match: times set by each server's clock, sizes of files the recorder mangled. */
function withoutUnknowable(value: unknown, lossy: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutUnknowable(v, lossy));
  if (typeof value === 'object' && value !== null) {
    const mangled = 'path' in value && lossy.has(String(value.path));
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !SERVER_TIMES.has(k) && !(mangled && k === 'file_size'))
        .map(([k, v]) => [k, withoutUnknowable(v, lossy)]),
    );
  }
  return value;
}

/**
 * The recorder cut long bodies short ("...<N bytes>" after the first 1,500, N the full size). Two are requests:
 * a log-batch of a regular series (value = step, one millisecond apart, steps 0-199: the run's later state
 * shows step 199 as its latest) with the param `batch_param` = `x` (the run's later params show it) and one tag
 * the recording never shows (given a stand-in of the size that remains); and a text artifact of one repeated
 * line. Both are rebuilt, and each must start as the recorded part does and have the recorded size.
 */
function completed(req: string): string {
  const cut = /\.\.\.<(\d+) bytes>$/.exec(req);
  if (!cut) return req;
  const kept = req.slice(0, cut.index);
  const size = Number(cut[1]);
  let rebuilt: string;
  const batch =
    /^\{"run_id": "([0-9a-f]{32})", "metrics": \[\{"key": "(\w+)", "value": 0\.0, "timestamp": (\d+), "step": 0\}/.exec(
      kept,
    );
  if (batch) {
    const [, runId, key, start] = batch as unknown as [string, string, string, string];
    const metrics = Array.from(
      { length: 200 },
      (_, step) => `{"key": "${key}", "value": ${step}.0, "timestamp": ${Number(start) + step}, "step": ${step}}`,
    );
    rebuilt =
      `{"run_id": "${runId}", "metrics": [${metrics.join(', ')}], ` +
      `"params": [{"key": "batch_param", "value": "x"}], "tags": [{"key": "batch_tag", "value": "y"}]}`;
  } else {
    const line = kept.slice(0, kept.indexOf('\n') + 1);
    rebuilt = line.repeat(Math.ceil(size / line.length)).slice(0, size);
  }
  expect(rebuilt.startsWith(kept)).toBe(true);
  expect(Buffer.byteLength(rebuilt)).toBe(size);
  return rebuilt;
}

describe('MLflow 2.12 client traffic, replayed', () => {
  it('gets the answers MLflow’s server gave, request by request', async () => {
    const ids = new IdMap();
    /** Binary artifacts the recorder stored as text (bytes lost): their sizes and bytes cannot be compared. */
    const lossy = new Set<string>();
    let replayed = 0;
    for (const [i, x] of exchanges.entries()) {
      if (!SERVED.test(x.url)) continue;
      const url = ids.toOurs(x.url);
      const body = x.req === null ? undefined : ids.toOurs(completed(x.req));
      const res = await t.request(url, {
        method: x.m,
        ...(body !== undefined ? { body, headers: { 'content-type': x.ct ?? 'application/json' } } : {}),
      });
      const text = await res.text();
      const where = `#${i} ${x.m} ${x.url}`;
      expect(res.status, `${where}: ${text}`).toBe(x.status);
      if (x.m === 'PUT' && x.req?.includes('\uFFFD')) lossy.add(x.url.slice(x.url.lastIndexOf('/') + 1));
      if (x.rct !== 'application/json') {
        // A downloaded file: the same bytes, unless the recorder could not keep them (binary ones).
        if (!lossy.has(x.url.slice(x.url.lastIndexOf('/') + 1)))
          expect(ids.toRecorded(text), where).toBe(completed(x.res));
        replayed++;
        continue;
      }
      const ours = JSON.parse(text) as Record<string, unknown>;
      replayed++;
      if (x.status !== 200) {
        const recorded = JSON.parse(x.res) as { error_code: string };
        expect(ours.error_code, where).toBe(recorded.error_code);
        continue;
      }
      // Learn the ids our server gave to what the recorded one created.
      if (x.url.endsWith('experiments/create')) {
        ids.add((JSON.parse(x.res) as { experiment_id: string }).experiment_id, ours.experiment_id as string);
      }
      if (x.url.endsWith('runs/create')) {
        const recordedRun = (JSON.parse(x.res) as { run: { info: { run_id: string } } }).run.info.run_id;
        ids.add(recordedRun, (ours.run as { info: { run_id: string } }).info.run_id);
      }
      // Some recorded responses were cut short by the recorder; those are checked for status only.
      if (x.res.includes('...<')) continue;
      const mapped = JSON.parse(ids.toRecorded(text)) as unknown;
      expect(withoutUnknowable(mapped, lossy), where).toEqual(withoutUnknowable(JSON.parse(x.res), lossy));
    }
    expect(replayed).toBe(exchanges.length);
  });
});

describe('MLflow error shapes', () => {
  it('answers unknown routes and bad JSON in MLflow’s error format, never with a 5xx', async () => {
    const unknown = await t.request('/api/2.0/mlflow/runs/nope', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    const badJson = await t.request('/api/2.0/mlflow/runs/create', {
      method: 'POST',
      body: '{"experiment_id": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    const noAuth = await t.request('/api/2.0/mlflow/experiments/search', {
      headers: { authorization: 'Bearer wrong' },
    });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    const badFilter = await t.request('/api/2.0/mlflow/runs/search', {
      method: 'POST',
      body: JSON.stringify({ experiment_ids: ['0'], filter: 'metrics.acc > ' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(badFilter.status).toBe(400);
    expect(await badFilter.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('keeps NaN and infinite metric values, which arrive and leave as strings', async () => {
    const post = async (path: string, body: object) => {
      const res = await t.request(`/api/2.0/mlflow/${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const created = await post('runs/create', { experiment_id: '0', start_time: 1 });
    const runId = (created.run as { info: { run_id: string } }).info.run_id;
    await post('runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'loss', value: 'NaN', timestamp: 10, step: 0 },
        { key: 'loss', value: 'Infinity', timestamp: 11, step: 1 },
        { key: 'loss', value: '-Infinity', timestamp: 12, step: 2 },
        { key: 'loss', value: 0.5, timestamp: 13, step: 3 },
      ],
    });
    const history = await t.request(`/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(((await history.json()) as { metrics: { value: unknown }[] }).metrics.map((m) => m.value)).toEqual([
      'NaN',
      'Infinity',
      '-Infinity',
      0.5,
    ]);
  });

  it('reads metric fields in every form the JSON mapping of the protos allows, plain or not, in one batch', async () => {
    const post = async (path: string, body: object) => {
      const res = await t.request(`/api/2.0/mlflow/${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const created = await post('runs/create', { experiment_id: '0', start_time: 1 });
    const runId = (created.body.run as { info: { run_id: string } }).info.run_id;
    const logged = await post('runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'm', value: 1.5, timestamp: 10, step: 0 },
        { key: 'm', value: '2.5', timestamp: '11', step: '1' },
        { key: 'm', value: 3, timestamp: 12 },
        { key: 'm', value: 4.5, timestamp: 13, step: 3, extra: true },
      ],
    });
    expect(logged.status, JSON.stringify(logged.body)).toBe(200);
    const history = await t.request(`/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=m`);
    expect(((await history.json()) as { metrics: unknown[] }).metrics).toEqual([
      { key: 'm', value: 1.5, timestamp: 10, step: 0 },
      { key: 'm', value: 2.5, timestamp: 11, step: 1 },
      { key: 'm', value: 3, timestamp: 12, step: 0 },
      { key: 'm', value: 4.5, timestamp: 13, step: 3 },
    ]);
    // A fractional timestamp or step is refused, as before.
    for (const bad of [
      { key: 'm', value: 1, timestamp: 1.5, step: 0 },
      { key: 'm', value: 1, timestamp: 1, step: 0.5 },
    ]) {
      const refused = await post('runs/log-batch', { run_id: runId, metrics: [bad] });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    }
  });
});

describe("MLflow 3's logged models", () => {
  const call = async (method: string, path: string, body?: object) => {
    const res = await t.request(`/api/2.0/mlflow/${path}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('creates, uploads, finalizes, links to its run and registers a model as a 3.x log_model does', async () => {
    const run = (await call('POST', 'runs/create', { experiment_id: '0' })).json.run as { info: { run_id: string } };
    const runId = run.info.run_id;
    const created = await call('POST', 'logged-models', {
      experiment_id: '0',
      name: 'digits-model',
      source_run_id: runId,
      params: [{ key: 'hidden', value: '64' }],
    });
    expect(created.status).toBe(200);
    const info = (created.json.model as { info: Record<string, unknown> }).info;
    expect(info).toMatchObject({ name: 'digits-model', status: 'LOGGED_MODEL_PENDING', source_run_id: runId });
    const modelId = info.model_id as string;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(info.artifact_uri).toBe(`mlflow-artifacts:/0/models/${modelId}/artifacts`);

    const onnx = readFileSync(fixturePath('models/digits_mlp.onnx'));
    for (const [file, body] of [
      ['MLmodel', Buffer.from('flavors:\n  onnx: {}\n')],
      ['model.onnx', onnx],
    ] as const) {
      const put = await t.request(`/api/2.0/mlflow-artifacts/artifacts/0/models/${modelId}/artifacts/${file}`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(put.status).toBe(200);
    }
    const notFinal = await call('PATCH', `logged-models/${modelId}`, { status: 'LOGGED_MODEL_PENDING' });
    expect(notFinal.status).toBe(400);
    expect(notFinal.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    const ready = await call('PATCH', `logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
    expect((ready.json.model as { info: { status: string } }).info.status).toBe('LOGGED_MODEL_READY');
    expect(
      (await call('POST', 'runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 0 }] })).status,
    ).toBe(200);

    const listing = await call('GET', `logged-models/${modelId}/artifacts/directories`);
    expect(listing.json.files).toEqual([
      { path: 'MLmodel', is_dir: false, file_size: 20 },
      { path: 'model.onnx', is_dir: false, file_size: onnx.length },
    ]);
    const file = await t.request(
      `/api/2.0/mlflow/logged-models/${modelId}/artifacts/files?artifact_file_path=model.onnx`,
    );
    expect(Buffer.from(await file.arrayBuffer()).equals(onnx)).toBe(true);

    await call('POST', 'registered-models/create', { name: 'digits-3x' });
    const version = await call('POST', 'model-versions/create', {
      name: 'digits-3x',
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(version.json.model_version).toMatchObject({ version: '1', run_id: runId, source: `models:/${modelId}` });
    expect(await t.client.call('models.version', { name: 'digits-3x', version: '1' })).toMatchObject({
      format: 'onnx',
    });
    const fetched = await call('GET', `logged-models/${modelId}`);
    expect((fetched.json.model as { info: { registrations: unknown } }).info.registrations).toEqual([
      { name: 'digits-3x', version: '1' },
    ]);
    const found = await call('POST', 'logged-models/search', { experiment_ids: ['0'] });
    expect((found.json.models as { info: { model_id: string } }[]).map((m) => m.info.model_id)).toContain(modelId);
    const missing = await call('GET', `logged-models/m-${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});
