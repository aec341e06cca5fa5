import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTf } from '#platform/builtin-training/backend';
import { decodePng, encodeImages, readIdx } from '#platform/builtin-training/images';
import { encodeTabularRecords } from '#platform/builtin-training/tabular';
import { readTableFile } from '#platform/builtin-training/tables';
import { encodeTexts } from '#platform/builtin-training/text';
import { fixturePath, tempDir } from '#platform/testing';
import { argMaxRows, compareExport, recorder, tableInput, type Recorded } from './testing';
import {
  runBuiltinTrainer,
  TrainingCancelledError,
  type BuiltinTrainerParamsInput,
  type Preprocessing,
  type TabularPreprocessing,
  type TextPreprocessing,
  type TrainerIo,
  type TrainerResult,
} from './trainer';

const DATA = fixturePath('data');
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

async function train(
  params: BuiltinTrainerParamsInput,
  datasetDir = DATA,
): Promise<{ result: TrainerResult; recorded: Recorded }> {
  const recorded = recorder();
  const result = await runBuiltinTrainer(params, datasetDir, null, recorded.io);
  return { result, recorded };
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('aidos-builtin-');
});
afterEach(() => tmp.remove());

describe('built-in tabular trainers', () => {
  it('trains an MLP on iris, reports and checkpoints every epoch, and exports ONNX that matches TF.js', async () => {
    const { result, recorded } = await train({
      kind: 'tabular-classifier',
      file: 'iris.csv',
      target: 'species',
      epochs: 40,
      learningRate: 0.01,
      earlyStoppingPatience: 0,
    });
    expect(result.epochs).toBe(40);
    expect(recorded.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect([...recorded.checkpoints.keys()]).toEqual(recorded.epochs.map((e) => e.epoch));
    expect(Object.keys(recorded.epochs[0]?.metrics ?? {}).sort()).toEqual([
      'accuracy',
      'loss',
      'val_accuracy',
      'val_loss',
    ]);
    expect(result.metrics.val_accuracy).toBeGreaterThan(0.85);
    expect(result.metrics.best_epoch).toBeLessThanOrEqual(result.epochs);

    const pre = result.preprocessing as TabularPreprocessing;
    expect(pre).toMatchObject({
      kind: 'tabular-classifier',
      labels: ['setosa', 'versicolor', 'virginica'],
      input: { name: 'features', dtype: 'float32', shape: ['batch', 4] },
      output: { name: 'probabilities', shape: ['batch', 3] },
    });
    const { data, dims, labels } = tableInput(pre, 'iris.csv');
    const { onnx, diff } = await compareExport(result, recorded, data, dims);
    expect(diff).toBeLessThan(1e-4);
    const predicted = argMaxRows(onnx, 3).map((i) => pre.labels?.[i]);
    expect(predicted.filter((p, i) => p === labels[i]).length / labels.length).toBeGreaterThan(0.85);
  });

  it('imputes missing values, one-hot encodes text columns by the declared schema and ignores unknown values', async () => {
    const { result, recorded } = await train({
      kind: 'tabular-classifier',
      file: 'penguins.csv',
      target: 'species',
      epochs: 30,
      learningRate: 0.01,
      // As DataForge declares it; the other columns' types are inferred.
      schema: [{ name: 'sex', type: 'string' }],
    });
    const pre = result.preprocessing as TabularPreprocessing;
    const island = pre.features.find((f) => f.column === 'island');
    const sex = pre.features.find((f) => f.column === 'sex');
    expect(island).toMatchObject({ encoding: 'one-hot', categories: ['Biscoe', 'Dream', 'Torgersen'] });
    // penguins.csv has rows without sex: missing is a category of its own.
    expect(sex?.encoding === 'one-hot' && sex.categories).toContain(null);
    expect(pre.features.find((f) => f.column === 'beak_length')?.encoding).toBe('numeric');
    expect(result.metrics.val_accuracy).toBeGreaterThan(0.9);

    const { data, dims } = tableInput(pre, 'penguins.csv');
    expect(data.some(Number.isNaN)).toBe(true);
    expect((await compareExport(result, recorded, data, dims)).diff).toBeLessThan(1e-4);

    // Raw records, as a server would get them: an unknown island, numbers as numbers, a row with nothing at all.
    const records = [
      {
        island: 'Atlantis',
        beak_length: 45.1,
        beak_depth: '14.5',
        flipper_length: 215,
        body_mass: 5000,
        sex: 'FEMALE',
      },
      {},
    ];
    const input = encodeTabularRecords(pre, records);
    expect(Array.from(input.subarray(0, 3))).toEqual([0, 0, 0]);
    const compared = await compareExport(result, recorded, input, [2, pre.inputSize]);
    expect(compared.diff).toBeLessThan(1e-4);
    expect(compared.onnx.every(Number.isFinite)).toBe(true);
  });

  it('trains a regressor whose ONNX output is de-standardised to the target units', async () => {
    const { result, recorded } = await train({
      kind: 'tabular-regressor',
      file: 'diabetes.csv',
      target: 'progression',
      epochs: 60,
      learningRate: 0.003,
    });
    expect(Object.keys(recorded.epochs[0]?.metrics ?? {}).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    // Predicting the mean gives an MAE of about 64 on this data.
    expect(result.metrics.val_mae).toBeLessThan(55);
    const pre = result.preprocessing as TabularPreprocessing;
    expect(pre.output).toEqual({ name: 'value', dtype: 'float32', shape: ['batch', 1] });
    expect(pre.targetScaling?.mean).toBeCloseTo(152, -1);
    const { data, dims } = tableInput(pre, 'diabetes.csv');
    const { onnx, diff } = await compareExport(result, recorded, data, dims);
    // Values of 25..350 in float32 are spaced 2e-6 to 3e-5 apart, so an absolute 1e-4 is only a few units in
    // the last place here: the check is relative (the unit-scale regressor below is held to an absolute 1e-4).
    expect(diff / Math.max(...onnx.map(Math.abs))).toBeLessThan(1e-6);
    expect(Math.min(...onnx)).toBeGreaterThan(0);
  });

  it('matches TF.js within 1e-4 for a regressor of a unit-scale target', async () => {
    const { result, recorded } = await train({
      kind: 'tabular-regressor',
      file: 'iris.csv',
      target: 'petal_width',
      epochs: 10,
    });
    const pre = result.preprocessing as TabularPreprocessing;
    // The species column is text: one-hot encoded.
    expect(pre.features.map((f) => f.encoding)).toEqual(['numeric', 'numeric', 'numeric', 'one-hot']);
    const { data, dims } = tableInput(pre, 'iris.csv');
    expect((await compareExport(result, recorded, data, dims)).diff).toBeLessThan(1e-4);
  });

  it('resumes from the checkpoint of epoch 2 at epoch 3 and ends where an uninterrupted run does', async () => {
    const params: BuiltinTrainerParamsInput = {
      kind: 'tabular-classifier',
      file: 'wine.csv',
      target: 'cultivar',
      epochs: 6,
      earlyStoppingPatience: 0,
    };
    const full = await train(params);
    const resumed = recorder();
    const state = full.recorded.checkpoints.get(2) as Uint8Array;
    const result = await runBuiltinTrainer(params, DATA, { epoch: 2, state }, resumed.io);
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([3, 4, 5, 6]);
    expect(result.epochs).toBe(6);
    // Same split, shuffles and optimizer state: the same training, up to float rounding.
    for (const [i, { metrics }] of resumed.epochs.entries())
      for (const [name, value] of Object.entries(metrics))
        expect(value).toBeCloseTo(full.recorded.epochs[i + 2]?.metrics[name] as number, 4);
    expect(result.metrics.val_loss).toBeCloseTo(full.result.metrics.val_loss as number, 4);
    expect(result.preprocessing).toEqual(full.result.preprocessing);

    const { data, dims } = tableInput(result.preprocessing as TabularPreprocessing, 'wine.csv');
    expect((await compareExport(result, resumed, data, dims)).diff).toBeLessThan(1e-4);

    await expect(
      runBuiltinTrainer({ ...params, hiddenUnits: [8] }, DATA, { epoch: 2, state }, recorder().io),
    ).rejects.toThrow(/checkpoint does not fit.*'architecture' differs/);
    await expect(runBuiltinTrainer(params, DATA, { epoch: 3, state }, recorder().io)).rejects.toThrow(
      /resume state is of epoch 2, not 3/,
    );
  });

  it('stops early when the validation loss stops improving and exports the best epoch', async () => {
    const { result, recorded } = await train({
      kind: 'tabular-classifier',
      file: 'iris.csv',
      target: 'species',
      epochs: 300,
      learningRate: 0.05,
      earlyStoppingPatience: 2,
    });
    expect(result.epochs).toBeLessThan(300);
    expect(recorded.epochs.length).toBe(result.epochs);
    const best = recorded.epochs.find((e) => e.epoch === result.metrics.best_epoch);
    expect(result.epochs - (result.metrics.best_epoch as number)).toBe(2);
    expect(result.metrics.val_loss).toBe(best?.metrics.val_loss);
    expect(recorded.logs.some((l) => l.startsWith('early stopping'))).toBe(true);
  });

  it('frees every tensor it made', async () => {
    const { tf } = await loadTf();
    const before = tf.memory().numTensors;
    const { recorded } = await train({
      kind: 'tabular-classifier',
      file: 'penguins.csv',
      target: 'species',
      epochs: 2,
    });
    await runBuiltinTrainer(
      { kind: 'tabular-classifier', file: 'penguins.csv', target: 'species', epochs: 3 },
      DATA,
      { epoch: 2, state: recorded.checkpoints.get(2) as Uint8Array },
      recorder().io,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same result for the same seed', async () => {
    const params: BuiltinTrainerParamsInput = {
      kind: 'tabular-classifier',
      file: 'iris.csv',
      target: 'species',
      epochs: 3,
    };
    const [a, b] = [await train(params), await train(params)];
    expect(a.recorded.epochs).toEqual(b.recorded.epochs);
    const c = await train({ ...params, seed: 7 });
    expect(c.recorded.epochs).not.toEqual(a.recorded.epochs);
  });
});

describe('built-in text trainer', () => {
  it('trains an embedding bag on topics.jsonl with its train/test split and exports token-id ONNX', async () => {
    const { result, recorded } = await train({
      kind: 'text-classifier',
      file: 'topics.jsonl',
      target: 'topic',
      epochs: 40,
      learningRate: 0.01,
    });
    // 8 topics: chance is 0.125.
    expect(result.metrics.test_accuracy).toBeGreaterThan(0.7);
    const pre = result.preprocessing as TextPreprocessing;
    expect(pre.labels).toHaveLength(8);
    expect(pre.input).toEqual({ name: 'tokens', dtype: 'int64', shape: ['batch', 'tokens'] });
    expect(
      recorded.logs.some((l) => /training, \d+ validation and 40 test rows \(split column 'split'\)/.test(l)),
    ).toBe(true);

    const table = readTableFile(path.join(DATA, 'topics.jsonl'));
    const texts = table.rows.filter((r) => r[2] === 'test').map((r) => r[0] as string);
    const topics = table.rows.filter((r) => r[2] === 'test').map((r) => r[1] as string);
    // Edge cases too: no text, only unknown words.
    const { data, dims } = encodeTexts(pre, [...texts, '', 'zzyzx qwxv']);
    const { onnx, diff } = await compareExport(result, recorded, data, dims);
    expect(diff).toBeLessThan(1e-4);
    const predicted = argMaxRows(onnx, 8)
      .slice(0, texts.length)
      .map((i) => pre.labels?.[i]);
    expect(predicted.filter((p, i) => p === topics[i]).length / texts.length).toBeGreaterThan(0.7);
  });
});

/** A PNG of `width` x `height` filled with one colour plus noise. */
function writePng(
  file: string,
  width: number,
  height: number,
  rgb: [number, number, number],
  noise: () => number,
): void {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++)
      png.data[i * 4 + c] = Math.max(0, Math.min(255, Math.round((rgb[c] as number) + noise())));
    png.data[i * 4 + 3] = 255;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, PNG.sync.write(png));
}

describe('built-in image trainer', () => {
  it('trains a CNN on a folder of grey PNG classes and exports NCHW ONNX that matches TF.js', async () => {
    const { result, recorded } = await train(
      { kind: 'image-classifier', epochs: 8, learningRate: 0.01, batchSize: 16 },
      path.join(DATA, 'fashion-png'),
    );
    expect(result.preprocessing).toMatchObject({
      kind: 'image-classifier',
      labels: ['bag', 'sneaker', 'trouser'],
      height: 28,
      width: 28,
      channels: 1,
      input: { name: 'image', shape: ['batch', 1, 28, 28] },
    });
    const pre = result.preprocessing as Extract<Preprocessing, { kind: 'image-classifier' }>;
    const files = ['bag/t10k-0018.png', 'sneaker/t10k-0009.png', 'trouser/t10k-0002.png'].map((f) =>
      path.join(DATA, 'fashion-png', f),
    );
    const images = encodeImages(pre, files.map(decodePng));
    const { onnx, diff } = await compareExport(result, recorded, images, [files.length, 1, 28, 28]);
    expect(diff).toBeLessThan(1e-4);
    // Three easy classes seen in training.
    expect(argMaxRows(onnx, 3)).toEqual([0, 1, 2]);
  });

  it('reads RGB images of mixed sizes, resizing them to the first one', async () => {
    let seed = 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 60;
    const colours: Record<string, [number, number, number]> = {
      red: [200, 40, 40],
      green: [40, 200, 40],
      blue: [40, 40, 200],
    };
    for (const [name, rgb] of Object.entries(colours))
      for (let i = 0; i < 8; i++)
        writePng(path.join(tmp.dir, 'images', name, `${i}.png`), i % 2 ? 12 : 16, 16, rgb, noise);
    const { result, recorded } = await train(
      {
        kind: 'image-classifier',
        epochs: 10,
        learningRate: 0.01,
        batchSize: 8,
        convFilters: [4],
        validationSplit: 0.25,
      },
      tmp.dir,
    );
    const pre = result.preprocessing as Extract<Preprocessing, { kind: 'image-classifier' }>;
    expect(pre).toMatchObject({ channels: 3, height: 16, width: 16, labels: ['blue', 'green', 'red'] });
    expect(result.metrics.val_accuracy).toBe(1);
    const files = ['red/1.png', 'green/0.png', 'blue/3.png'].map((f) => path.join(tmp.dir, 'images', f));
    const { onnx, diff } = await compareExport(
      result,
      recorded,
      encodeImages(pre, files.map(decodePng)),
      [3, 3, 16, 16],
    );
    expect(diff).toBeLessThan(1e-4);
    expect(argMaxRows(onnx, 3)).toEqual([2, 1, 0]);
  });

  // ~20 s alone; several times that on a machine busy with other suites.
  it(
    'learns Fashion-MNIST from 2,000 IDX images well above chance on held-out t10k images',
    { timeout: 240_000 },
    async () => {
      const { result, recorded } = await train(
        { kind: 'image-classifier', epochs: 3, maxSamples: 2000, learningRate: 0.002 },
        FASHION_MNIST,
      );
      // train-* trains (1,600 + 400 validation), 2,000 of t10k-* are the test set; 10 classes, chance 0.1.
      expect(recorded.logs).toContain('1600 training, 400 validation and 2000 test images, 28x28, grey');
      expect(result.metrics.test_accuracy).toBeGreaterThan(0.6);

      const t10k = readIdx({
        images: path.join(FASHION_MNIST, 't10k-images-idx3-ubyte.gz'),
        labels: path.join(FASHION_MNIST, 't10k-labels-idx1-ubyte.gz'),
      });
      const count = 500;
      const images = Float32Array.from(t10k.pixels.subarray(0, count * 784), (v) => v / 255);
      const { onnx, diff } = await compareExport(result, recorded, images, [count, 1, 28, 28]);
      expect(diff).toBeLessThan(1e-4);
      const labels = result.preprocessing.labels as string[];
      const correct = argMaxRows(onnx, 10).filter((c, i) => labels[c] === String(t10k.labels[i])).length;
      expect(correct / count).toBeGreaterThan(0.6);
    },
  );
});

describe('built-in trainer errors', () => {
  it('names the problem with the input', async () => {
    const run = (params: BuiltinTrainerParamsInput, dir = DATA) => runBuiltinTrainer(params, dir, null, recorder().io);
    await expect(run({ kind: 'tabular-classifier', file: 'iris.csv', target: 'colour' })).rejects.toThrow(
      "the target column 'colour' is not in the table (columns: sepal_length, sepal_width, petal_length, petal_width, species)",
    );
    await expect(run({ kind: 'tabular-classifier', file: 'iris.csv' })).rejects.toThrow(
      "target: target (the label column) is required for kind 'tabular-classifier'",
    );
    await expect(run({ kind: 'tabular-classifier', file: 'nope.csv', target: 'x' })).rejects.toThrow(
      "the dataset has no file 'nope.csv'",
    );
    await expect(
      run({ kind: 'tabular-classifier', file: '../data/iris.csv', target: 'x' }, path.join(DATA, 'fashion-png')),
    ).rejects.toThrow("file '../data/iris.csv' must be a relative path inside the dataset");
    await expect(run({ kind: 'tabular-classifier', target: 'x' }, path.join(DATA, 'fashion-png'))).rejects.toThrow(
      'the dataset has no table file (CSV, TSV or JSONL)',
    );
    await expect(run({ kind: 'image-classifier' }, tmp.dir)).rejects.toThrow(/the dataset has no image set/);
    await expect(run({ kind: 'tabular-classifier', target: 'x' }, path.join(tmp.dir, 'missing'))).rejects.toThrow(
      /the dataset folder '.*missing' does not exist/,
    );
    writePng(path.join(tmp.dir, 'only', 'cat', 'a.png'), 8, 8, [1, 2, 3], () => 0);
    await expect(run({ kind: 'image-classifier' }, tmp.dir)).rejects.toThrow(
      "the image folder 'only' has only one class ('cat'); a classifier needs at least two",
    );
    await expect(run({ kind: 'tabular-regressor', file: 'iris.csv', target: 'species' })).rejects.toThrow(
      "the regression target 'species' has a non-numeric value 'setosa'",
    );
    await expect(
      run({ kind: 'text-classifier', file: 'topics.jsonl', target: 'topic', textColumn: 'body' }),
    ).rejects.toThrow("the text column 'body' is not in the table");
    await expect(run({ kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 0 })).rejects.toThrow(
      /invalid built-in trainer parameters: epochs: /,
    );
    await expect(
      runBuiltinTrainer(
        { kind: 'tabular-classifier', file: 'iris.csv', target: 'species' },
        DATA,
        { epoch: 1, state: new Uint8Array(20) },
        recorder().io,
      ),
    ).rejects.toThrow('the resume state is not a built-in trainer checkpoint: wrong magic');
  });

  it('stops when its AbortSignal fires', async () => {
    const controller = new AbortController();
    const recorded = recorder();
    const io: TrainerIo = {
      ...recorded.io,
      epochEnd: async (epoch, metrics) => {
        await recorded.io.epochEnd(epoch, metrics);
        if (epoch === 2) controller.abort();
      },
    };
    await expect(
      runBuiltinTrainer(
        { kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 50 },
        DATA,
        null,
        io,
        controller.signal,
      ),
    ).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(recorded.epochs.map((e) => e.epoch)).toEqual([1, 2]);
  });
});
