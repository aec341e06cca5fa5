import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { decodePng, encodeImages } from '#platform/builtin-training/images';
import { readTableFile } from '#platform/builtin-training/tables';
import { encodeTexts } from '#platform/builtin-training/text';
import { fixturePath, tempDir } from '#platform/testing';
import { recorder, tableInput } from './testing';
import { TFJS_WEIGHTS_FILE, tfjsGraphModelFromOnnx } from './tfjs-export';
import {
  runBuiltinTrainer,
  type BuiltinTrainerParamsInput,
  type Preprocessing,
  type TabularPreprocessing,
  type TextPreprocessing,
} from './trainer';

// A model of each built-in trainer, trained here, deployed twice on a real core: its ONNX export on onnxruntime
// and its TF.js graph model on TF.js; the same KServe v2 request must get the same answer from both.
const DATA = fixturePath('data');

let tmp: ReturnType<typeof tempDir>;
let t: TestCore;

beforeAll(async () => {
  tmp = tempDir('aidos-tfjs-export-');
  t = await startTestCore({ dataDir: path.join(tmp.dir, 'core') });
});

afterAll(async () => {
  await t?.close();
  tmp?.remove();
});

/** Trains, saves both exports as the files of a model folder, and deploys each. */
async function trainAndDeploy(name: string, params: BuiltinTrainerParamsInput, datasetDir = DATA) {
  const result = await runBuiltinTrainer(params, datasetDir, null, recorder().io);
  const dir = path.join(tmp.dir, name);
  mkdirSync(path.join(dir, 'tfjs'), { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), result.onnx);
  writeFileSync(path.join(dir, 'preprocessing.json'), JSON.stringify(result.preprocessing));
  const tfjs = tfjsGraphModelFromOnnx(result.onnx, result.preprocessing);
  writeFileSync(path.join(dir, 'tfjs', 'model.json'), tfjs.modelJson);
  writeFileSync(path.join(dir, 'tfjs', TFJS_WEIGHTS_FILE), tfjs.weights);
  const onnx = await t.client.call('deployments.create', {
    file: path.join(dir, 'model.onnx'),
    name: `${name}-onnx`,
    threads: 1,
  });
  const graph = await t.client.call('deployments.create', {
    file: path.join(dir, 'tfjs', 'model.json'),
    name: `${name}-tfjs`,
  });
  expect([onnx.runtime, onnx.state, graph.runtime, graph.state]).toEqual(['onnx', 'ready', 'tfjs', 'ready']);
  return result.preprocessing;
}

/** One KServe v2 infer: the first output's shape and data. */
async function infer(model: string, input: { name: string; shape: number[]; datatype: string; data: number[] }) {
  const res = await t.request(`/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [input] }),
  });
  const body = (await res.json()) as { outputs?: { name: string; shape: number[]; data: number[] }[]; error?: string };
  expect(res.status, body.error).toBe(200);
  return body.outputs?.[0] as { name: string; shape: number[]; data: number[] };
}

/** The same request to both deployments: the same output name and shape, values within 1e-4. */
async function expectSameAnswers(name: string, pre: Preprocessing, shape: number[], data: number[]) {
  const onnx = await infer(`${name}-onnx`, {
    name: pre.input.name,
    shape,
    datatype: pre.input.dtype === 'int64' ? 'INT64' : 'FP32',
    data,
  });
  // TF.js has no int64: token ids are int32 there.
  const tfjs = await infer(`${name}-tfjs`, {
    name: pre.input.name,
    shape,
    datatype: pre.input.dtype === 'int64' ? 'INT32' : 'FP32',
    data,
  });
  expect(tfjs.name).toBe(onnx.name);
  expect(tfjs.shape).toEqual(onnx.shape);
  const diff = Math.max(...onnx.data.map((v, i) => Math.abs(v - (tfjs.data[i] as number))));
  expect(diff).toBeLessThan(1e-4);
  return onnx.data;
}

describe('a built-in trained model on the TF.js runtime', { timeout: 180_000 }, () => {
  it('answers like its ONNX export: a tabular classifier (imputation and scaling inside the graph)', async () => {
    const pre = (await trainAndDeploy('iris', {
      kind: 'tabular-classifier',
      file: 'iris.csv',
      target: 'species',
      epochs: 10,
      learningRate: 0.01,
    })) as TabularPreprocessing;
    // 30 rows: a deployment's default maxBatchSize is 32.
    const { data } = tableInput(pre, 'iris.csv');
    const rows = 30;
    const probabilities = await expectSameAnswers('iris', pre, [rows, pre.inputSize], [...data.subarray(0, rows * 4)]);
    expect(probabilities).toHaveLength(rows * 3);
  });

  it('answers like its ONNX export: an image CNN taking NCHW images', async () => {
    const pre = (await trainAndDeploy(
      'fashion',
      { kind: 'image-classifier', epochs: 2, learningRate: 0.01, batchSize: 16 },
      path.join(DATA, 'fashion-png'),
    )) as Extract<Preprocessing, { kind: 'image-classifier' }>;
    const files = ['bag/t10k-0018.png', 'sneaker/t10k-0009.png', 'trouser/t10k-0002.png'].map((f) =>
      path.join(DATA, 'fashion-png', f),
    );
    const images = encodeImages(pre, files.map(decodePng));
    await expectSameAnswers('fashion', pre, [files.length, 1, 28, 28], [...images]);
  });

  it('answers like its ONNX export: a text embedding bag taking token ids', async () => {
    const pre = (await trainAndDeploy('topics', {
      kind: 'text-classifier',
      file: 'topics.jsonl',
      target: 'topic',
      epochs: 5,
      learningRate: 0.01,
    })) as TextPreprocessing;
    const table = readTableFile(path.join(DATA, 'topics.jsonl'));
    const texts = table.rows.slice(0, 10).map((r) => r[0] as string);
    // Edge cases too: no text, only unknown words.
    const { data, dims } = encodeTexts(pre, [...texts, '', 'zzyzx qwxv']);
    await expectSameAnswers('topics', pre, dims, Array.from(data, Number));
  });
});
