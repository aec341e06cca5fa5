import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { saveHandler } from '#platform/tfjs-serving/io';
import { fixturePath, tempDir } from '#platform/testing';

// KServe v2 model metadata of TF.js deployments on a real core: the platform names the runtime, and a deployment
// scaled to zero (never loaded) answers with its model's signature without being loaded.
let data: { dir: string; remove: () => void };
let t: TestCore;
let modelJson: string;

async function v2(url: string) {
  const res = await t.request(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  data = tempDir('aidos-tfjs-v2-');
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [5], units: 4, activation: 'relu', name: 'features' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'scores' }),
    ],
  });
  const dir = path.join(data.dir, 'model');
  await model.save(saveHandler(tf, dir));
  modelJson = path.join(dir, 'model.json');
  t = await startTestCore({ dataDir: path.join(data.dir, 'core') });
});

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('v2 metadata of TF.js deployments', () => {
  it('names the platform tensorflowjs, and onnxruntime_onnx for an ONNX deployment', async () => {
    await t.client.call('deployments.create', { file: modelJson, name: 'scores' });
    await t.client.call('deployments.create', { file: fixturePath('models', 'digits_mlp.onnx'), name: 'digits' });
    expect((await v2('/v2/models/scores')).body).toMatchObject({ name: 'scores', platform: 'tensorflowjs' });
    expect((await v2('/v2/models/digits')).body).toMatchObject({ name: 'digits', platform: 'onnxruntime_onnx' });
  });

  it('answers for a deployment scaled to zero with its signature, leaving it unloaded', async () => {
    const idle = await t.client.call('deployments.create', {
      file: modelJson,
      name: 'scores-idle',
      minReplicas: 0,
    });
    expect(idle).toMatchObject({ state: 'pending', replicas: null });
    const { status, body } = await v2('/v2/models/scores-idle');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toEqual({
      name: 'scores-idle',
      platform: 'tensorflowjs',
      inputs: [{ name: 'features_input', datatype: 'FP32', shape: [-1, 5] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 2] }],
    });
    expect(await t.client.call('deployments.get', { deployment: 'scores-idle' })).toMatchObject({
      state: 'pending',
      replicas: null,
    });
  });

  it('answers 404 naming the file for a TF.js deployment scaled to zero whose model.json is gone', async () => {
    const dir = path.join(data.dir, 'removed');
    cpSync(path.dirname(modelJson), dir, { recursive: true });
    const d = await t.client.call('deployments.create', {
      file: path.join(dir, 'model.json'),
      name: 'scores-removed',
      minReplicas: 0,
    });
    expect(d.state).toBe('pending');
    rmSync(dir, { recursive: true });
    const { status, body } = await v2('/v2/models/scores-removed');
    expect(status).toBe(404);
    expect(body.error).toContain(path.join(dir, 'model.json'));
  });
});
