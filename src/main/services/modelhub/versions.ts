import type { BlobStore } from '#platform/blobstore';
import type { UploadStore } from '#platform/uploads';
import type { KeyValue, ModelVersion } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import { BLOB_OWNER, type ArtifactStore } from './artifacts';
import {
  detectFormat,
  readGgufSignature,
  readOnnxSignature,
  readSafetensorsSignature,
  type ModelSignature,
} from './model-formats';
import type { RegistryService } from './registry';
import type { TrackingService } from './service';

/** ONNX files are parsed whole; beyond this size the signature is left out rather than read into memory. */
const MAX_ONNX_PARSE_BYTES = 512 * 1024 * 1024;
const HEAD_BYTES = 64 * 1024;

export interface NewVersion {
  name: string;
  runId?: string | undefined;
  artifactPath?: string | undefined;
  uploadId?: string | undefined;
  description: string;
  tags: KeyValue[];
  aliases: string[];
  actor: string;
}

/** Where an uploaded model file lives: an artifact root of its own, named by the (unique) upload. */
export function registryRoot(uploadId: string): string {
  return `registry/${uploadId}`;
}

/**
 * Makes a model version from a run's artifacts (a folder or one file) or from an uploaded file: the files stay
 * where they are (content-addressed), the format is detected, and ONNX, GGUF and safetensors files have their
 * signature read. Aliases given are set at once (and recorded as moves).
 */
export async function registerVersion(
  deps: {
    registry: RegistryService;
    tracking: TrackingService;
    artifacts: ArtifactStore;
    uploads: UploadStore;
    blobs: BlobStore;
  },
  input: NewVersion,
): Promise<ModelVersion> {
  const { registry, tracking, artifacts, uploads, blobs } = deps;
  registry.model(input.name);
  // Before the upload is claimed or anything written: a gated alias refused leaves no version behind.
  registry.checkNewVersionAliases(input.name, input.aliases);
  if ((input.uploadId === undefined) === (input.runId === undefined)) {
    throw new AppError('INVALID_ARGUMENT', 'give either runId (with artifactPath) or uploadId', { field: 'runId' });
  }
  let root: string;
  let dir: string;
  let source: string;
  if (input.uploadId !== undefined) {
    root = registryRoot(input.uploadId);
    const claimed = uploads.claim(input.uploadId, { owner: BLOB_OWNER, ref: root });
    const fileName = claimed.filename.split(/[\\/]/).pop() || 'model';
    artifacts.record(root, fileName, claimed.sha256, claimed.size);
    dir = '';
    source = `mlflow-artifacts:/${root}`;
  } else {
    const run = tracking.run(input.runId as string).info;
    root = `${run.experimentId}/${run.id}/artifacts`;
    dir = (input.artifactPath ?? '').replace(/\/+$/, '');
    if (artifacts.files(root, dir).length === 0 && !artifacts.files(root).some((f) => f.path === dir)) {
      throw new AppError('INVALID_ARGUMENT', `run ${run.id} has no artifact '${dir}'`, { field: 'artifactPath' });
    }
    source = dir === '' ? run.artifactUri : `${run.artifactUri}/${dir}`;
  }
  const described = await describeFiles(blobs, artifacts, root, dir);
  const version = registry.createVersion({
    name: input.name,
    source,
    runId: input.runId,
    description: input.description,
    tags: input.tags,
    ...described,
  });
  for (const alias of input.aliases) registry.setAlias(input.name, alias, String(version.version), input.actor);
  return registry.version(input.name, version.version);
}

/** The format and signature of the model files under `dir` of an artifact root. */
async function describeFiles(
  blobs: BlobStore,
  artifacts: ArtifactStore,
  root: string,
  dir: string,
): Promise<{ format: string; signature: ModelSignature | null }> {
  const files = artifacts.files(root).filter((f) => dir === '' || f.path === dir || f.path.startsWith(`${dir}/`));
  const signature = await readSignature(blobs, files);
  return {
    format: signature?.format ?? (files.some((f) => f.path.split('/').pop() === 'MLmodel') ? 'mlflow' : 'other'),
    signature,
  };
}

/**
 * What an MLflow client registers: its source is any URI; when it names files held here (a run's artifacts, a
 * logged model's, or an uploaded model) their format and signature are read as for native registrations.
 */
export async function describeSource(
  blobs: BlobStore,
  artifacts: ArtifactStore,
  source: string,
): Promise<{ format: string; signature: ModelSignature | null }> {
  const m =
    /^mlflow-artifacts:\/((?:\d+\/[0-9a-f]{32}\/artifacts)|(?:\d+\/models\/m-[0-9a-f]{32}\/artifacts)|(?:registry\/[0-9A-Z]{26}))(?:\/(.*?))?\/*$/.exec(
      source,
    );
  if (!m) return { format: 'other', signature: null };
  return describeFiles(blobs, artifacts, m[1] as string, m[2] ?? '');
}

/** The signature of the first model file found (ONNX, GGUF, safetensors), or null when none is readable. */
async function readSignature(
  blobs: BlobStore,
  files: readonly { path: string; sha256: string; size: number }[],
): Promise<ModelSignature | null> {
  for (const f of files) {
    const head = await blobs.readHead(f.sha256, HEAD_BYTES);
    const format = detectFormat(f.path, head);
    if (format === 'gguf')
      return readGgufSignature((offset, length) => blobs.readRange(f.sha256, offset, offset + length));
    if (format === 'onnx' && f.size <= MAX_ONNX_PARSE_BYTES) return readOnnxSignature(await blobs.read(f.sha256));
    if (format === 'safetensors') {
      // An 8-byte length, then the JSON header (which can outgrow the head for models of many tensors).
      const headerEnd = 8 + Number(head.readBigUInt64LE(0));
      return readSafetensorsSignature(headerEnd <= head.length ? head : await blobs.readRange(f.sha256, 0, headerEnd));
    }
    if (format === 'tfjs') return { format, inputs: [], outputs: [], metadata: {} };
  }
  return null;
}
