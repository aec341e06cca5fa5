import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { fixturePath } from '#platform/testing';
import {
  detectFormat,
  readGgufSignature,
  readOnnxSignature,
  readSafetensorsSignature,
  type ModelSignature,
} from './model-formats';

const model = (name: string): Buffer => readFileSync(fixturePath('models', name));
const MLP = model('digits_mlp.onnx');
const CNN = model('digits_cnn.onnx');
const LLAMA = model('tiny-llama-memorizer-q8.gguf');
/** The first 629,856 bytes of the shared `tiny-bert-embed.gguf`: its whole header, up to the tensor data. */
const BERT_HEADER = model('tiny-bert-embed.header.gguf');

/** A `read(offset, length)` over a buffer that records every request. */
function reader(bytes: Buffer): {
  read: (offset: number, length: number) => Promise<Buffer>;
  requests: { offset: number; length: number }[];
} {
  const requests: { offset: number; length: number }[] = [];
  return {
    requests,
    read: (offset, length) => {
      requests.push({ offset, length });
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

function gguf(bytes: Buffer): Promise<ModelSignature> {
  return readGgufSignature(reader(bytes).read);
}

/** The AppError thrown (or rejected) by `run`, which must be INVALID_ARGUMENT for the file. */
async function invalidError(run: () => unknown): Promise<AppError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.code).toBe('INVALID_ARGUMENT');
    expect(appError.details).toMatchObject({ field: 'file' });
    return appError;
  }
  throw new Error('expected an AppError');
}

/** Deterministic pseudo-random bytes (xorshift32). */
function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

// --- A minimal protobuf writer for hand-made ONNX models --------------------------------------------------------

function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}

