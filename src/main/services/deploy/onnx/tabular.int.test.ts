import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerResult } from '#platform/builtin-training/params';
import type { TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import { encodeTableRows } from '#platform/builtin-training/tabular';
import { readTableFile, type Table } from '#platform/builtin-training/tables';
import { loadCheckpointModel, runBuiltinTrainer } from '#platform/builtin-training/train';
import { fixturePath, tempDir } from '#platform/testing';
import { AppError } from '#shared/errors';
import { OnnxRuntime } from './runtime';
import { checkTabularModel, parseTabularPreprocessing, predictTabular } from './tabular';

// A model trained by TrainOS's built-in tabular trainer on iris, served from its saved files (model.onnx and
// preprocessing.json) and fed JSON rows, against the trainer's own TF.js network on the same rows.

let tmp: ReturnType<typeof tempDir>;
let trained: TrainerResult;
let lastCheckpoint: Uint8Array;
let table: Table;
let pre: TabularPreprocessing;
let runtime: OnnxRuntime;

beforeAll(async () => {
  tmp = tempDir('aidos-onnx-tabular-');
  const checkpoints: Uint8Array[] = [];
  trained = await runBuiltinTrainer(
    { kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 30, learningRate: 0.02 },
    fixturePath('data'),
    null,
    {
      log: () => undefined,
      epochEnd: async () => undefined,
      checkpoint: async (_e, state) => void checkpoints.push(state),
    },
  );
  lastCheckpoint = checkpoints.at(-1) as Uint8Array;
  const modelFile = path.join(tmp.dir, 'model.onnx');
  const preFile = path.join(tmp.dir, 'preprocessing.json');
  writeFileSync(modelFile, trained.onnx);
  writeFileSync(preFile, JSON.stringify(trained.preprocessing));
  // As a deployment would: from the files alone.
  pre = parseTabularPreprocessing(JSON.parse(readFileSync(preFile, 'utf8')), preFile);
  runtime = await OnnxRuntime.load(modelFile, { maxBatchSize: 16, maxQueueDelayMs: 2 });
  checkTabularModel(pre, runtime.signature, modelFile);
  table = readTableFile(fixturePath('data', 'iris.csv'));
});

afterAll(async () => {
  await runtime?.close();
  tmp?.remove();
});

/** The table's rows as a client would post them: numbers as JSON numbers, the target left in. */
function jsonRows(): Record<string, string | number | null>[] {
  return table.rows.map((row) =>
    Object.fromEntries(
      table.columns.map((c, i) => {
        const cell = row[i] ?? null;
        return [c, c === 'species' || cell === null ? cell : Number(cell)];
      }),
    ),
  );
}

describe('tabular predictions from JSON rows', () => {
  it('predicts the labels the trainer’s own network predicts, with its accuracy', async () => {
    const rows = jsonRows();
    const { predictions, timings } = await predictTabular(runtime, pre, rows);
    expect(predictions).toHaveLength(150);
    // 150 rows in requests of at most maxBatchSize 16.
    expect(timings).toHaveLength(10);
    expect(Math.max(...timings.map((t) => t.rows))).toBe(16);

    const model = await loadCheckpointModel(lastCheckpoint);
    try {
      const tfjs = await model.predict(encodeTableRows(pre, table, table.rows), [150, pre.inputSize]);
      const labels = pre.labels as string[];
      predictions.forEach((p, r) => {
        if (!('label' in p)) throw new Error('a classifier prediction without a label');
        const probs = labels.map((l) => p.probabilities[l] as number);
        probs.forEach((v, c) => expect(Math.abs(v - (tfjs[r * 3 + c] as number))).toBeLessThan(1e-4));
        const best = [0, 1, 2].reduce((a, c) => ((tfjs[r * 3 + c] as number) > (tfjs[r * 3 + a] as number) ? c : a), 0);
        expect(p.label).toBe(labels[best]);
        expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      });
    } finally {
      model.dispose();
    }
    const species = table.columns.indexOf('species');
    const correct = predictions.filter((p, r) => 'label' in p && p.label === table.rows[r]?.[species]).length;
    expect(correct / 150).toBeGreaterThan(0.85);
  });

  it('treats null as a missing value, imputed as in training', async () => {
    const { predictions } = await predictTabular(runtime, pre, [
      { sepal_length: null, sepal_width: null, petal_length: 1.4, petal_width: '0.2' },
    ]);
    expect(predictions[0]).toMatchObject({ label: 'setosa' });
  });

  it('refuses rows with a missing, extra or unparseable column, naming the row and column', async () => {
    const good = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
    const cases: [unknown[], string][] = [
      [[good, { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 }], 'rows[1].petal_width: missing'],
      [[{ ...good, colour: 'red' }], 'rows[0].colour: not a column of this model'],
      [[good, good, { ...good, sepal_width: 'wide' }], 'rows[2].sepal_width: expected a number, got "wide"'],
    ];
    for (const [rows, message] of cases) {
      const err = await predictTabular(runtime, pre, rows).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('INVALID_ARGUMENT');
      expect((err as AppError).message).toContain(message);
    }
  });
});
