import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import type { TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import { fixturePath, waitFor } from '#platform/testing';
import type { MonitorAlert } from '#shared/contracts/evalkit-monitoring';
import type { EvalkitService } from '../contract';
import { deployIrisClassifier, irisRows } from '../testing';

interface WebhookCall {
  body: { type: string; alert: MonitorAlert; monitor: { name: string; deployment: string } };
  status: number;
}

/** A local webhook receiver that answers 500 to its first call, then 200. */
function webhookServer(): Promise<{ server: Server; url: string; calls: WebhookCall[] }> {
  const calls: WebhookCall[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const status = calls.length === 0 ? 500 : 200;
      calls.push({ body: JSON.parse(text) as WebhookCall['body'], status });
      res.writeHead(status).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls }),
    ),
  );
}

describe('drift monitors and A/B tests', { timeout: 240_000 }, () => {
  let t: TestCore;
  let hook: Awaited<ReturnType<typeof webhookServer>>;
  const rows = irisRows();
  /** Iris with petal_length moved up by 3 cm: the other features are the reference's own values. */
  const shifted = rows.map(({ species: _species, ...r }) => ({ ...r, petal_length: Number(r.petal_length) + 3 }));

  const post = async (path: string, body: unknown) => {
    const res = await t.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
  };
  const jobDone = (id: string) =>
    waitFor(
      async () => {
        const job = await t.client.call('jobs.get', { id });
        return job.status === 'queued' || job.status === 'running' ? undefined : job;
      },
      30_000,
      `job ${id}`,
    );

  beforeAll(async () => {
    t = await startTestCore();
    hook = await webhookServer();
    await deployIrisClassifier(t, ['iris-a', 'iris-b']);
  });
  afterAll(async () => {
    hook.server.close();
    await t.close();
  });

  it('refuses bad monitors with a 400 naming the field, storing nothing', async () => {
    await t.client.call('deployments.create', {
      name: 'llm',
      file: fixturePath('models', 'tiny-llama-memorizer-q8.gguf'),
      minReplicas: 0,
      threads: 1,
    });
    const cases: [unknown, RegExp][] = [
      [{ deployment: 'nope' }, /deployment.*no deployment 'nope'/],
      [{ deployment: 'llm' }, /deployment.*GGUF deployment/],
      [{ deployment: 'iris-a', alerts: { psi: -1 } }, /alerts\.psi/],
      [{ deployment: 'iris-a', alerts: { driftedShare: 2 } }, /alerts\.driftedShare/],
      [{ deployment: 'iris-a', webhookUrl: 'ftp://example.com/x' }, /webhookUrl.*http or https/],
      [{ deployment: 'iris-a', webhookUrl: 'not a url' }, /webhookUrl/],
      [{ deployment: 'iris-a', target: 'colour' }, /target.*no column 'colour'/],
      [{ deployment: 'iris-a', dataset: 'missing' }, /dataset/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/api/v1/monitors', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.message).toMatch(message);
    }
    expect((await t.client.call('monitors.list', {})).items).toEqual([]);
  });

  it('fails a check of a deployment that logged nothing yet, saying why, and leaves the monitor ready', async () => {
    await t.client.call('monitors.create', { name: 'iris-b-empty', deployment: 'iris-b' });
    const job = await jobDone((await t.client.call('monitors.check', { monitor: 'iris-b-empty' })).id);
    expect(job.status).toBe('failed');
    expect(job.error?.message).toMatch(/'iris-b' has logged no tabular requests yet/);
    const monitor = await t.client.call('monitors.get', { monitor: 'iris-b-empty' });
    expect(monitor.pendingJobId).toBeNull();
    // The drift page shows why, not only the Tasks page.
    expect(monitor.lastFailure).toMatchObject({ jobId: job.id, message: job.error?.message });
    expect(monitor.lastFailure?.at).toBe(job.finishedAt);
    expect((await t.client.call('monitors.checks', { monitor: 'iris-b-empty', limit: 5 })).items).toEqual([]);
    await t.client.call('monitors.delete', { monitor: 'iris-b-empty' });
  });

  it('reports the shifted feature as drifted and no other, alerts in the app and on the webhook (retried)', async () => {
    const monitor = await t.client.call('monitors.create', {
      name: 'iris-drift',
      deployment: 'iris-a',
      everyRequests: 15,
      alerts: { psi: 0.2 },
      webhookUrl: hook.url,
    });
    // The reference is what the model was trained on, from ModelHub's lineage.
    expect(monitor).toMatchObject({ reference: { dataset: 'iris', version: 1, path: 'iris.csv' }, target: 'species' });
    // The core's module starts the scheduler; starting it again is a no-op.
    t.core.service<EvalkitService>('evalkit').monitors.start();
    const events: string[] = [];
    const off = t.core.bus.on('evalkit.alert.raised', (e) => events.push(e.name));

    for (let i = 0; i < shifted.length; i += 10) {
      await t.client.call('deployments.predict', { deployment: 'iris-a', rows: shifted.slice(i, i + 10) });
    }
    const check = await waitFor(
      async () => (await t.client.call('monitors.checks', { monitor: 'iris-drift', limit: 5 })).items[0],
      20_000,
      'a check after 15 requests',
    );
    off();
    expect(check).toMatchObject({ trigger: 'requests', requests: 15, rows: 150, predictionReference: 'target' });
    expect((await t.client.call('monitors.get', { monitor: 'iris-drift' })).lastFailure).toBeNull();
    expect(check.features.map((f) => f.name).sort()).toEqual([
      'petal_length',
      'petal_width',
      'sepal_length',
      'sepal_width',
    ]);
    expect(check.drifted).toEqual(['petal_length']);
    const byName = Object.fromEntries(check.features.map((f) => [f.name, f]));
    expect(byName.petal_length?.psi).toBeGreaterThan(0.2);
    expect(byName.petal_length?.ks?.pValue).toBeLessThan(1e-6);
    // The unshifted features are the reference's own values: identical distributions.
    for (const name of ['sepal_length', 'sepal_width', 'petal_width']) {
      expect(byName[name]).toMatchObject({ verdict: 'stable', psi: 0, ks: { statistic: 0, pValue: 1 } });
      expect(byName[name]?.jensenShannon).toBeCloseTo(0, 12);
    }
    expect(check.prediction).toMatchObject({ name: 'prediction', kind: 'categorical' });
    expect(check.prediction?.chiSquare).toBeDefined();
    expect(check.alertReasons).toEqual([expect.stringMatching(/^PSI of 'petal_length' [\d.]+ > 0\.2$/)]);
    expect(events).toEqual(['evalkit.alert.raised']);

    const alert = await waitFor(
      async () => {
        const [a] = (await t.client.call('monitors.alerts', { monitor: 'iris-drift' })).items;
        return a?.webhookStatus === 'delivered' ? a : undefined;
      },
      10_000,
      'the webhook delivery',
    );
    expect(alert).toMatchObject({ checkId: check.id, webhookAttempts: 2, webhookError: null });
    expect(hook.calls.map((c) => c.status)).toEqual([500, 200]);
    expect(hook.calls[1]?.body).toMatchObject({
      type: 'evalkit.alert',
      alert: { id: alert.id, reasons: check.alertReasons },
      monitor: { name: 'iris-drift', deployment: 'iris-a' },
    });
  });

  it('reports accuracy over the requests that got ground-truth labels', async () => {
    const { items } = await t.client.call('deployments.logs', { deployment: 'iris-a', limit: 15 });
    // Label the 5 newest requests with the true species of their rows (rows 100..149 of the fixture).
    const labelled = items.slice(0, 5);
    let correct = 0;
    const labels = labelled.map((entry) => {
      const sent = JSON.parse(entry.input) as { petal_length: number; sepal_length: number; sepal_width: number }[];
      const predicted = JSON.parse(entry.output ?? '[]') as { label: string }[];
      const truth = sent.map(
        (r) =>
          rows.find(
            (o) =>
              o.sepal_length === r.sepal_length &&
              o.sepal_width === r.sepal_width &&
              Number(o.petal_length) + 3 === r.petal_length,
          )?.species as string,
      );
      truth.forEach((label, i) => (correct += predicted[i]?.label === label ? 1 : 0));
      return { requestId: entry.id, value: truth };
    });
    const bad = await post('/api/v1/deployments/iris-a/labels', {
      labels: [labels[0], { requestId: labels[1]?.requestId, value: 'setosa' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/labels\[1\]\.value.*10 rows/);
    const unknown = await post('/api/v1/deployments/iris-b/labels', { labels: [labels[0]] });
    expect(unknown.body.error?.message).toMatch(/labels\[0\]\.requestId/);
    // A class the model does not know is refused, with nothing recorded (it would count as a miss for ever).
    const first = labels[0] as { requestId: string; value: string[] };
    const martian = await post('/api/v1/deployments/iris-a/labels', {
      labels: [{ requestId: first.requestId, value: ['martian', ...first.value.slice(1)] }],
    });
    expect(martian.status).toBe(400);
    expect(martian.body.error?.message).toBe(
      'labels[0].value[0]: "martian" is not one of the model\'s classes (setosa, versicolor, virginica)',
    );

    expect(await t.client.call('monitors.labels', { deployment: 'iris-a', labels })).toEqual({ recorded: 5 });
    const job = await t.client.call('monitors.check', { monitor: 'iris-drift' });
    expect((await jobDone(job.id)).status).toBe('succeeded');
    const [latest] = (await t.client.call('monitors.checks', { monitor: 'iris-drift', limit: 1 })).items;
    expect(latest).toMatchObject({ trigger: 'manual', performance: { labelledRows: 50 } });
    expect(latest?.performance?.accuracy).toBeCloseTo(correct / 50, 12);
  });

  it('records a webhook that keeps failing on the alert, and the check still succeeds', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await t.client.call('monitors.create', {
      name: 'iris-unreachable',
      deployment: 'iris-a',
      alerts: { psi: 0.2 },
      webhookUrl: `http://127.0.0.1:${port}/hook`,
    });
    const job = await t.client.call('monitors.check', { monitor: 'iris-unreachable' });
    expect((await jobDone(job.id)).status).toBe('succeeded');
    const [alert] = (await t.client.call('monitors.alerts', { monitor: 'iris-unreachable' })).items;
    expect(alert).toMatchObject({ webhookStatus: 'failed', webhookAttempts: 3, webhookError: 'ECONNREFUSED' });
  });

  it('checks every M minutes while requests come in, and not again without new ones', async () => {
    await t.client.call('monitors.create', { name: 'iris-timed', deployment: 'iris-a', everyMinutes: 0.02 });
    const first = await waitFor(
      async () => (await t.client.call('monitors.checks', { monitor: 'iris-timed', limit: 5 })).items[0],
      15_000,
      'a scheduled check',
    );
    expect(first).toMatchObject({ trigger: 'schedule', rows: 150, drifted: ['petal_length'] });
    // Past several periods (1.2 s) and scheduler ticks (2 s), nothing new was logged: no second check.
    await new Promise((r) => setTimeout(r, 5000));
    expect((await t.client.call('monitors.checks', { monitor: 'iris-timed', limit: 5 })).items).toHaveLength(1);
    await t.client.call('deployments.predict', { deployment: 'iris-a', rows: shifted.slice(0, 10) });
    await waitFor(
      async () =>
        (await t.client.call('monitors.checks', { monitor: 'iris-timed', limit: 5 })).items.length === 2 || undefined,
      15_000,
      'a check after a new request',
    );
    await t.client.call('monitors.delete', { monitor: 'iris-timed' });
  });

  it('reads the rows of v2 infer and tensor predict requests too, decoded with the preprocessing', async () => {
    const d = await t.client.call('deployments.get', { deployment: 'iris-b' });
    const pre = JSON.parse(readFileSync(d.source.preprocessing?.path as string, 'utf8')) as TabularPreprocessing;
    // The model's input: the features in the preprocessing's order, as float32 (as numpy would send them).
    const encoded = (part: typeof shifted) =>
      part.flatMap((row) => {
        const v = new Array<number>(pre.inputSize).fill(0);
        for (const f of pre.features) v[f.index] = Math.fround(Number(row[f.column as keyof typeof row]));
        return v;
      });
    const v2Ids: string[] = [];
    for (let i = 0; i < shifted.length; i += 10) {
      const part = shifted.slice(i, i + 10);
      const tensor = { shape: [part.length, pre.inputSize], datatype: 'FP32' as const, data: encoded(part) };
      if (i < 50) {
        const res = await post('/v2/models/iris-b/infer', { inputs: [{ name: pre.input.name, ...tensor }] });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        v2Ids.push((await t.client.call('deployments.logs', { deployment: 'iris-b', limit: 1 })).items[0]!.id);
      } else if (i < 100) {
        await t.client.call('deployments.predict', { deployment: 'iris-b', inputs: { [pre.input.name]: tensor } });
      } else {
        await t.client.call('deployments.predict', { deployment: 'iris-b', rows: part });
      }
    }
    await t.client.call('monitors.create', { name: 'iris-b-all', deployment: 'iris-b', alerts: { psi: 0.2 } });
    const job = await t.client.call('monitors.check', { monitor: 'iris-b-all' });
    expect((await jobDone(job.id)).status).toBe('succeeded');
    const [check] = (await t.client.call('monitors.checks', { monitor: 'iris-b-all', limit: 1 })).items;
    expect(check).toMatchObject({ requests: 15, rows: 150, drifted: ['petal_length'] });
    // Decoded exactly (float32 back to the reference's decimals): the unshifted features match the reference.
    const byName = Object.fromEntries((check?.features ?? []).map((f) => [f.name, f]));
    for (const name of ['sepal_length', 'sepal_width', 'petal_width']) {
      expect(byName[name]).toMatchObject({ verdict: 'stable', psi: 0, currentRows: 150, ks: { statistic: 0 } });
    }
    // Every request's predictions, from the output tensors too.
    expect(check?.prediction).toMatchObject({ kind: 'categorical', currentRows: 150 });

    // A v2 request has its rows: ground truth is one label per row.
    const bad = await post('/api/v1/deployments/iris-b/labels', { labels: [{ requestId: v2Ids[0], value: 'setosa' }] });
    expect(bad.body.error?.message).toMatch(/labels\[0\]\.value.*10 rows/);
    const truth = rows.slice(0, 10).map((r) => r.species as string);
    await t.client.call('monitors.labels', { deployment: 'iris-b', labels: [{ requestId: v2Ids[0]!, value: truth }] });
    const again = await t.client.call('monitors.check', { monitor: 'iris-b-all' });
    expect((await jobDone(again.id)).status).toBe('succeeded');
    const [labelled] = (await t.client.call('monitors.checks', { monitor: 'iris-b-all', limit: 1 })).items;
    expect(labelled?.performance).toMatchObject({ labelledRows: 10 });
    await t.client.call('monitors.delete', { monitor: 'iris-b-all' });
  });

  it('compares conversion rates: z-test, probability to beat and the peeking warning', async () => {
    const test = await t.client.call('abTests.create', {
      name: 'checkout',
      metric: 'conversion',
      arms: [{ deployment: 'iris-a' }, { deployment: 'iris-b' }],
      plannedPerArm: 1000,
    });
    const outcomes = [
      ...Array.from({ length: 200 }, (_, i) => ({ arm: 'A', value: i < 40 ? 1 : 0 })),
      ...Array.from({ length: 200 }, (_, i) => ({ arm: 'B', value: i < 60 ? 1 : 0 })),
    ];
    expect(await t.client.call('abTests.outcomes', { test: 'checkout', outcomes })).toEqual({
      recorded: 400,
      byArm: { A: 200, B: 200 },
    });
    const results = await t.client.call('abTests.results', { test: test.id });
    expect(results.arms.map((a) => [a.name, a.n, a.mean])).toEqual([
      ['A', 200, 0.2],
      ['B', 200, 0.3],
    ]);
    // A: 0.2 ± 1.959964·√(0.2·0.8/200).
    expect(results.arms[0]?.interval?.[0]).toBeCloseTo(0.2 - 1.959964 * Math.sqrt(0.0008), 5);
    // R: prop.test(c(60, 40), c(200, 200), correct = FALSE): X² = 5.3333 (z = 2.3094), p = 0.020921.
    expect(results.frequentist).toMatchObject({ method: 'two-proportion z-test', significant: true });
    expect(results.frequentist?.difference).toBeCloseTo(0.1, 12);
    expect(results.frequentist?.statistic).toBeCloseTo(2.309401, 5);
    expect(results.frequentist?.pValue).toBeCloseTo(0.0209213, 6);
    expect(results.bayesian?.probabilityBBeatsA).toBeGreaterThan(0.98);
    expect(results.peeking).toMatchObject({ final: false, progress: 0.2 });
    expect(results.peeking.warning).toMatch(/200 of 1000 per arm.*peeking/);

    const bad = await post(`/api/v1/abtests/checkout/outcomes`, {
      outcomes: [
        { arm: 'A', value: 1 },
        { arm: 'A', value: 0.5 },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/outcomes\[1\]\.value.*0 or 1/);
    expect((await t.client.call('abTests.results', { test: 'checkout' })).arms[0]?.n).toBe(200);
  });

  it("compares means with Welch's t-test, mapping logged requests to their arm", async () => {
    await t.client.call('abTests.create', {
      name: 'basket',
      metric: 'continuous',
      arms: [
        { name: 'control', deployment: 'iris-a' },
        { name: 'new', deployment: 'iris-b' },
      ],
    });
    const a = [1.2, 2.3, 3.1, 2.2, 1.9, 2.8];
    const b = [2.9, 3.4, 3.8, 2.7, 4.1, 3.3];
    // Three of B's outcomes arrive by request id: requests answered by iris-b.
    for (let i = 0; i < 3; i++)
      await t.client.call('deployments.predict', { deployment: 'iris-b', rows: [shifted[i]!] });
    const logged = (await t.client.call('deployments.logs', { deployment: 'iris-b', limit: 3 })).items;
    const recorded = await t.client.call('abTests.outcomes', {
      test: 'basket',
      outcomes: [
        ...a.map((value) => ({ arm: 'control', value })),
        ...b.slice(0, 3).map((value) => ({ arm: 'new', value })),
        ...b.slice(3).map((value, i) => ({ requestId: logged[i]!.id, value })),
      ],
    });
    expect(recorded.byArm).toEqual({ control: 6, new: 6 });
    const wrongArm = await post('/api/v1/abtests/basket/outcomes', {
      outcomes: [{ requestId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', value: 1 }],
    });
    expect(wrongArm.status).toBe(400);
    expect(wrongArm.body.error?.message).toMatch(/outcomes\[0\]\.requestId.*not logged by either arm/);

    const results = await t.client.call('abTests.results', { test: 'basket' });
    // scipy.stats.ttest_ind(b, a, equal_var=False): t = 3.202115, p = 0.010119, df = 9.471657.
    expect(results.frequentist).toMatchObject({ method: "Welch's t-test", significant: true });
    expect(results.frequentist?.statistic).toBeCloseTo(3.202115, 5);
    expect(results.frequentist?.pValue).toBeCloseTo(0.010119, 5);
    expect(results.frequentist?.df).toBeCloseTo(9.471657, 5);
    expect(results.peeking).toMatchObject({ final: false, progress: null });

    // An outcome posted again for the same request replaces the first: still 6 per arm, the same t.
    await t.client.call('abTests.outcomes', {
      test: 'basket',
      outcomes: b.slice(3).map((value, i) => ({ requestId: logged[i]!.id, value })),
    });
    const again = await t.client.call('abTests.results', { test: 'basket' });
    expect(again.arms.map((arm) => arm.n)).toEqual([6, 6]);
    expect(again.frequentist?.statistic).toBeCloseTo(3.202115, 5);
  });

  it('compares the two versions of a canary deployment, each logged request counted for the version that answered', async () => {
    // Version 2 of iris (the same files) as a canary answering half of iris-canary's requests.
    const { runId } = await t.client.call('models.version', { name: 'iris', version: '1' });
    await t.client.call('models.createVersion', {
      name: 'iris',
      runId: runId as string,
      artifactPath: 'model',
      aliases: [],
    });
    await t.client.call('deployments.create', {
      name: 'iris-canary',
      model: 'iris',
      version: 1,
      requestLog: { sampleRate: 1, maxChars: 1_000_000 },
    });
    const patched = await t.request('/api/v1/deployments/iris-canary', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ traffic: { mode: 'canary', version: 2, percent: 50 } }),
    });
    expect(patched.status).toBe(200);
    const d = await t.client.call('deployments.get', { deployment: 'iris-canary' });
    const pre = JSON.parse(readFileSync(d.source.preprocessing?.path as string, 'utf8')) as TabularPreprocessing;

    // Half through KServe v2 (the answering version in x-aidos-model-version), half through predict (in the body).
    const answeredBy: number[] = [];
    for (let i = 0; i < 60; i++) {
      const row = shifted[i]!;
      if (i % 2 === 0) {
        const data = new Array<number>(pre.inputSize).fill(0);
        for (const f of pre.features) data[f.index] = Number(row[f.column as keyof typeof row]);
        const res = await t.request('/v2/models/iris-canary/infer', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: pre.input.name, shape: [1, pre.inputSize], datatype: 'FP32', data }],
          }),
        });
        expect(res.status).toBe(200);
        answeredBy.push(Number(res.headers.get('x-aidos-model-version')));
      } else {
        const out = await t.client.call('deployments.predict', { deployment: 'iris-canary', rows: [row] });
        answeredBy.push(out.modelVersion as number);
      }
    }
    expect(new Set(answeredBy)).toEqual(new Set([1, 2]));
    const logged = (await t.client.call('deployments.logs', { deployment: 'iris-canary', limit: 60 })).items.reverse();
    expect(logged.map((e) => e.modelVersion)).toEqual(answeredBy);

    // Every third request converts, and every request version 2 answered at an odd place.
    const value = (i: number) => (i % 3 === 0 || (answeredBy[i] === 2 && i % 2 === 1) ? 1 : 0);
    const outcomes = logged.map((e, i) => ({ requestId: e.id, value: value(i) }));
    const expected = [1, 2].map((version) => {
      const mine = answeredBy.flatMap((v, i) => (v === version ? [value(i)] : []));
      return { n: mine.length, mean: mine.reduce((a, b) => a + b, 0) / mine.length };
    });
    await t.client.call('abTests.create', {
      name: 'canary',
      metric: 'conversion',
      arms: [
        { name: 'v1', deployment: 'iris-canary', version: 1 },
        { name: 'v2', deployment: 'iris-canary', version: 2 },
      ],
    });
    expect((await t.client.call('abTests.outcomes', { test: 'canary', outcomes })).byArm).toEqual({
      v1: expected[0]!.n,
      v2: expected[1]!.n,
    });
    const results = await t.client.call('abTests.results', { test: 'canary' });
    expect(results.arms.map((a) => [a.name, a.n])).toEqual([
      ['v1', expected[0]!.n],
      ['v2', expected[1]!.n],
    ]);
    expect(results.arms[0]?.mean).toBeCloseTo(expected[0]!.mean, 12);
    expect(results.arms[1]?.mean).toBeCloseTo(expected[1]!.mean, 12);
    expect(results.frequentist?.difference).toBeCloseTo(expected[1]!.mean - expected[0]!.mean, 12);

    // A deployment-wide control beside the canary's arm: the canary's requests are the canary's, the rest control's.
    await t.client.call('abTests.create', {
      name: 'canary-vs-rest',
      metric: 'conversion',
      arms: [
        { name: 'rest', deployment: 'iris-canary' },
        { name: 'canary', deployment: 'iris-canary', version: 2 },
      ],
    });
    expect((await t.client.call('abTests.outcomes', { test: 'canary-vs-rest', outcomes })).byArm).toEqual({
      rest: expected[0]!.n,
      canary: expected[1]!.n,
    });

    // A version the deployment's model does not have would never get an outcome: refused, naming the arm.
    const bad = await post('/api/v1/abtests', {
      name: 'canary-typo',
      metric: 'conversion',
      arms: [
        { deployment: 'iris-canary', version: 1 },
        { deployment: 'iris-canary', version: 9 },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/arms\[1\]\.version.*model 'iris', which has no version 9/);
  });

  it('sizes a test, and refuses a bad baseline naming it', async () => {
    // Fleiss without continuity correction: 10% → 12% at α 0.05, power 0.8 needs 3,841 per arm.
    expect(await t.client.call('abTests.sampleSize', { metric: 'conversion', baseline: 0.1, mde: 0.02 })).toEqual({
      perArm: 3841,
      total: 7682,
    });
    // 2σ²(z₀.₉₇₅ + z₀.₈)²/δ² = 2·(1.959964 + 0.841621)²/0.25 = 62.79 → 63.
    expect((await t.client.call('abTests.sampleSize', { metric: 'continuous', sd: 1, mde: 0.5 })).perArm).toBe(63);
    const res = await t.request('/api/v1/ab-sample-size?metric=conversion&baseline=1.5&mde=0.1');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/baseline/);
  });
});
