import { POISSON_PAIRS, poissonPairIn, type PoissonStreams } from './poisson.ts';
import type { RandomStream } from './random.ts';
import { POISSON_WALK_WASM } from './wasm/poisson-walk-wasm.ts';

/**
 * The ranking and log-loss sums of Poisson bootstrap resamples (ROC AUC and AP numerators, class totals, Σ w ·
 * log loss), computed by a WebAssembly SIMD kernel (wasm/poisson-walk.c) four resamples at a time: ~3× less CPU
 * than the same walk in JS, which V8 compiled to ~12 ns a row and resample. Rows are walked downwards (descending
 * score); a binary walk goes in pieces of POISSON_PIECE, all the resamples going through a piece while it is in
 * cache, and the multiclass walks go through every class's ranking for four resamples at a time (their weights are
 * hashed once for all the classes).
 */

/** What a finished walk gives per resample. */
export interface PoissonSums {
  tp: Float64Array;
  fp: Float64Array;
  auc: Float64Array;
  ap: Float64Array;
  logLoss: Float64Array;
}

/** Rows per piece: their type and log loss (72 KiB) and the weights drawn for four resamples (32 KiB) stay in L2. */
const POISSON_PIECE = 8192;
/** The kernel's running sums (wasm/poisson-walk.c's enum), four lanes each. */
const SUMS = 7;
const [TP, FP, AUC, AP, LL] = [2, 3, 4, 5, 6];
/** wasm-ld puts the kernel's stack below 64 KiB + 1 KiB; our arrays start above it. */
const HEAP_BASE = 131072;
const PAGE = 65536;

interface WalkExports {
  walk4(
    type: number,
    logLoss: number,
    pairs: number,
    lo: number,
    hi: number,
    state: number,
    acc: number,
    weights: number,
    group: number,
  ): void;
  hashRows4(rows: number, lo: number, hi: number, keys: number, weights: number): void;
  walkRanked4(
    positions: number,
    type: number,
    logLoss: number,
    lo: number,
    hi: number,
    weights: number,
    acc: number,
  ): void;
}

/**
 * The part of the WebAssembly JS API used here: @types/node 20 does not declare it (TypeScript has it in lib.dom
 * only), though every Node has it.
 */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let compiled: object | undefined;

/**
 * A kernel instance over `bytes` of fresh memory (the pair table at HEAP_BASE), and that memory. `straddle`
 * finishes walk4's straddling draws.
 */
function instantiate(
  bytes: number,
  straddle: (resample: number, bucket: number) => number = () => {
    throw new Error('only walk4 draws straddles');
  },
): { kernel: WalkExports; buffer: ArrayBuffer } {
  const memory = new wasm.Memory({ initial: Math.ceil((HEAP_BASE + POISSON_PAIRS.length + bytes) / PAGE) });
  new Uint8Array(memory.buffer, HEAP_BASE, POISSON_PAIRS.length).set(POISSON_PAIRS);
  compiled ??= new wasm.Module(Buffer.from(POISSON_WALK_WASM, 'base64'));
  const instance = new wasm.Instance(compiled, { env: { memory, straddle } });
  return { kernel: instance.exports as WalkExports, buffer: memory.buffer };
}

/** Allocates consecutive regions after the pair table, each aligned for its element type. */
function layout(sizes: Record<string, number>): { at: Record<string, number>; end: number } {
  let end = HEAP_BASE + POISSON_PAIRS.length;
  const at: Record<string, number> = {};
  for (const [name, size] of Object.entries(sizes)) {
    end = Math.ceil(end / 16) * 16;
    at[name] = end;
    end += size;
  }
  return { at, end: end - HEAP_BASE - POISSON_PAIRS.length };
}

/** Resample o's sum k from the lane-major sums of its group of four. */
function sumsOf(acc: Float64Array, count: number, k: number): Float64Array {
  return Float64Array.from({ length: count }, (_, o) => acc[(o >> 2) * SUMS * 4 + k * 4 + (o & 3)]!);
}

/**
 * Walks `rows` units in ascending score order (type flags and per-row log loss as bootstrap.ts lays them out) for
 * every resample of `streams` (their xoshiro128** words start the weights; their streams finish straddling draws).
 */
export function poissonWalk(type: Uint8Array, logLoss: Float64Array, streams: PoissonStreams): PoissonSums {
  const rows = type.length;
  const count = streams.streams.length;
  const groups = Math.ceil(count / 4);
  const { at, end } = layout({
    logLoss: rows * 8,
    type: rows,
    state: groups * 64,
    acc: groups * SUMS * 32,
    weights: POISSON_PIECE * 4,
  });
  const { kernel, buffer } = instantiate(end, (resample, bucket) => poissonPairIn(bucket, streams.streams[resample]!));
  new Float64Array(buffer, at.logLoss!, rows).set(logLoss);
  new Uint8Array(buffer, at.type!, rows).set(type);
  // Lane-major: group g's s_j of resample 4g + lane at word 16g + 4j + lane. Lanes past the last resample keep
  // the all-zero state, which only ever draws bucket 0 (no straddle).
  const state = new Int32Array(buffer, at.state!, groups * 16);
  for (let o = 0; o < count; o++) {
    for (let j = 0; j < 4; j++) state[(o >> 2) * 16 + j * 4 + (o & 3)] = streams.words[o * 4 + j]!;
  }
  for (let hi = rows; hi > 0; hi -= POISSON_PIECE) {
    const lo = Math.max(0, hi - POISSON_PIECE);
    for (let g = 0; g < groups; g++) {
      kernel.walk4(
        at.type!,
        at.logLoss!,
        HEAP_BASE,
        lo,
        hi,
        at.state! + g * 64,
        at.acc! + g * SUMS * 32,
        at.weights!,
        g,
      );
    }
  }
  const acc = new Float64Array(buffer, at.acc!, groups * SUMS * 4);
  return {
    tp: sumsOf(acc, count, TP),
    fp: sumsOf(acc, count, FP),
    auc: sumsOf(acc, count, AUC),
    ap: sumsOf(acc, count, AP),
    logLoss: sumsOf(acc, count, LL),
  };
}

