import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeploymentsPage } from './pages/deployments';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { shot } from './support/shots';

// A TF.js layers model (4 features → 3 softmax scores) served from its model.json: its deployment page treats it as
// a tensor model (batching, replicas) and its playground shows the model's signature and predicts with it.
let dir: string;
let modelJson: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(tmpdir(), 'aidos-e2e-tfjs-'));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }),
    ],
  });
  // What TF.js's file handler writes: model.json with the topology and the manifest, the weights in one shard.
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights));
      modelJson = path.join(dir, 'model.json');
      writeFileSync(
        modelJson,
        JSON.stringify({
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        }),
      );
      return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TF.js deployments', () => {
  const app = useApp();

  test('shows a TF.js deployment as a tensor model, with its signature in the playground, and predicts', async () => {
    const { server, page } = await app.start({ colorScheme: 'light' });
    const shell = new AppShell(page, server.url);
    const deployments = new DeploymentsPage(page);
    await server.api.call('deployments.create', { file: modelJson, name: 'flowers', maxBatchSize: 8 });

    await shell.openWithToken('/deployments?deployment=flowers', server.token);
    await deployments.detail('flowers', 'ready').waitFor();
    await page.getByText('up to 8 rows').waitFor();

    await deployments.tab('Playground');
    const playground = page.getByTestId('tensor-playground');
    await playground.getByText('hidden_input FP32 [-1, 4]').waitFor();
    await playground.getByRole('button', { name: 'Predict' }).click();
    const outputs = page.getByTestId('predict-outputs');
    await outputs.waitFor();
    expect(await outputs.textContent()).toMatch(/probs\s*FP32 \[1, 3\]/);
    await shot(page, 'deployment-tfjs-playground-light');
  });
});
