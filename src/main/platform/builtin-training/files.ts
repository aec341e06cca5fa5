import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '#shared/errors';
import { TABLE_EXTENSIONS } from './tables';

const IDX_IMAGES = /^(.*)-images-idx3-ubyte(\.gz)?$/;
const PNG = /\.png$/i;
const MAX_DEPTH = 6;

/** A path inside the dataset folder; anything that would leave it, or does not exist, is refused. */
export function resolveInside(datasetDir: string, relative: string): string {
  const root = path.resolve(datasetDir);
  const full = path.resolve(root, relative);
  if (path.isAbsolute(relative) || (full !== root && !full.startsWith(root + path.sep)))
    throw new AppError('INVALID_ARGUMENT', `file '${relative}' must be a relative path inside the dataset`);
  if (!existsSync(full)) throw new AppError('INVALID_ARGUMENT', `the dataset has no file '${relative}'`);
  return full;
}

function checkDatasetDir(datasetDir: string): void {
  if (!existsSync(datasetDir) || !statSync(datasetDir).isDirectory())
    throw new AppError('INVALID_ARGUMENT', `the dataset folder '${datasetDir}' does not exist`);
}

/** Sub-folders and files of a folder, sorted, hidden entries (.git, .aidos) left out. */
function entries(dir: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) dirs.push(path.join(dir, entry.name));
    else if (entry.isFile()) files.push(path.join(dir, entry.name));
  }
  return { dirs, files };
}

/** Folders breadth first (shallow ones first, sorted by name, a folder named train before its siblings). */
function* foldersBreadthFirst(root: string): Generator<string> {
  let level = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    yield* level;
    level = level.flatMap((dir) => {
      const { dirs } = entries(dir);
      return [...dirs.filter((d) => path.basename(d) === 'train'), ...dirs.filter((d) => path.basename(d) !== 'train')];
    });
  }
}

/** The table the trainer reads: `file`, or the first CSV/TSV/JSONL file found. */
export function findTableFile(datasetDir: string, file: string | undefined): string {
  checkDatasetDir(datasetDir);
  if (file !== undefined) {
    const full = resolveInside(datasetDir, file);
    if (!statSync(full).isFile() || !TABLE_EXTENSIONS.test(full))
      throw new AppError(
        'INVALID_ARGUMENT',
        `'${file}' is not a table file the built-in trainers read (CSV, TSV or JSONL)`,
      );
    return full;
  }
  for (const dir of foldersBreadthFirst(datasetDir)) {
    const table = entries(dir).files.find((f) => TABLE_EXTENSIONS.test(f));
    if (table) return table;
  }
  throw new AppError('INVALID_ARGUMENT', 'the dataset has no table file (CSV, TSV or JSONL) for the built-in trainer');
}

export interface IdxFiles {
  images: string;
  labels: string;
}

/** Where an image dataset's examples are; `test`, when found beside the training set, is evaluated at the end. */
export type ImageSource =
  { format: 'idx'; train: IdxFiles; test: IdxFiles | null } | { format: 'folder'; train: string; test: string | null };

function idxPairIn(dir: string, prefix: string): IdxFiles | null {
  for (const gz of ['', '.gz']) {
    const images = path.join(dir, `${prefix}-images-idx3-ubyte${gz}`);
    const labels = path.join(dir, `${prefix}-labels-idx1-ubyte${gz}`);
    if (existsSync(images) && existsSync(labels)) return { images, labels };
  }
  return null;
}

function idxSourceAt(imagesFile: string): IdxFiles {
  const match = IDX_IMAGES.exec(path.basename(imagesFile));
  const pair = match ? idxPairIn(path.dirname(imagesFile), match[1] as string) : null;
  if (!pair)
    throw new AppError(
      'INVALID_ARGUMENT',
      `'${path.basename(imagesFile)}' has no labels file beside it (<prefix>-labels-idx1-ubyte[.gz])`,
    );
  return pair;
}

/** Whether a folder holds one sub-folder of PNG images per class. */
function isClassFolder(dir: string): boolean {
  return entries(dir).dirs.some((d) => entries(d).files.some((f) => PNG.test(f)));
}

/**
 * The image set: `file` (a folder of class sub-folders, or an images IDX file), else the first found: IDX files
 * (train-… preferred, t10k-… or test-… as the test set) or a folder of class sub-folders (a sibling `test` folder is
 * the test set).
 */
export function findImageSource(datasetDir: string, file: string | undefined): ImageSource {
  checkDatasetDir(datasetDir);
  if (file !== undefined) {
    const full = resolveInside(datasetDir, file);
    if (statSync(full).isDirectory()) {
      if (!isClassFolder(full))
        throw new AppError('INVALID_ARGUMENT', `'${file}' holds no class sub-folders with PNG images`);
      return { format: 'folder', train: full, test: null };
    }
    return { format: 'idx', train: idxSourceAt(full), test: null };
  }
  for (const dir of foldersBreadthFirst(datasetDir)) {
    const idxPrefixes = entries(dir)
      .files.map((f) => IDX_IMAGES.exec(path.basename(f))?.[1])
      .filter((p): p is string => p !== undefined);
    if (idxPrefixes.length > 0) {
      const trainPrefix = idxPrefixes.includes('train') ? 'train' : (idxPrefixes[0] as string);
      const train = idxPairIn(dir, trainPrefix);
      if (train) {
        const testPrefix = ['t10k', 'test'].find((p) => p !== trainPrefix && idxPrefixes.includes(p));
        return { format: 'idx', train, test: testPrefix ? idxPairIn(dir, testPrefix) : null };
      }
    }
    if (isClassFolder(dir)) {
      const sibling = path.join(path.dirname(dir), 'test');
      const test =
        dir !== datasetDir && sibling !== dir && existsSync(sibling) && isClassFolder(sibling) ? sibling : null;
      return { format: 'folder', train: dir, test };
    }
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    'the dataset has no image set for the built-in trainer: a folder with one sub-folder of PNG images per class, ' +
      'or <prefix>-images-idx3-ubyte[.gz] with <prefix>-labels-idx1-ubyte[.gz]',
  );
}
