import path from 'node:path';
import { AppError } from '#shared/errors';
import { findImageSource, findTableFile } from './files';
import { idxImageSet, listImageFolder, pngImageSet, type ImageSet } from './images';
import type { BuiltinTrainerParams } from './params';
import {
  PREPROCESSING_FORMAT,
  type ImagePreprocessing,
  type Preprocessing,
  type TabularPreprocessing,
  type TextPreprocessing,
} from './preprocessing';
import { seededRandom, shuffledIndices } from './rng';
import { encodeTableRows, fitTabular, parseDecimal, sortLabels, standardiseInPlace } from './tabular';
import { columnIndex, readTableFile, type Cell, type Table } from './tables';
import { TOKEN_SEPARATOR, fillBags, fitVocabulary, tokenIds, vocabularyIds } from './text';

/** Examples of one split as the TF.js graph takes them. */
export interface Examples {
  count: number;
  /** The TF.js inputs of examples `indices` (0..count-1), flattened. */
  inputs(indices: number[]): Float32Array;
  /** The class index (classifiers) or the standardised target (regressor) of each example. */
  targets: Int32Array | Float32Array;
}

export interface PreparedData {
  preprocessing: Preprocessing;
  train: Examples;
  validation: Examples | null;
  test: Examples | null;
}

/** Random streams of one seed, each for one purpose, so that adding one never shifts another. */
export const STREAM = { split: 1, subsample: 2, shuffle: 3, init: 4 } as const;

/** Splits `pool` (indices) into training and validation parts by `share` (seeded). */
function carveValidation(pool: number[], share: number, seed: number): { train: number[]; validation: number[] } {
  if (share <= 0 || pool.length < 2) return { train: pool, validation: [] };
  const order = shuffledIndices(pool.length, seededRandom(seed, STREAM.split)).map((i) => pool[i] as number);
  const size = Math.min(pool.length - 1, Math.max(1, Math.round(pool.length * share)));
  return { train: order.slice(size).sort((a, b) => a - b), validation: order.slice(0, size).sort((a, b) => a - b) };
}

/** At most `max` of `items` (a seeded random subset, in their original order). */
function subsample<T>(items: T[], max: number | undefined, seed: number, stream: number): T[] {
  if (max === undefined || items.length <= max) return items;
  const keep = shuffledIndices(items.length, seededRandom(seed, STREAM.subsample, stream))
    .slice(0, max)
    .sort((a, b) => a - b);
  return keep.map((i) => items[i] as T);
}

const SPLIT_NAMES: Record<string, 'train' | 'validation' | 'test'> = {
  train: 'train',
  training: 'train',
  validation: 'validation',
  val: 'validation',
  valid: 'validation',
  dev: 'validation',
  test: 'test',
  testing: 'test',
};

interface TableSplit {
  train: Cell[][];
  validation: Cell[][];
  test: Cell[][];
}