/** One field: a number as a varint, a string or buffer as length-delimited, an array as a packed varint list. */
function pb(field: number, value: number | bigint | string | Buffer | number[]): Buffer {
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.concat([varint(field * 8), varint(value)]);
  const payload = Array.isArray(value)
    ? Buffer.concat(value.map((v) => varint(v)))
    : typeof value === 'string'
      ? Buffer.from(value)
      : value;
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

const msg = (...fields: Buffer[]): Buffer => Buffer.concat(fields);
const dim = (value: number | string | null): Buffer =>
  pb(1, value === null ? msg() : typeof value === 'number' ? pb(1, value) : pb(2, value));
const tensorType = (elemType: number, dims?: (number | string | null)[]): Buffer =>
  pb(1, msg(pb(1, elemType), ...(dims === undefined ? [] : [pb(2, msg(...dims.map(dim)))])));
const valueInfo = (name: string, type: Buffer): Buffer => msg(pb(1, name), pb(2, type));

// --- A minimal GGUF writer ----------------------------------------------------------------------------------------

type GgufValue = { type: number; bytes: Buffer };
const u32 = (n: number): Buffer => Buffer.from(new Uint32Array([n]).buffer);
const u64 = (n: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const gstr = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const gv = {
  u8: (n: number): GgufValue => ({ type: 0, bytes: Buffer.from([n]) }),
  i8: (n: number): GgufValue => ({ type: 1, bytes: Buffer.from(new Int8Array([n]).buffer) }),
  u16: (n: number): GgufValue => ({ type: 2, bytes: Buffer.from(new Uint16Array([n]).buffer) }),
  i16: (n: number): GgufValue => ({ type: 3, bytes: Buffer.from(new Int16Array([n]).buffer) }),
  u32: (n: number): GgufValue => ({ type: 4, bytes: u32(n) }),
  i32: (n: number): GgufValue => ({ type: 5, bytes: Buffer.from(new Int32Array([n]).buffer) }),
  f32: (n: number): GgufValue => ({ type: 6, bytes: Buffer.from(new Float32Array([n]).buffer) }),
  bool: (b: boolean): GgufValue => ({ type: 7, bytes: Buffer.from([b ? 1 : 0]) }),
  str: (s: string): GgufValue => ({ type: 8, bytes: gstr(s) }),
  u64: (n: bigint): GgufValue => ({ type: 10, bytes: u64(n) }),
  i64: (n: bigint): GgufValue => ({ type: 11, bytes: Buffer.from(new BigInt64Array([n]).buffer) }),
  f64: (n: number): GgufValue => ({ type: 12, bytes: Buffer.from(new Float64Array([n]).buffer) }),
  arr: (itemType: number, items: Buffer[]): GgufValue => ({
    type: 9,
    bytes: Buffer.concat([u32(itemType), u64(items.length), ...items]),
  }),
};

interface GgufTensor {
  name: string;
  dims: number[];
  type: number;
  offset: number;
}

function ggufFile(kv: Record<string, GgufValue>, tensors: GgufTensor[] = [], version = 3): Buffer {
  return Buffer.concat([
    Buffer.from('GGUF'),
    u32(version),
    u64(tensors.length),
    u64(Object.keys(kv).length),
    ...Object.entries(kv).flatMap(([key, value]) => [gstr(key), u32(value.type), value.bytes]),
    ...tensors.flatMap((t) => [
      gstr(t.name),
      u32(t.dims.length),
      ...t.dims.map((d) => u64(d)),
      u32(t.type),
      u64(t.offset),
    ]),
  ]);
}

// --- safetensors ----------------------------------------------------------------------------------------------

function safetensors(header: unknown, dataBytes = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  return Buffer.concat([u64(json.length), json, Buffer.alloc(dataBytes)]);
}

const SAFETENSORS_HEADER = {
  __metadata__: { format: 'pt' },
  'embed.weight': { dtype: 'F16', shape: [10, 4], data_offsets: [0, 80] },
  'head.bias': { dtype: 'F32', shape: [10], data_offsets: [80, 120] },
};

describe('detectFormat', () => {
  it('recognises each format by its first bytes', () => {
    expect(detectFormat('digits_mlp.onnx', MLP.subarray(0, 4096))).toBe('onnx');
    expect(detectFormat('model.bin', CNN.subarray(0, 64))).toBe('onnx');
    expect(detectFormat('llama.gguf', LLAMA.subarray(0, 4096))).toBe('gguf');
    expect(detectFormat('weights', BERT_HEADER.subarray(0, 16))).toBe('gguf');
    expect(detectFormat('model.safetensors', safetensors(SAFETENSORS_HEADER, 120))).toBe('safetensors');
    const tfjs = Buffer.from(
      JSON.stringify({ format: 'layers-model', modelTopology: { config: {} }, weightsManifest: [] }, null, 2),
    );
    expect(detectFormat('model.json', tfjs)).toBe('tfjs');
    expect(
      detectFormat('model.json', Buffer.from('\uFEFF{"weightsManifest": [{"paths": ["group1-shard1of1.bin"]}]}')),
    ).toBe('tfjs');
  });

  it('calls anything else other, whatever its name', () => {
    expect(detectFormat('notes.txt', Buffer.from('hello, world\n'))).toBe('other');
    expect(detectFormat('data.json', Buffer.from('{"rows": [1, 2, 3]}'))).toBe('other');
    expect(detectFormat('image.png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'))).toBe('other');
    expect(detectFormat('empty', Buffer.alloc(0))).toBe('other');
    expect(detectFormat('fake.gguf', Buffer.from('GGUX\x03\x00\x00\x00'))).toBe('other');
    for (let seed = 1; seed <= 50; seed++) {
      expect(detectFormat('random.onnx', randomBytes(4096, seed))).toBe('other');
      expect(detectFormat('random.bin', randomBytes(4096, seed))).toBe('other');
    }
  });

  it('takes a protobuf without a leading ir_version as ONNX only when the name says so', () => {
    const noIrVersion = msg(pb(2, 'exporter'), pb(7, msg(pb(2, 'g'))));
    expect(detectFormat('model.onnx', noIrVersion)).toBe('onnx');
    expect(detectFormat('model.bin', noIrVersion)).toBe('other');
  });
});

describe('readOnnxSignature', () => {
  it('reads the MLP: input x [n,64] float32, output logits [n,10], opset 13', () => {
    expect(readOnnxSignature(MLP)).toEqual({
      format: 'onnx',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 64] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: ['n', 10] }],
      metadata: {
        ir_version: 7,
        producer_name: 'pytorch',
        producer_version: '1.13.0',
        opset: 13,
        graph_name: 'torch_jit',
        node_count: 5,
        initializer_count: 6,
        // 64·64+64 + 64·32+32 + 32·10+10
        parameter_count: 6570,
      },
    });
  });

  it('reads the CNN: input x [n,1,8,8], opset 17', () => {
    const signature = readOnnxSignature(CNN);
    expect(signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['n', 1, 8, 8] }]);
    expect(signature.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['n', 10] }]);
    expect(signature.metadata).toMatchObject({ ir_version: 8, opset: 17, producer_name: 'pytorch' });
  });

  it('drops initializers from the inputs and reads symbolic, unknown, packed and non-tensor types', () => {
    const weights = pb(5, msg(pb(1, [3, 4]), pb(2, 1), pb(8, 'w'), pb(9, Buffer.alloc(48))));
    const graph = msg(
      pb(1, msg(pb(1, 'x'), pb(2, 'y'), pb(4, 'Identity'))),
      pb(2, 'hand-made'),
      weights,
      pb(11, valueInfo('x', tensorType(10, ['batch', 3, null, -1]))),
      pb(11, valueInfo('w', tensorType(1, [3, 4]))),
      pb(11, valueInfo('ids', pb(4, pb(1, tensorType(7, ['n']))))),
      pb(11, valueInfo('features', pb(5, msg(pb(1, 8), pb(2, tensorType(1)))))),
      pb(11, valueInfo('maybe', pb(9, pb(1, tensorType(9, [2]))))),
      pb(11, valueInfo('scalar', tensorType(11, []))),
      pb(11, valueInfo('unranked', tensorType(16))),
      pb(12, valueInfo('y', tensorType(16, ['batch']))),
    );
    const bytes = msg(
      pb(1, 3),
      pb(2, 'test'),
      Buffer.from([0x9d, 0x06, 1, 2, 3, 4]), // field 99, fixed32: unknown, skipped
      pb(7, graph),
      pb(8, msg(pb(2, 11))),
      pb(8, msg(pb(1, 'ai.onnx.ml'), pb(2, 2))),
      pb(14, msg(pb(1, 'author'), pb(2, 'me'))),
    );
    expect(readOnnxSignature(bytes)).toEqual({
      format: 'onnx',
      inputs: [
        { name: 'x', dtype: 'float16', shape: ['batch', 3, null, null] },
        { name: 'ids', dtype: 'sequence<int64>', shape: [] },
        { name: 'features', dtype: 'map<string,float32>', shape: [] },
        { name: 'maybe', dtype: 'optional<bool>', shape: [2] },
        { name: 'scalar', dtype: 'float64', shape: [] },
        { name: 'unranked', dtype: 'bfloat16', shape: [] },
      ],
      outputs: [{ name: 'y', dtype: 'bfloat16', shape: ['batch'] }],
      metadata: {
        ir_version: 3,
        producer_name: 'test',
        opset: 11,
        'opset.ai.onnx.ml': 2,
        'meta.author': 'me',
        graph_name: 'hand-made',
        node_count: 1,
        initializer_count: 1,
        parameter_count: 12,
      },
    });
  });

  it('rejects every truncation of a real model', async () => {
    for (let length = 0; length < MLP.length; length += 97) {
      await invalidError(() => readOnnxSignature(MLP.subarray(0, length)));
    }
    const error = await invalidError(() => readOnnxSignature(MLP.subarray(0, MLP.length - 1)));
    expect(error.message).toMatch(/^not a valid ONNX file: /);
  });

  it('rejects random bytes, non-ONNX protobufs and mistyped fields', async () => {
    for (let seed = 1; seed <= 50; seed++) await invalidError(() => readOnnxSignature(randomBytes(2048, seed)));
    await invalidError(() => readOnnxSignature(LLAMA.subarray(0, 4096)));
    expect((await invalidError(() => readOnnxSignature(msg(pb(1, 7))))).message).toMatch(/no graph/);
    expect((await invalidError(() => readOnnxSignature(msg(pb(1, 7), pb(7, 5))))).message).toMatch(/graph.*wire type/);
    expect((await invalidError(() => readOnnxSignature(msg(pb(7, msg()), pb(8, msg(pb(2, 9))))))).message).toMatch(
      /no ir_version/,
    );
    expect((await invalidError(() => readOnnxSignature(msg(pb(1, 7), pb(7, msg()))))).message).toMatch(
      /no opset_import/,
    );
  });
});

