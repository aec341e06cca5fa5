// Writes a llama-architecture GGUF larger than the tiny fixture, for the LLM benchmarks (`--model`): the fixture's
// tokenizer and metadata with larger dimensions and seeded random weights (F16 matrices, F32 norms, the output
// tied to the token embedding as in the fixture). Its text is noise; with `ignore_eos` and greedy sampling it
// generates a fixed number of tokens at a per-token cost closer to a real model's than the fixture's ~1 ms.
//   npx tsx bench/make-llama-gguf.ts [--out FILE] [--dim 512] [--layers 8] [--ffn 1536] [--heads 8] [--seed 1]
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fixturePath } from '#platform/testing';

const { values: opts } = parseArgs({
  options: {
    out: { type: 'string' },
    dim: { type: 'string', default: '512' },
    layers: { type: 'string', default: '8' },
    ffn: { type: 'string', default: '1536' },
    heads: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
  },
});
const DIM = Number(opts.dim);
const LAYERS = Number(opts.layers);
const FFN = Number(opts.ffn);
const HEADS = Number(opts.heads);
if (![DIM, LAYERS, FFN, HEADS].every((n) => Number.isInteger(n) && n > 0) || DIM % HEADS !== 0) {
  throw new Error('--dim, --layers, --ffn and --heads must be positive integers, --dim a multiple of --heads');
}
const OUT = opts.out ?? path.join(os.tmpdir(), `aidos-bench-llama-d${DIM}-l${LAYERS}.gguf`);
const SOURCE = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');
const ALIGNMENT = 32;

