import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  renameSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '#platform/blobstore';
import { detectFormat } from '#platform/model-formats';
import type { ModelhubService } from '#services/modelhub/contract';
import type { DeploymentRuntime, DeploymentSource } from '#shared/contracts/deploy';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import { tfjsModelFolder } from './tfjs/index';

/** `2`, `'2'`, `'@champion'`, `'champion'` → a number or an alias; undefined → the newest version. */
export function parseVersionSelector(selector: number | string | undefined): number | { alias: string } | undefined {
  if (selector === undefined || typeof selector === 'number') return selector;
  if (/^\d+$/.test(selector)) return Number(selector);
  return { alias: selector.replace(/^@/, '') };
}

/**
 * `name`, `name:3`, `name@champion` (the CLI's `aidos deploy` argument) → the model and its version selector.
 * A colon or at sign inside the name is not supported (registered model names here have neither in practice).
 */
export function parseModelRef(ref: string): { model: string; version: number | string | undefined } {
  const at = ref.lastIndexOf('@');
  if (at > 0) return { model: ref.slice(0, at), version: `@${ref.slice(at + 1)}` };
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(ref.slice(colon + 1))) {
    return { model: ref.slice(0, colon), version: Number(ref.slice(colon + 1)) };
  }
  return { model: ref, version: undefined };
}

