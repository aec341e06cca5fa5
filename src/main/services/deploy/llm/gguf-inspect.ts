import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { GgmlType, type GgufFileInfo, GgufInsights, type GgufTensorInfo, readGgufFileInfo } from 'node-llama-cpp';
import { AppError } from '#shared/errors';
import { type GpuChoice, sharedLlama } from './backend';

/** What a GGUF model serves: text generation (chat, completions) or embeddings. */
export type GgufModelKind = 'generation' | 'embedding';

/** What the file's header says, read without loading the weights. */
export interface GgufFileSummary {
  path: string;
  fileBytes: number;
  architecture: string;
  /** `general.name`, else the file name without `.gguf`. */
  name: string;
  kind: GgufModelKind;
  /** Why that kind ("architecture bert", "pooling type mean", "non-causal attention", "causal decoder"). */
  kindReason: string;
  trainContextSize: number | undefined;
  embeddingLength: number | undefined;
  layers: number;
  parameters: number;
  /** Whether the file carries a chat template (`tokenizer.chat_template`). */
  hasChatTemplate: boolean;
}

/** Memory for one set of load settings, in bytes, as node-llama-cpp's `GgufInsights` estimates it. */
export interface GgufMemoryEstimate {
  ramBytes: number;
  vramBytes: number;
  /** The weights (mmap'ed weights count as RAM the OS may page out). */
  weights: { ramBytes: number; vramBytes: number };
  /** The context(s): KV cache and compute buffers for `parallel` sequences of `contextSize` tokens. */
  context: { ramBytes: number; vramBytes: number };
  /** The KV cache alone (f16), for display; included in `context`. 0 for embedding models (no cache kept). */
  kvCacheBytes: number;
  contextSize: number;
  parallel: number;
  gpuLayers: number;
}

export interface GgufInspection {
  summary: GgufFileSummary;
  estimate: GgufMemoryEstimate;
}

export interface GgufEstimateOptions {
  /** Tokens per sequence; default the model's training context, at most 4096. */
  contextSize?: number;
  /** Sequences (generation) or embedding contexts served at once; default 1. */
  parallel?: number;
  gpu?: GpuChoice;
  /** Layers to offload; default all of them when a GPU is in use, else 0. */
  gpuLayers?: number | 'max';
}

export const DEFAULT_MAX_CONTEXT = 4096;

/** Architectures that only encode (sentence embedders); other architectures may still embed (pooling type). */
const EMBEDDING_ARCHITECTURES = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  't5encoder',
  'modern-bert',
  'neo-bert',
]);
const POOLING_NAMES: Record<number, string> = { 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' };

/** Bytes and elements per block of the common tensor types; others are checked by offset only. */
const TYPE_BLOCKS: Partial<Record<GgmlType, [bytes: number, elements: number]>> = {
  [GgmlType.F32]: [4, 1],
  [GgmlType.F16]: [2, 1],
  [GgmlType.BF16]: [2, 1],
  [GgmlType.F64]: [8, 1],
  [GgmlType.I8]: [1, 1],
  [GgmlType.I16]: [2, 1],
  [GgmlType.I32]: [4, 1],
  [GgmlType.I64]: [8, 1],
  [GgmlType.Q4_0]: [18, 32],
  [GgmlType.Q4_1]: [20, 32],
  [GgmlType.Q5_0]: [22, 32],
  [GgmlType.Q5_1]: [24, 32],
  [GgmlType.Q8_0]: [34, 32],
  [GgmlType.Q2_K]: [84, 256],
  [GgmlType.Q3_K]: [110, 256],
  [GgmlType.Q4_K]: [144, 256],
  [GgmlType.Q5_K]: [176, 256],
  [GgmlType.Q6_K]: [210, 256],
  [GgmlType.Q8_K]: [292, 256],
};

function corrupt(path: string, reason: string): AppError {
  return new AppError('INVALID_ARGUMENT', `GGUF file '${path}' is corrupted or truncated: ${reason}`, {
    path,
    reason,
    code: 'invalid_model_file',
  });
}

function tensorEnd(tensor: GgufTensorInfo): number {
  const start = Number(tensor.fileOffset);
  const block = TYPE_BLOCKS[tensor.ggmlType];
  if (!block) return start;
  const elements = tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1);
  return start + Math.ceil(elements / block[1]) * block[0];
}