// ---- the fixture's metadata, each key-value pair as its bytes (GGUF v3) ----
const source = readFileSync(SOURCE);
let at = 0;
const u32 = () => ((at += 4), source.readUInt32LE(at - 4));
const u64 = () => ((at += 8), Number(source.readBigUInt64LE(at - 8)));
const str = () => {
  const length = u64();
  at += length;
  return source.toString('utf8', at - length, at);
};
/** Byte sizes of the scalar value types (GGUF's type ids). */
const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
function skipValue(type: number): void {
  if (type === STRING) str();
  else if (type === ARRAY) {
    const itemType = u32();
    const count = u64();
    for (let i = 0; i < count; i++) skipValue(itemType);
  } else if (SCALAR_BYTES[type] !== undefined) at += SCALAR_BYTES[type];
  else throw new Error(`unknown GGUF value type ${type} in ${SOURCE}`);
}
if (source.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${SOURCE} is not a GGUF file`);
at = 4;
const version = u32();
if (version !== 3) throw new Error(`${SOURCE}: GGUF version ${version}, expected 3`);
u64(); // tensor count: ours differ
const kvCount = u64();
const pairs: { key: string; type: number; bytes: Buffer }[] = [];
let VOCAB = 0;
for (let i = 0; i < kvCount; i++) {
  const start = at;
  const key = str();
  const type = u32();
  // An array: its item type, then its length.
  if (key === 'tokenizer.ggml.tokens') VOCAB = Number(source.readBigUInt64LE(at + 4));
  skipValue(type);
  pairs.push({ key, type, bytes: source.subarray(start, at) });
}

// ---- the new metadata: the fixture's with the model's shape replaced ----
const scalar = (type: number, value: number): Buffer => {
  const buffer = Buffer.alloc(SCALAR_BYTES[type] as number);
  if (type === 4) buffer.writeUInt32LE(value);
  else if (type === 5) buffer.writeInt32LE(value);
  else if (type === 10) buffer.writeBigUInt64LE(BigInt(value));
  else throw new Error(`cannot write a value of GGUF type ${type}`);
  return buffer;
};
const ggufString = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes]);
};
const shape: Record<string, number> = {
  'llama.embedding_length': DIM,
  'llama.block_count': LAYERS,
  'llama.feed_forward_length': FFN,
  'llama.attention.head_count': HEADS,
  'llama.attention.head_count_kv': HEADS,
  'llama.rope.dimension_count': DIM / HEADS,
};
const name = `bench-llama-d${DIM}-l${LAYERS}`;
const metadata = pairs.map(({ key, type, bytes }) => {
  const head = Buffer.concat([ggufString(key), scalar(4, type)]);
  if (key in shape) return Buffer.concat([head, scalar(type, shape[key] as number)]);
  if (key === 'general.name') return Buffer.concat([head, ggufString(name)]);
  return bytes;
});
if (VOCAB === 0) throw new Error(`${SOURCE} has no tokenizer.ggml.tokens`);

// ---- tensors: name, dimensions (GGUF order: the row length first), F32 (0) or F16 (1) ----
interface Tensor {
  name: string;
  dims: number[];
  type: 0 | 1;
}
const tensors: Tensor[] = [
  { name: 'token_embd.weight', dims: [DIM, VOCAB], type: 1 },
  { name: 'output_norm.weight', dims: [DIM], type: 0 },
];
for (let layer = 0; layer < LAYERS; layer++) {
  const blk = `blk.${layer}`;
  tensors.push(
    { name: `${blk}.attn_norm.weight`, dims: [DIM], type: 0 },
    { name: `${blk}.ffn_norm.weight`, dims: [DIM], type: 0 },
    ...['attn_q', 'attn_k', 'attn_v', 'attn_output'].map((t) => ({
      name: `${blk}.${t}.weight`,
      dims: [DIM, DIM],
      type: 1 as const,
    })),
    { name: `${blk}.ffn_gate.weight`, dims: [DIM, FFN], type: 1 },
    { name: `${blk}.ffn_up.weight`, dims: [DIM, FFN], type: 1 },
    { name: `${blk}.ffn_down.weight`, dims: [FFN, DIM], type: 1 },
  );
}
const alignUp = (n: number) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;
const sizeOf = (t: Tensor) => t.dims.reduce((a, b) => a * b, 1) * (t.type === 0 ? 4 : 2);
let offset = 0;
const infos = tensors.map((t) => {
  const dims = Buffer.alloc(4 + 8 * t.dims.length);
  dims.writeUInt32LE(t.dims.length);
  t.dims.forEach((d, i) => dims.writeBigUInt64LE(BigInt(d), 4 + 8 * i));
  const tail = Buffer.alloc(12);
  tail.writeUInt32LE(t.type);
  tail.writeBigUInt64LE(BigInt(offset), 4);
  offset = alignUp(offset + sizeOf(t));
  return Buffer.concat([ggufString(t.name), dims, tail]);
});
const header = Buffer.alloc(24);
header.write('GGUF', 0, 'latin1');
header.writeUInt32LE(3, 4);
header.writeBigUInt64LE(BigInt(tensors.length), 8);
header.writeBigUInt64LE(BigInt(metadata.length), 16);
const front = Buffer.concat([header, ...metadata, ...infos]);

// ---- seeded weights: normal(0, 0.02) for matrices, 1 for norms ----
let state = Number(opts.seed) >>> 0 || 1;
/** xorshift32 in [0, 1). */
const uniform = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);
/** IEEE half of a small float (no infinities or NaN here; subnormals flushed to zero). */
function half(value: number): number {
  f32[0] = value;
  const x = bits[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7bff;
  return sign | (exponent << 10) | ((x >>> 13) & 0x3ff);
}

const file = openSync(OUT, 'w');
try {
  writeSync(file, front);
  writeSync(file, Buffer.alloc(alignUp(front.length) - front.length));
  for (const t of tensors) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    const data = Buffer.alloc(alignUp(sizeOf(t)));
    if (t.type === 0) for (let i = 0; i < count; i++) data.writeFloatLE(1, i * 4);
    else for (let i = 0; i < count; i++) data.writeUInt16LE(half(normal() * 0.02), i * 2);
    writeSync(file, data);
  }
} finally {
  closeSync(file);
}
const params = tensors.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
console.log(
  `${OUT}: llama, ${DIM} wide, ${LAYERS} layers, ffn ${FFN}, ${HEADS} heads, ${(params / 1e6).toFixed(1)} M parameters`,
);