/** The artifact root and folder an `mlflow-artifacts:/…` source names (the forms ModelHub writes). */
export function artifactLocation(source: string): { root: string; dir: string } | null {
  const m =
    /^mlflow-artifacts:\/((?:\d+\/[0-9a-f]{32}\/artifacts)|(?:\d+\/models\/m-[0-9a-f]{32}\/artifacts)|(?:registry\/[0-9A-Z]{26}))(?:\/(.*?))?\/*$/.exec(
      source,
    );
  return m ? { root: m[1] as string, dir: m[2] ?? '' } : null;
}

function headOf(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * The format of a model file: GGUF by its magic bytes, ONNX by its extension (protobuf has no magic), TF.js by a
 * `.json` file's `modelTopology`/`weightsManifest` (its `model.json`, the shards beside it).
 */
export function detectFileFormat(file: string): string {
  if (headOf(file, 4).toString('latin1') === 'GGUF') return 'gguf';
  if (/\.onnx$/i.test(file)) return 'onnx';
  if (/\.json$/i.test(file) && detectFormat(file, headOf(file, 64 * 1024)) === 'tfjs') return 'tfjs';
  return 'other';
}

export interface ResolvedSource {
  source: DeploymentSource;
}

/** The name TrainOS's built-in trainers give the preprocessing saved beside their `model.onnx`. */
export const PREPROCESSING_FILE = 'preprocessing.json';

/**
 * A model file on this machine (a quick start without the registry). An ONNX file with a `preprocessing.json`
 * beside it (a built-in trainer's export, copied as it is) is served with that preprocessing.
 */
export function fileSource(file: string, runtime?: DeploymentRuntime): DeploymentSource {
  if (!path.isAbsolute(file)) throw AppError.invalid('file', `'${file}' is not an absolute path`);
  if (!existsSync(file)) throw AppError.invalid('file', `'${file}' does not exist`);
  // Checked before anything opens it: opening a named pipe blocks until a writer comes (the server with it).
  const stat = statSync(file);
  if (!stat.isFile()) {
    throw AppError.invalid(
      'file',
      `'${file}' is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}: give a model file`,
    );
  }
  const detected = detectFileFormat(file);
  // ONNX has no magic bytes: a file not named .onnx is ONNX when the caller says so (loading it checks).
  const format = detected === 'other' && runtime === 'onnx' ? 'onnx' : detected;
  const beside = path.join(path.dirname(file), PREPROCESSING_FILE);
  const preprocessing = format === 'onnx' && existsSync(beside) ? { path: beside, sha256: null } : null;
  return { kind: 'file', format, path: file, sha256: null, ...(preprocessing ? { preprocessing } : {}) };
}

/** The artifact path of the preprocessing saved beside a model file (`model/model.onnx` → `model/preprocessing.json`). */
export function preprocessingPathFor(modelPath: string): string {
  const dir = path.posix.dirname(modelPath);
  return dir === '.' ? PREPROCESSING_FILE : `${dir}/${PREPROCESSING_FILE}`;
}

/**
 * The folder of the TF.js graph model a built-in trainer keeps beside its ONNX export (`model/model.onnx` →
 * `model/tfjs`).
 */
export function tfjsExportDirFor(modelPath: string): string {
  return path.posix.join(path.posix.dirname(modelPath), 'tfjs');
}

/**
 * A registered model version (by number, alias, or the newest) and the model file it holds, as a path the runtime
 * can open: the blob's own file in the blob store (read only, shared with ModelHub), or for a blob stored inside a
 * pack a copy under `cacheDir`. `runtime: 'tfjs'` takes an ONNX version's TF.js export (`tfjs/` beside its
 * `model.onnx`) instead of the ONNX file: a version without one is refused naming `runtime`.
 */
export async function modelVersionSource(
  modelhub: ModelhubService,
  blobs: BlobStore,
  cacheDir: string,
  model: string,
  selector: number | string | undefined,
  runtime?: DeploymentRuntime,
): Promise<DeploymentSource> {
  const { registry, artifacts } = modelhub;
  const wanted = parseVersionSelector(selector);
  // ModelHub speaks MLflow's messages; these name the field of this request.
  const named = <T>(field: string, read: () => T): T => {
    try {
      return read();
    } catch (err) {
      if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
        throw new AppError(err.code, `${field}: ${err.message}`, { field });
      }
      throw err;
    }
  };
  const registered = named('model', () => registry.model(model));
  const alias = typeof wanted === 'object' ? wanted.alias : null;
  const newest = Math.max(0, ...registered.latestVersions.map((v) => v.version));
  if (wanted === undefined && newest === 0) {
    throw AppError.invalid('model', `registered model '${model}' has no versions to deploy`);
  }
  const version = named('version', () => {
    if (wanted === undefined) return registry.version(model, newest);
    return typeof wanted === 'number' ? registry.version(model, wanted) : registry.versionByAlias(model, wanted.alias);
  });
  const where = artifactLocation(version.source);
  if (!where) {
    throw AppError.invalid(
      'model',
      `version ${version.version} of '${model}' points outside this app (${version.source})`,
    );
  }
  const files = artifacts
    .files(where.root)
    .filter((f) => where.dir === '' || f.path === where.dir || f.path.startsWith(`${where.dir}/`));
  const format = version.format;
  if (format === 'tfjs') {
    // A TF.js model is a folder (model.json and its weight shards), placed as one under cacheDir.
    const folder = await tfjsModelFolder(blobs, cacheDir, files);
    if (!folder) throw AppError.invalid('model', `version ${version.version} of '${model}' holds no TF.js model.json`);
    const { modelJson, sha256 } = folder;
    return { kind: 'model-version', model, version: version.version, alias, format, path: modelJson, sha256 };
  }
  if (format === 'onnx' && runtime === 'tfjs') {
    const onnxFile = files.find((f) => /\.onnx$/i.test(f.path));
    const exportDir = onnxFile ? tfjsExportDirFor(onnxFile.path) : null;
    const exported = files.filter((f) => exportDir !== null && f.path.startsWith(`${exportDir}/`));
    const folder = exported.length > 0 ? await tfjsModelFolder(blobs, cacheDir, exported) : null;
    if (!folder) {
      throw AppError.invalid(
        'runtime',
        `version ${version.version} of '${model}' is an ONNX model without a TF.js export (${exportDir ?? 'tfjs'}/model.json) for 'tfjs' to serve; deploy it with runtime 'onnx'`,
      );
    }
    const { modelJson, sha256 } = folder;
    return { kind: 'model-version', model, version: version.version, alias, format: 'tfjs', path: modelJson, sha256 };
  }
  let chosen: { path: string; sha256: string } | undefined;
  for (const f of files) {
    if (
      format === 'onnx' ? /\.onnx$/i.test(f.path) : (await blobs.readHead(f.sha256, 4)).toString('latin1') === 'GGUF'
    ) {
      chosen = f;
      break;
    }
  }
  if (!chosen && (format === 'gguf' || format === 'onnx')) {
    throw AppError.invalid('model', `version ${version.version} of '${model}' holds no ${format.toUpperCase()} file`);
  }
  const filePath = chosen ? await blobFile(blobs, cacheDir, chosen.sha256) : '';
  // A built-in trainer's ONNX export keeps how to encode its inputs beside it (`model/preprocessing.json`).
  const wantedPre = chosen && format === 'onnx' ? preprocessingPathFor(chosen.path) : null;
  const pre = wantedPre === null ? undefined : files.find((f) => f.path === wantedPre);
  const preprocessing = pre ? { path: await blobFile(blobs, cacheDir, pre.sha256), sha256: pre.sha256 } : null;
  return {
    kind: 'model-version',
    model,
    version: version.version,
    alias,
    format,
    path: filePath,
    sha256: chosen?.sha256 ?? null,
    ...(preprocessing ? { preprocessing } : {}),
  };
}

/** A path to a blob's bytes as a file of their own. */
async function blobFile(blobs: BlobStore, cacheDir: string, sha256: string): Promise<string> {
  const where = blobs.locate(sha256);
  if (where.offset === 0 && where.file === blobs.pathOf(sha256)) return where.file;
  const target = path.join(cacheDir, sha256);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${target}.${newId()}.tmp`;
  await pipeline(
    createReadStream(where.file, { start: where.offset, end: where.offset + where.size - 1 }),
    createWriteStream(tmp),
  );
  renameSync(tmp, target);
  return target;
}