/**
 * Reads a GGUF file's header (metadata and tensor table, not the weights) and checks that the file is whole: the
 * header parses and every tensor's data lies inside the file. A missing file is a 404, a bad one a 400 naming it.
 */
export async function readGgufHeader(path: string): Promise<{ info: GgufFileInfo; summary: GgufFileSummary }> {
  let fileBytes: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw corrupt(path, 'not a regular file');
    fileBytes = stats.size;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('NOT_FOUND', `GGUF file '${path}' does not exist or cannot be read`, { path });
  }
  let info: GgufFileInfo;
  try {
    info = await readGgufFileInfo(path, { logWarnings: false, sourceType: 'filesystem', spliceSplitFiles: false });
  } catch (error) {
    throw corrupt(path, error instanceof Error ? error.message : String(error));
  }
  const dataStart = info.infoEndOffset ?? info.metadataSize + (info.tensorInfoSize ?? 0);
  if (dataStart > fileBytes) {
    throw corrupt(path, `the header needs ${dataStart} bytes but the file has ${fileBytes}`);
  }
  const tensors = info.tensorInfo ?? [];
  if (tensors.length === 0) throw corrupt(path, 'it holds no tensors');
  const dataEnd = Math.max(...tensors.map(tensorEnd));
  if (dataEnd > fileBytes) {
    throw corrupt(path, `the tensor data needs ${dataEnd} bytes but the file has ${fileBytes}`);
  }
  return { info, summary: summarize(path, fileBytes, info) };
}

function summarize(path: string, fileBytes: number, info: GgufFileInfo): GgufFileSummary {
  const general = info.metadata.general as { architecture?: string; name?: string } | undefined;
  const architecture = String(general?.architecture ?? 'unknown');
  const arch = info.architectureMetadata as {
    context_length?: number;
    embedding_length?: number;
    block_count?: number;
    pooling_type?: number;
    attention?: { causal?: boolean };
  };
  const tokenizer = info.metadata.tokenizer as { chat_template?: unknown } | undefined;
  const pooling = arch.pooling_type === undefined ? 0 : Number(arch.pooling_type);
  let kind: GgufModelKind = 'generation';
  let kindReason = 'causal decoder';
  if (EMBEDDING_ARCHITECTURES.has(architecture)) {
    kind = 'embedding';
    kindReason = `architecture ${architecture}`;
  } else if (pooling > 0) {
    kind = 'embedding';
    kindReason = `pooling type ${POOLING_NAMES[pooling] ?? pooling}`;
  } else if (arch.attention?.causal === false) {
    kind = 'embedding';
    kindReason = 'non-causal attention';
  }
  const parameters = (info.tensorInfo ?? []).reduce(
    (sum, tensor) => sum + tensor.dimensions.reduce<number>((product, dim) => product * Number(dim), 1),
    0,
  );
  return {
    path,
    fileBytes,
    architecture,
    name: general?.name ? String(general.name) : basename(path).replace(/\.gguf$/i, ''),
    kind,
    kindReason,
    trainContextSize: arch.context_length === undefined ? undefined : Number(arch.context_length),
    embeddingLength: arch.embedding_length === undefined ? undefined : Number(arch.embedding_length),
    layers: arch.block_count === undefined ? 0 : Number(arch.block_count),
    parameters,
    hasChatTemplate: typeof tokenizer?.chat_template === 'string' && tokenizer.chat_template.length > 0,
  };
}