describe('readGgufSignature', () => {
  it('reads the llama header: a causal LM with token ids in and logits out, without touching tensor data', async () => {
    const { read, requests } = reader(LLAMA);
    const signature = await readGgufSignature(read);
    expect(signature.format).toBe('gguf');
    expect(signature.inputs).toEqual([{ name: 'input_ids', dtype: 'int32', shape: ['batch', 128] }]);
    expect(signature.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: [32000] }]);
    expect(signature.metadata).toMatchObject({
      gguf_version: 3,
      architecture: 'llama',
      name: 'tiny-llama-memorizer',
      context_length: 128,
      embedding_length: 64,
      block_count: 2,
      file_type: 'F16',
      tokenizer_model: 'llama',
      vocab_size: 32000,
      pooling_type: null,
      task: 'text-generation',
      tensor_count: 20,
      // token_embd 64·32000 + output_norm 64 + 2 blocks × (2·64 + 4·64·64 + 3·64·192)
      parameter_count: 2_154_816,
      tensor_types: 'F16:14,F32:5,Q8_0:1',
      alignment: 32,
      tensor_data_offset: 725_056,
      'llama.rope.freq_base': 10000,
      'tokenizer.ggml.tokens': 'string[32000]',
      'tokenizer.ggml.scores': 'float32[32000]',
      'tokenizer.ggml.add_bos_token': true,
      'tokenizer.ggml.bos_token_id': 1,
    });
    // The header is read in 64 KiB chunks and nothing past it is asked for.
    const furthest = Math.max(...requests.map((r) => r.offset + r.length));
    expect(furthest).toBeLessThanOrEqual(725_056 + 64 * 1024);
    expect(furthest).toBeLessThan(LLAMA.length);
  });

  it('reads the bert header as an embedding model with 128-dim output', async () => {
    const signature = await gguf(BERT_HEADER);
    expect(signature.inputs).toEqual([{ name: 'input_ids', dtype: 'int32', shape: ['batch', 128] }]);
    expect(signature.outputs).toEqual([{ name: 'embeddings', dtype: 'float32', shape: [128] }]);
    expect(signature.metadata).toMatchObject({
      architecture: 'bert',
      context_length: 128,
      embedding_length: 128,
      block_count: 2,
      tokenizer_model: 'bert',
      vocab_size: 30522,
      pooling_type: 'mean',
      task: 'embedding',
      tensor_count: 37,
      tensor_data_offset: BERT_HEADER.length,
      'bert.attention.causal': false,
    });
  });

  it('decodes every value type, keeps short arrays and summarises long ones', async () => {
    const items = (n: number, f: (i: number) => Buffer): Buffer[] => Array.from({ length: n }, (_, i) => f(i));
    const file = ggufFile(
      {
        'general.architecture': gv.str('qwen2'),
        'general.alignment': gv.u32(64),
        'general.file_type': gv.u32(15),
        'qwen2.context_length': gv.u64(32768n),
        'qwen2.embedding_length': gv.i32(896),
        'a.u8': gv.u8(255),
        'a.i8': gv.i8(-5),
        'a.u16': gv.u16(65535),
        'a.i16': gv.i16(-300),
        'a.i64': gv.i64(-7n),
        'a.u64.big': gv.u64(2n ** 63n),
        'a.f32': gv.f32(0.5),
        'a.f64': gv.f64(-1.25),
        'a.bool': gv.bool(false),
        'a.short': gv.arr(
          5,
          items(3, (i) => Buffer.from(new Int32Array([i - 1]).buffer)),
        ),
        'a.tags': gv.arr(8, [gstr('chat'), gstr('small')]),
        'a.long': gv.arr(
          6,
          items(100, () => Buffer.alloc(4)),
        ),
        'a.nested': gv.arr(9, [Buffer.concat([u32(0), u64(2), Buffer.from([1, 2])])]),
        'tokenizer.ggml.tokens': gv.arr(
          8,
          items(20, (i) => gstr(`tok${i}`)),
        ),
      },
      [{ name: 'token_embd.weight', dims: [896, 20], type: 12, offset: 0 }],
    );
    const { metadata, outputs } = await gguf(file);
    expect(metadata).toMatchObject({
      'a.u8': 255,
      'a.i8': -5,
      'a.u16': 65535,
      'a.i16': -300,
      'a.i64': -7,
      'a.u64.big': '9223372036854775808',
      'a.f32': 0.5,
      'a.f64': -1.25,
      'a.bool': false,
      'a.short': '[-1,0,1]',
      'a.tags': '["chat","small"]',
      'a.long': 'float32[100]',
      'a.nested': 'array[1]',
      'tokenizer.ggml.tokens': 'string[20]',
      architecture: 'qwen2',
      context_length: 32768,
      embedding_length: 896,
      file_type: 'Q4_K_M',
      vocab_size: 20,
      alignment: 64,
      tensor_types: 'Q4_K:1',
      parameter_count: 896 * 20,
      task: 'text-generation',
    });
    expect(outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: [20] }]);
  });

  it('rejects a bad magic, an old or big-endian version and a truncated header', async () => {
    expect((await invalidError(() => gguf(Buffer.from('GGML\x03\x00\x00\x00')))).message).toMatch(/bad magic/);
    expect((await invalidError(() => gguf(Buffer.from('GG')))).message).toMatch(/magic/);
    expect((await invalidError(() => gguf(ggufFile({}, [], 1)))).message).toMatch(/version 1/);
    const bigEndian = Buffer.concat([Buffer.from('GGUF'), Buffer.from([0, 0, 0, 3]), u64(0), u64(0)]);
    expect((await invalidError(() => gguf(bigEndian))).message).toMatch(/big-endian/);
    for (const length of [8, 20, 100, 5000, 400_000, 725_000]) {
      expect((await invalidError(() => gguf(LLAMA.subarray(0, length)))).message).toMatch(/truncated/);
    }
    for (let seed = 1; seed <= 20; seed++) {
      await invalidError(() => gguf(Buffer.concat([Buffer.from('GGUF'), u32(3), randomBytes(4096, seed)])));
    }
  });

  it('passes an I/O error of read through instead of blaming the file', async () => {
    const failure = new Error('EIO: i/o error, read');
    await expect(readGgufSignature(() => Promise.reject(failure))).rejects.toBe(failure);
    const { read } = reader(LLAMA);
    const failLater = (offset: number, length: number): Promise<Buffer> =>
      offset > 0 ? Promise.reject(failure) : read(offset, length);
    await expect(readGgufSignature(failLater)).rejects.toBe(failure);
  });

  it('rejects absurd counts and lengths quickly, without large reads', async () => {
    const header = (tensors: bigint, kvs: bigint): Buffer =>
      Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors), u64(kvs)]);
    const cases: [Buffer, RegExp][] = [
      [header(2n ** 60n, 0n), /tensor count/],
      [header(0n, 2n ** 40n), /metadata key count/],
      [header(0n, 2n ** 64n - 1n), /out of range/],
      [Buffer.concat([header(0n, 1n), u64(2n ** 50n), Buffer.from('key')]), /metadata key of/],
      [Buffer.concat([header(0n, 1n), gstr('k'), u32(8), u64(2n ** 40n), Buffer.from('abc')]), /truncated/],
      [Buffer.concat([header(0n, 1n), gstr('k'), u32(9), u32(8), u64(2n ** 40n), gstr('a')]), /truncated/],
      [Buffer.concat([header(0n, 1n), gstr('k'), u32(9), u32(12), u64(2n ** 52n)]), /out of range/],
      [Buffer.concat([header(0n, 1n), gstr('k'), u32(13)]), /unknown value type 13/],
      [Buffer.concat([header(0n, 1n), gstr('k'), u32(7), Buffer.from([2])]), /bool value/],
      [ggufFile({ 'general.alignment': gv.u32(48) }), /power of two/],
      [
        ggufFile({ k: gv.u8(1), 'general.name': gv.str('x') }, [
          { name: 't', dims: [1, 1, 1, 1, 1], type: 0, offset: 0 },
        ]),
        /dimensions/,
      ],
      [ggufFile({}, [{ name: 't', dims: [2 ** 30, 2 ** 30], type: 0, offset: 0 }]), /too many elements/],
      [ggufFile({}, [{ name: 't', dims: [4], type: 0, offset: 3 }]), /aligned/],
      [
        Buffer.concat([header(0n, 2n), gstr('k'), u32(0), Buffer.from([1]), gstr('k'), u32(0), Buffer.from([2])]),
        /duplicate/,
      ],
    ];
    for (const [bytes, message] of cases) {
      const { read, requests } = reader(bytes);
      const started = performance.now();
      expect((await invalidError(() => readGgufSignature(read))).message).toMatch(message);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(Math.max(...requests.map((r) => r.length))).toBeLessThanOrEqual(1 << 20);
    }
  });
});