/** The one-vs-rest rankings of a multiclass problem, as bootstrap.ts lays them out. */
export interface ClassRankings {
  /** Per class: rows in ascending order of that class's probability, and their flags (truth, group end). */
  orders: Int32Array[];
  flags: Uint8Array[];
  /** Per row, in row order. */
  logLoss: Float64Array;
}

/** Per class c, the walk's sums of its ranking (`logLoss` summed in class 0's walk only). */
export type ClassSums = PoissonSums[];

/**
 * The keys of resample b's row weights in hashRows4: the first two words of the stream (seed, b). Row r's weight
 * is then Poisson(1) inverted at the 32 bits mix(mix(r ⊕ k1) ⊕ k2) (lowbias32's mix), whichever class's walk
 * reaches it.
 */
export function hashedKeys(stream: RandomStream): [number, number] {
  return [stream.nextUint32(), stream.nextUint32()];
}

/** Bytes a batch of class rankings may take in a kernel's memory (positions, flags): 64 MiB, 12 classes of 1M rows. */
const RANKINGS_BUDGET = 64 * 2 ** 20;

/**
 * Walks every class's ranking for the resamples whose keys (hashedKeys, two a resample) `keys` holds, with
 * Poisson(1) row weights that a hash of (keys, row) decides, so a row weighs the same in every class's walk: one
 * resample, k rankings. Four resamples at a time, the rows' weights are hashed once, in class 0's ranking order,
 * and then read by every class's walk (a byte a row and resample: 4 MiB for 1M rows; class 0 reads them in order,
 * the others by each row's position in class 0's ranking) rather than hashed again in each ranking's order. The
 * classes go through in batches whose rankings fit `budget` bytes.
 */
export function poissonWalkClasses(
  rankings: ClassRankings,
  keys: Uint32Array,
  budget: number = RANKINGS_BUDGET,
): ClassSums {
  const rows = rankings.logLoss.length;
  const classes = rankings.orders.length;
  const count = keys.length / 2;
  const groups = Math.ceil(count / 4);
  const batch = Math.max(1, Math.min(classes, Math.floor(budget / (rows * 5))));
  const { at, end } = layout({
    rows: rows * 4,
    positions: batch * rows * 4,
    type: batch * rows,
    logLoss: rows * 8,
    keys: groups * 32,
    weights: rows * 4,
    acc: batch * groups * SUMS * 32,
  });
  const { kernel, buffer } = instantiate(end);
  const lanes = new Uint32Array(buffer, at.keys!, groups * 8);
  for (let o = 0; o < count; o++) {
    lanes[(o >> 2) * 8 + (o & 3)] = keys[o * 2]!;
    lanes[(o >> 2) * 8 + 4 + (o & 3)] = keys[o * 2 + 1]!;
  }
  const first = rankings.orders[0]!;
  new Int32Array(buffer, at.rows!, rows).set(first);
  const positionInFirst = new Int32Array(rows);
  for (let j = 0; j < rows; j++) positionInFirst[first[j]!] = j;
  // Log loss is order-free: class 0's walk adds it up, in its order.
  const ordered = new Float64Array(buffer, at.logLoss!, rows);
  for (let j = 0; j < rows; j++) ordered[j] = rankings.logLoss[first[j]!]!;
  const out: ClassSums = [];
  for (let from = 0; from < classes; from += batch) {
    const to = Math.min(classes, from + batch);
    for (let c = from; c < to; c++) {
      new Uint8Array(buffer, at.type! + (c - from) * rows, rows).set(rankings.flags[c]!);
      if (c === 0) continue; // class 0 reads the weights in order
      const positions = new Int32Array(buffer, at.positions! + (c - from) * rows * 4, rows);
      const order = rankings.orders[c]!;
      for (let j = 0; j < rows; j++) positions[j] = positionInFirst[order[j]!]!;
    }
    const acc = new Float64Array(buffer, at.acc!, batch * groups * SUMS * 4);
    acc.fill(0);
    for (let g = 0; g < groups; g++) {
      kernel.hashRows4(at.rows!, 0, rows, at.keys! + g * 32, at.weights!);
      for (let c = from; c < to; c++) {
        kernel.walkRanked4(
          c === 0 ? 0 : at.positions! + (c - from) * rows * 4,
          at.type! + (c - from) * rows,
          c === 0 ? at.logLoss! : 0,
          0,
          rows,
          at.weights!,
          at.acc! + ((c - from) * groups + g) * SUMS * 32,
        );
      }
    }
    for (let c = from; c < to; c++) {
      const sums = acc.subarray((c - from) * groups * SUMS * 4, (c - from + 1) * groups * SUMS * 4);
      out.push({
        tp: sumsOf(sums, count, TP),
        fp: sumsOf(sums, count, FP),
        auc: sumsOf(sums, count, AUC),
        ap: sumsOf(sums, count, AP),
        logLoss: sumsOf(sums, count, LL),
      });
    }
  }
  return out;
}