/** Rows with a target, split by the split column when the table has one, else at random. */
function splitTable(
  table: Table,
  params: BuiltinTrainerParams,
  targetIndex: number,
  log: (m: string) => void,
): TableSplit {
  const labelled = table.rows.filter((row) => row[targetIndex] !== null);
  if (labelled.length < table.rows.length)
    log(`${table.rows.length - labelled.length} rows without a value in '${params.target}' left out`);
  if (labelled.length === 0) throw new AppError('INVALID_ARGUMENT', `the target '${params.target}' has no values`);
  const splitIndex = table.columns.indexOf(params.splitColumn);
  const groups = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  labelled.forEach((row, i) => {
    const cell = splitIndex >= 0 ? (row[splitIndex] ?? null) : null;
    const group = cell === null ? 'train' : SPLIT_NAMES[cell.trim().toLowerCase()];
    if (!group)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the split column '${params.splitColumn}' has the value '${cell}'; expected train, validation (val, valid, dev) or test`,
      );
    groups[group].push(i);
  });
  const train = subsample(groups.train, params.maxSamples, params.seed, 0);
  let validation = subsample(groups.validation, params.maxSamples, params.seed, 1);
  const test = subsample(groups.test, params.maxSamples, params.seed, 2);
  let trainRows = train;
  if (validation.length === 0)
    ({ train: trainRows, validation } = carveValidation(train, params.validationSplit, params.seed));
  if (trainRows.length === 0) throw new AppError('INVALID_ARGUMENT', 'the table has no training rows');
  log(
    `${trainRows.length} training, ${validation.length} validation and ${test.length} test rows` +
      (splitIndex >= 0 ? ` (split column '${params.splitColumn}')` : ''),
  );
  const rows = (indices: number[]) => indices.map((i) => labelled[i] as Cell[]);
  return { train: rows(trainRows), validation: rows(validation), test: rows(test) };
}

function classTargets(rows: Cell[][], targetIndex: number, labels: string[]): Int32Array {
  const classOf = new Map(labels.map((l, i) => [l, i]));
  return Int32Array.from(rows, (row) => classOf.get(row[targetIndex] as string) ?? -1);
}

/** Rows whose label the model does not know (only possible in a test set with a checkpoint's labels) are dropped. */
function knownLabels(rows: Cell[][], targetIndex: number, labels: string[]): Cell[][] {
  const known = new Set(labels);
  return rows.filter((row) => known.has(row[targetIndex] as string));
}

function gatherRows(matrix: Float32Array, width: number): (indices: number[]) => Float32Array {
  return (indices) => {
    const out = new Float32Array(indices.length * width);
    indices.forEach((row, i) => out.set(matrix.subarray(row * width, (row + 1) * width), i * width));
    return out;
  };
}

function prepareTabular(
  params: BuiltinTrainerParams,
  datasetDir: string,
  fitted: TabularPreprocessing | null,
  log: (m: string) => void,
): PreparedData {
  const file = findTableFile(datasetDir, params.file);
  const table = readTableFile(file);
  log(`table ${path.relative(datasetDir, file)}: ${table.rows.length} rows, ${table.columns.length} columns`);
  if (table.skipped > 0) log(`${table.skipped} unreadable rows skipped`);
  const targetIndex = columnIndex(table, params.target as string, 'target');
  const split = splitTable(table, params, targetIndex, log);
  const pre =
    fitted ?? fitTabular(table, params, split.train, [...split.train, ...split.validation, ...split.test], log);
  const examples = (rows: Cell[][]): Examples | null => {
    const known = pre.labels ? knownLabels(rows, targetIndex, pre.labels) : rows;
    if (known.length === 0) return null;
    const matrix = encodeTableRows(pre, table, known);
    standardiseInPlace(pre, matrix);
    const scaling = pre.targetScaling;
    return {
      count: known.length,
      inputs: gatherRows(matrix, pre.inputSize),
      targets: pre.labels
        ? classTargets(known, targetIndex, pre.labels)
        : Float32Array.from(known, (row) => {
            const { mean, std } = scaling as { mean: number; std: number };
            return (parseDecimal(row[targetIndex] ?? null) - mean) / std;
          }),
    };
  };
  return {
    preprocessing: pre,
    train: examples(split.train) as Examples,
    validation: examples(split.validation),
    test: examples(split.test),
  };
}

function prepareText(
  params: BuiltinTrainerParams,
  datasetDir: string,
  fitted: TextPreprocessing | null,
  log: (m: string) => void,
): PreparedData {
  const file = findTableFile(datasetDir, params.file);
  const table = readTableFile(file);
  log(`table ${path.relative(datasetDir, file)}: ${table.rows.length} rows`);
  const targetIndex = columnIndex(table, params.target as string, 'target');
  const textIndex = columnIndex(table, params.textColumn, 'text');
  const split = splitTable(table, params, targetIndex, log);
  const textOf = (row: Cell[]) => row[textIndex] ?? '';
  let pre = fitted;
  if (!pre) {
    const labels = sortLabels([
      ...new Set([...split.train, ...split.validation, ...split.test].map((r) => r[targetIndex] as string)),
    ]);
    if (labels.length < 2)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the target '${params.target}' has only one class ('${labels[0]}'); a classifier needs at least two`,
      );
    const vocabulary = fitVocabulary(split.train.map(textOf), params.minTokenCount, params.maxVocabulary);
    if (vocabulary.length === 0)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the text column '${params.textColumn}' has no tokens in the training rows`,
      );
    log(`vocabulary: ${vocabulary.length} tokens, ${labels.length} classes`);
    pre = {
      format: PREPROCESSING_FORMAT,
      kind: 'text-classifier',
      input: { name: 'tokens', dtype: 'int64', shape: ['batch', 'tokens'] },
      output: { name: 'probabilities', dtype: 'float32', shape: ['batch', labels.length] },
      labels,
      textColumn: params.textColumn,
      tokenizer: { lowercase: true, splitPattern: TOKEN_SEPARATOR },
      vocabulary,
    };
  }
  const ids = vocabularyIds(pre);
  const vocabularySize = pre.vocabulary.length;
  const labels = pre.labels as string[];
  const examples = (rows: Cell[][]): Examples | null => {
    const known = knownLabels(rows, targetIndex, labels);
    if (known.length === 0) return null;
    const tokens = known.map((row) => tokenIds(textOf(row), ids));
    return {
      count: known.length,
      inputs: (indices) => {
        const out = new Float32Array(indices.length * vocabularySize);
        fillBags(
          indices.map((i) => tokens[i] as number[]),
          vocabularySize,
          out,
        );
        return out;
      },
      targets: classTargets(known, targetIndex, labels),
    };
  };
  return {
    preprocessing: pre,
    train: examples(split.train) as Examples,
    validation: examples(split.validation),
    test: examples(split.test),
  };
}

function imageExamples(set: ImageSet, indices: number[]): Examples | null {
  const kept = indices.filter((i) => (set.classes[i] as number) >= 0);
  if (kept.length === 0) return null;
  const size = set.height * set.width * set.channels;
  return {
    count: kept.length,
    inputs: (batch) => {
      const out = new Float32Array(batch.length * size);
      batch.forEach((b, i) => {
        const start = (kept[b] as number) * size;
        for (let p = 0; p < size; p++) out[i * size + p] = (set.pixels[start + p] as number) / 255;
      });
      return out;
    },
    targets: Int32Array.from(kept, (i) => set.classes[i] as number),
  };
}

function prepareImages(
  params: BuiltinTrainerParams,
  datasetDir: string,
  fitted: ImagePreprocessing | null,
  log: (m: string) => void,
): PreparedData {
  const source = findImageSource(datasetDir, params.file);
  const where = (p: string) => path.relative(datasetDir, p) || '.';
  let train: ImageSet;
  let test: ImageSet | null = null;
  let trainPool: number[];
  let testPool: number[] = [];
  if (source.format === 'idx') {
    train = idxImageSet(source.train, fitted?.labels ?? undefined);
    trainPool = subsample(
      Array.from({ length: train.classes.length }, (_, i) => i),
      params.maxSamples,
      params.seed,
      0,
    );
    if (source.test) {
      test = idxImageSet(source.test, train.labels);
      testPool = subsample(
        Array.from({ length: test.classes.length }, (_, i) => i),
        params.maxSamples,
        params.seed,
        2,
      );
    }
    log(`IDX images ${where(source.train.images)}: ${train.classes.length} of ${train.width}x${train.height}`);
  } else {
    const classes = listImageFolder(source.train);
    const labels = fitted?.labels ?? classes.map((c) => c.label);
    if (labels.length < 2)
      throw new AppError(
        'INVALID_ARGUMENT',
        `the image folder '${where(source.train)}' has ${labels.length === 1 ? `only one class ('${labels[0]}')` : 'no classes'}; a classifier needs at least two`,
      );
    const files = subsample(
      classes.flatMap((c) => c.files.map((file) => ({ label: c.label, file }))),
      params.maxSamples,
      params.seed,
      0,
    );
    train = pngImageSet(
      files,
      labels,
      fitted
        ? { height: fitted.height, width: fitted.width, channels: fitted.channels }
        : { imageSize: params.imageSize },
    );
    trainPool = files.map((_, i) => i);
    if (source.test) {
      const known = new Set(labels);
      const testFiles = subsample(
        listImageFolder(source.test).flatMap((c) =>
          known.has(c.label) ? c.files.map((file) => ({ label: c.label, file })) : [],
        ),
        params.maxSamples,
        params.seed,
        2,
      );
      if (testFiles.length > 0) {
        test = pngImageSet(testFiles, labels, train);
        testPool = testFiles.map((_, i) => i);
      }
    }
    log(`image folder ${where(source.train)}: ${files.length} PNG images in ${labels.length} classes`);
  }
  if (train.labels.length < 2 || new Set(trainPool.map((i) => train.classes[i])).size < 2)
    throw new AppError('INVALID_ARGUMENT', 'the image set has fewer than two classes; a classifier needs at least two');
  const { train: trainIndices, validation } = carveValidation(trainPool, params.validationSplit, params.seed);
  log(
    `${trainIndices.length} training, ${validation.length} validation and ${testPool.length} test images, ` +
      `${train.height}x${train.width}, ${train.channels === 1 ? 'grey' : 'RGB'}`,
  );
  const pre: ImagePreprocessing = fitted ?? {
    format: PREPROCESSING_FORMAT,
    kind: 'image-classifier',
    input: { name: 'image', dtype: 'float32', shape: ['batch', train.channels, train.height, train.width] },
    output: { name: 'probabilities', dtype: 'float32', shape: ['batch', train.labels.length] },
    labels: train.labels,
    height: train.height,
    width: train.width,
    channels: train.channels,
    resize: 'nearest',
    scale: 'divide-by-255',
  };
  return {
    preprocessing: pre,
    train: imageExamples(train, trainIndices) as Examples,
    validation: imageExamples(train, validation),
    test: test ? imageExamples(test, testPool) : null,
  };
}

/** Reads and splits the dataset and fits the preprocessing on its training split (or reuses a checkpoint's). */
export function prepareData(
  params: BuiltinTrainerParams,
  datasetDir: string,
  fitted: Preprocessing | null,
  log: (message: string) => void,
): PreparedData {
  if (fitted && fitted.kind !== params.kind)
    throw new AppError('INVALID_ARGUMENT', `the checkpoint is of kind '${fitted.kind}', not '${params.kind}'`);
  switch (params.kind) {
    case 'tabular-classifier':
    case 'tabular-regressor':
      return prepareTabular(params, datasetDir, fitted as TabularPreprocessing | null, log);
    case 'text-classifier':
      return prepareText(params, datasetDir, fitted as TextPreprocessing | null, log);
    case 'image-classifier':
      return prepareImages(params, datasetDir, fitted as ImagePreprocessing | null, log);
  }
}
