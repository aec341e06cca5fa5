import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '#platform/testing';
import { prepareData } from './datasets';
import { findImageSource, findTableFile } from './files';
import { readIdx } from './images';
import { BuiltinTrainerParams, type BuiltinTrainerParamsInput } from './params';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('aidos-builtin-data-');
});
afterEach(() => tmp.remove());

function write(relative: string, content: string | Uint8Array): string {
  const file = path.join(tmp.dir, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function png(relative: string, width = 4, height = 4): void {
  const image = new PNG({ width, height });
  image.data.fill(128);
  write(relative, PNG.sync.write(image));
}

/** IDX files of `count` 2x3 images with labels 0, 1, 2, 0, … */
function idx(prefix: string, count: number, gz = false): void {
  const images = Buffer.alloc(16 + count * 6);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(2, 8);
  images.writeUInt32BE(3, 12);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = i % 3;
  const ext = gz ? '.gz' : '';
  write(`${prefix}-images-idx3-ubyte${ext}`, gz ? gzipSync(images) : images);
  write(`${prefix}-labels-idx1-ubyte${ext}`, gz ? gzipSync(labels) : labels);
}

function params(input: Partial<BuiltinTrainerParamsInput>) {
  return BuiltinTrainerParams.parse({ kind: 'tabular-classifier', target: 'y', ...input });
}

describe('finding the data in a dataset folder', () => {
  it('takes the shallowest table, or the one named', () => {
    write('deep/b.csv', 'x\n1\n');
    write('z.jsonl', '{}\n');
    write('notes.txt', 'hi');
    expect(findTableFile(tmp.dir, undefined)).toBe(path.join(tmp.dir, 'z.jsonl'));
    expect(findTableFile(tmp.dir, 'deep/b.csv')).toBe(path.join(tmp.dir, 'deep', 'b.csv'));
    expect(() => findTableFile(tmp.dir, 'notes.txt')).toThrow(
      "'notes.txt' is not a table file the built-in trainers read (CSV, TSV or JSONL)",
    );
    expect(() => findTableFile(tmp.dir, '/etc/passwd')).toThrow('must be a relative path inside the dataset');
  });

  it('finds IDX sets, preferring train-* and taking t10k-* as the test set', () => {
    idx('data/t10k', 3, true);
    idx('data/train', 6, true);
    expect(findImageSource(tmp.dir, undefined)).toEqual({
      format: 'idx',
      train: {
        images: path.join(tmp.dir, 'data/train-images-idx3-ubyte.gz'),
        labels: path.join(tmp.dir, 'data/train-labels-idx1-ubyte.gz'),
      },
      test: {
        images: path.join(tmp.dir, 'data/t10k-images-idx3-ubyte.gz'),
        labels: path.join(tmp.dir, 'data/t10k-labels-idx1-ubyte.gz'),
      },
    });
    write('other/x-images-idx3-ubyte', 'no labels');
    expect(() => findImageSource(tmp.dir, 'other/x-images-idx3-ubyte')).toThrow(
      "'x-images-idx3-ubyte' has no labels file beside it",
    );
  });

  it('finds a folder of class folders, a train folder first and its test sibling as the test set', () => {
    png('images/test/cat/1.png');
    png('images/train/cat/1.png');
    png('images/train/dog/1.png');
    expect(findImageSource(tmp.dir, undefined)).toEqual({
      format: 'folder',
      train: path.join(tmp.dir, 'images/train'),
      test: path.join(tmp.dir, 'images/test'),
    });
    expect(findImageSource(tmp.dir, 'images/test')).toEqual({
      format: 'folder',
      train: path.join(tmp.dir, 'images/test'),
      test: null,
    });
    expect(() => findImageSource(tmp.dir, 'images/train/cat')).toThrow("'images/train/cat' holds no class sub-folders");
  });
});

describe('reading IDX files', () => {
  it('reads images and labels, gzipped or not', () => {
    idx('a', 4);
    const set = readIdx({
      images: path.join(tmp.dir, 'a-images-idx3-ubyte'),
      labels: path.join(tmp.dir, 'a-labels-idx1-ubyte'),
    });
    expect([set.height, set.width, set.pixels.length, Array.from(set.labels)]).toEqual([2, 3, 24, [0, 1, 2, 0]]);
  });

  it('refuses files of the wrong kind or of different lengths', () => {
    idx('a', 4);
    idx('b', 5);
    const images = path.join(tmp.dir, 'a-images-idx3-ubyte');
    expect(() => readIdx({ images, labels: images })).toThrow(
      "'a-images-idx3-ubyte' is not a valid IDX file: wrong magic number",
    );
    expect(() => readIdx({ images, labels: path.join(tmp.dir, 'b-labels-idx1-ubyte') })).toThrow(
      'it does not hold 4 labels like its images file',
    );
  });
});

describe('splitting tables', () => {
  const rows = (n: number, split?: (i: number) => string) =>
    [
      'x,y' + (split ? ',split' : ''),
      ...Array.from({ length: n }, (_, i) => `${i},${i % 2 ? 'a' : 'b'}${split ? `,${split(i)}` : ''}`),
    ].join('\n');

  it('splits at random by validationSplit, the same way for the same seed', () => {
    write('t.csv', rows(50));
    const logs: string[] = [];
    const a = prepareData(params({ validationSplit: 0.2 }), tmp.dir, null, (m) => logs.push(m));
    expect([a.train.count, a.validation?.count, a.test]).toEqual([40, 10, null]);
    expect(logs).toContain('40 training, 10 validation and 0 test rows');
    const b = prepareData(params({ validationSplit: 0.2 }), tmp.dir, null, () => {});
    expect(b.validation?.inputs([0, 1, 2])).toEqual(a.validation?.inputs([0, 1, 2]));
  });

  it('follows a split column (train, val, test), drops rows without a target and subsamples', () => {
    write('t.csv', rows(60, (i) => ['train', 'val', 'TEST'][i % 3] as string) + '\n99,,train');
    const logs: string[] = [];
    const data = prepareData(params({ maxSamples: 15 }), tmp.dir, null, (m) => logs.push(m));
    expect([data.train.count, data.validation?.count, data.test?.count]).toEqual([15, 15, 15]);
    expect(logs).toContain("1 rows without a value in 'y' left out");
    expect(
      data.preprocessing.kind === 'tabular-classifier' && data.preprocessing.features.map((f) => f.column),
    ).toEqual(['x']);
  });

  it('refuses a split column with other values', () => {
    write('t.tsv', 'x\ty\tsplit\n1\ta\ttrain\n2\tb\tholdout\n');
    expect(() => prepareData(params({}), tmp.dir, null, () => {})).toThrow(
      "the split column 'split' has the value 'holdout'; expected train, validation (val, valid, dev) or test",
    );
  });
});
