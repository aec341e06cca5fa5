import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '#shared/errors';

/** A TF.js model as saved: `model.json` (topology and weights manifest) and the weight shards beside it. */
export interface TfjsModelFiles {
  /** The parsed `model.json`. */
  json: Record<string, unknown>;
  /** `layers-model` (tf.LayersModel, loaded with tf.loadLayersModel) or `graph-model` (tf.GraphModel). */
  kind: 'layers-model' | 'graph-model';
  /** The shards in manifest order, as absolute paths. */
  shards: { path: string; size: number }[];
  /** The bytes of `model.json` and every shard. */
  totalBytes: number;
}

/** Bytes per element of the dtypes weights are stored in (a quantised weight by its quantisation dtype). */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint16: 2, uint8: 1 };

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype?: string };
}

function fault(file: string, problem: string): AppError {
  return new AppError('INVALID_ARGUMENT', `TF.js model '${file}' ${problem}`, { file });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads and checks a TF.js model's files without loading it: `model.json` parses and has a `modelTopology` and a
 * `weightsManifest`, every shard it names lies beside it (no path leaving the folder) and exists, and the shards
 * hold exactly the bytes the manifest's weights need (a truncated or missing shard is caught here, naming it). A
 * missing `model.json` is NOT_FOUND, anything else wrong INVALID_ARGUMENT; messages name the file.
 */
export async function readTfjsModelFiles(modelJson: string): Promise<TfjsModelFiles> {
  const info = await stat(modelJson).catch(() => null);
  if (!info?.isFile())
    throw new AppError('NOT_FOUND', `TF.js model '${modelJson}' does not exist`, { file: modelJson });
  let json: unknown;
  try {
    json = JSON.parse(await readFile(modelJson, 'utf8'));
  } catch (err) {
    throw fault(modelJson, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(json)) throw fault(modelJson, 'is not a JSON object');
  const topology = json.modelTopology;
  if (!isObject(topology)) throw fault(modelJson, 'has no modelTopology object');
  const kind =
    json.format === 'graph-model' || Array.isArray(topology.node)
      ? ('graph-model' as const)
      : ('layers-model' as const);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw fault(modelJson, 'has no weightsManifest list');
  const dir = path.dirname(modelJson);
  const shards: { path: string; size: number }[] = [];
  let neededBytes = 0;
  let sizesKnown = true;
  for (const [g, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw fault(modelJson, `weightsManifest[${g}] is not a {paths, weights} group`);
    for (const shard of group.paths) {
      const file = typeof shard === 'string' ? path.resolve(dir, shard) : '';
      if (!file || path.relative(dir, file).startsWith('..') || path.isAbsolute(shard as string))
        throw fault(modelJson, `weightsManifest[${g}] names a shard outside its folder: ${JSON.stringify(shard)}`);
      const shardInfo = await stat(file).catch(() => null);
      if (!shardInfo?.isFile()) throw fault(modelJson, `is missing its weight shard '${shard as string}'`);
      shards.push({ path: file, size: shardInfo.size });
    }
    for (const weight of group.weights as ManifestWeight[]) {
      const bytes = STORED_BYTES[weight?.quantization?.dtype ?? weight?.dtype];
      if (!Array.isArray(weight?.shape) || bytes === undefined) {
        // Strings (and unknown dtypes) have no fixed size: TF.js itself checks them when it decodes.
        sizesKnown = false;
        continue;
      }
      neededBytes += bytes * weight.shape.reduce((n, d) => n * d, 1);
    }
  }
  const shardBytes = shards.reduce((n, s) => n + s.size, 0);
  if (sizesKnown && shardBytes !== neededBytes)
    throw fault(
      modelJson,
      `has ${shardBytes} bytes of weight shards where its manifest needs ${neededBytes}: a shard is truncated or of another model`,
    );
  return { json, kind, shards, totalBytes: info.size + shardBytes };
}