/** The context size a load uses: the one asked for (at most the training context), else min(training, 4096). */
export function resolveContextSize(summary: GgufFileSummary, requested: number | undefined): number {
  const train = summary.trainContextSize;
  if (requested === undefined) return Math.min(train ?? DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT);
  if (!Number.isInteger(requested) || requested < 16) throw AppError.invalid('contextSize', 'must be an integer ≥ 16');
  if (train !== undefined && requested > train) {
    throw AppError.invalid('contextSize', `${requested} is more than the model's training context of ${train} tokens`);
  }
  return requested;
}

function kvCacheBytes(info: GgufFileInfo, contextSize: number, sequences: number): number {
  const arch = info.architectureMetadata as {
    block_count?: number;
    embedding_length?: number;
    attention?: {
      head_count?: number | number[];
      head_count_kv?: number | number[];
      key_length?: number;
      value_length?: number;
    };
  };
  const first = (value: number | number[] | undefined): number | undefined => (Array.isArray(value) ? value[0] : value);
  const layers = Number(arch.block_count ?? 0);
  const heads = Number(first(arch.attention?.head_count) ?? 0);
  const kvHeads = Number(first(arch.attention?.head_count_kv) ?? heads);
  if (!layers || !heads || !arch.embedding_length) return 0;
  const headDim = Number(arch.embedding_length) / heads;
  const keyDim = Number(arch.attention?.key_length ?? headDim);
  const valueDim = Number(arch.attention?.value_length ?? headDim);
  return layers * contextSize * sequences * kvHeads * (keyDim + valueDim) * 2;
}

/**
 * Reads the header and estimates the memory a load with these settings needs, so the VRAM arbiter can decide
 * before any weight is read. Throws the same errors as `readGgufHeader`.
 */
export async function inspectGguf(path: string, options: GgufEstimateOptions = {}): Promise<GgufInspection> {
  const { info, summary } = await readGgufHeader(path);
  const contextSize = resolveContextSize(summary, options.contextSize);
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    throw AppError.invalid('parallel', 'must be an integer from 1 to 64');
  }
  const gpu = options.gpu ?? false;
  const llama = await sharedLlama(gpu);
  let insights: GgufInsights;
  try {
    insights = await GgufInsights.from(info, llama);
  } catch (error) {
    throw corrupt(path, error instanceof Error ? error.message : String(error));
  }
  const usesGpu = gpu !== false && llama.gpu !== false;
  const gpuLayers = !usesGpu
    ? 0
    : options.gpuLayers === undefined || options.gpuLayers === 'max'
      ? insights.totalLayers
      : Math.min(options.gpuLayers, insights.totalLayers);
  try {
    const weights = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
    const embedding = summary.kind === 'embedding';
    const one = await insights.estimateContextResourceRequirementsV2({
      contextSize,
      modelGpuLayers: gpuLayers,
      sequences: embedding ? 1 : parallel,
      isEmbeddingContext: embedding,
    });
    // An embedding model gets one context per parallel slot (an embedding context has one sequence).
    const copies = embedding ? parallel : 1;
    const context = { ramBytes: one.cpuRam * copies, vramBytes: one.gpuVram * copies };
    return {
      summary,
      estimate: {
        ramBytes: weights.cpuRam + context.ramBytes,
        vramBytes: weights.gpuVram + context.vramBytes,
        weights: { ramBytes: weights.cpuRam, vramBytes: weights.gpuVram },
        context,
        kvCacheBytes: embedding ? 0 : kvCacheBytes(info, contextSize, parallel),
        contextSize,
        parallel,
        gpuLayers,
      },
    };
  } catch (error) {
    throw new AppError(
      'FAILED_PRECONDITION',
      `cannot estimate the memory of GGUF file '${path}' (${summary.architecture}): ${error instanceof Error ? error.message : String(error)}`,
      { path },
    );
  }
}