describe('readSafetensorsSignature', () => {
  it('reads the header: tensor count, dtypes, parameters and __metadata__', () => {
    expect(readSafetensorsSignature(safetensors(SAFETENSORS_HEADER, 120))).toEqual({
      format: 'safetensors',
      inputs: [],
      outputs: [],
      metadata: {
        header_size: Buffer.byteLength(JSON.stringify(SAFETENSORS_HEADER)),
        'meta.format': 'pt',
        tensor_count: 2,
        parameter_count: 50,
        dtypes: 'F16:1,F32:1',
      },
    });
  });

  it('rejects a short head, a header that is not JSON and tensors that do not add up', async () => {
    const file = safetensors(SAFETENSORS_HEADER);
    expect((await invalidError(() => readSafetensorsSignature(file.subarray(0, 40)))).message).toMatch(/read more/);
    expect((await invalidError(() => readSafetensorsSignature(Buffer.from([1, 2, 3])))).message).toMatch(/8-byte/);
    expect((await invalidError(() => readSafetensorsSignature(u64(2n ** 40n)))).message).toMatch(/exceeds 100 MB/);
    const notJson = Buffer.concat([u64(5), Buffer.from('{"a":')]);
    expect((await invalidError(() => readSafetensorsSignature(notJson))).message).toMatch(/not JSON/);
    expect((await invalidError(() => readSafetensorsSignature(safetensors([1, 2])))).message).toMatch(
      /not a JSON object/,
    );
    const wrongSize = { t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } };
    expect((await invalidError(() => readSafetensorsSignature(safetensors(wrongSize)))).message).toMatch(/needs 12/);
    const badShape = { t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } };
    expect((await invalidError(() => readSafetensorsSignature(safetensors(badShape)))).message).toMatch(/bad shape/);
    const badOffsets = { t: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } };
    expect((await invalidError(() => readSafetensorsSignature(safetensors(badOffsets)))).message).toMatch(
      /data_offsets/,
    );
  });
});
