import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { readTfjsModelFiles } from './model-files';

type Tf = typeof tfjs;

/** The shard a model saved by `saveHandler` keeps its weights in, beside its `model.json`. */
export const WEIGHTS_SHARD = 'group1-shard1of1.bin';

/**
 * TF.js's IO handler for a `model.json` on disk and the weight shards its manifest names (paths relative to
 * it): what `tf.io.fileSystem` of tfjs-node does, without tfjs-node. The files are checked first
 * (`readTfjsModelFiles`), so a missing or short shard fails naming the file rather than deep inside TF.js.
 */
export function loadHandler(tf: Tf, modelJson: string): tfjs.io.IOHandler {
  return {
    load: async () => {
      const files = await readTfjsModelFiles(modelJson);
      const shards = await Promise.all(files.shards.map(async (s) => new Uint8Array(await readFile(s.path)).buffer));
      return tf.io.getModelArtifactsForJSON(files.json as unknown as tfjs.io.ModelJSON, (manifest) =>
        Promise.resolve([tf.io.getWeightSpecs(manifest), shards]),
      );
    },
  };
}

/** Saves a model as `model.json` and one weight shard in `dir` (created if needed): `model.save(saveHandler(...))`. */
export function saveHandler(tf: Tf, dir: string): tfjs.io.IOHandler {
  return {
    save: async (artifacts) => {
      await mkdir(dir, { recursive: true });
      const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      await writeFile(path.join(dir, WEIGHTS_SHARD), new Uint8Array(weights));
      // What tfjs-node's `file://` handler writes (tfjs-core does not export its own builder of it).
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_SHARD], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
