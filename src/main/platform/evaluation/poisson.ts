import { RandomStream } from './random.ts';

/**
 * Poisson(1) bootstrap weights: each row gets an independent Poisson(1) weight instead of the multinomial count
 * of n draws with replacement (Hanley & MacGibbon 2006; Chamandy et al. 2012). The weights are independent, so
 * a resample is generated piecewise while walking the rows, which is what lets many resamples share one pass
 * over data held in cache. Metrics divided by the resample's total weight (Σ w) have the multinomial
 * bootstrap's distribution up to O(1/n) relative: far below the Monte Carlo error of 1,000 resamples once n is
 * in the ten thousands.
 *
 * Resample b's weights come from its own xoshiro128** generator (period 2¹²⁸ − 1, so resamples never share a
 * stretch of it; 8 bits a row), seeded from RandomStream(seed, b): the same weights whichever thread computes
 * them. The generator runs in the walk (wasm/poisson-walk.c, four resamples in the lanes of SIMD vectors).
 */
export interface PoissonStreams {
  /** Four xoshiro128** words per resample of the range (resample from + o at 4o): 16 bits weigh two rows. */
  words: Int32Array;
  /**
   * Per resample: the stream (seed, b) its words came from, which goes on to supply the rare extra draws (the
   * refinement of a straddling bucket, the confusion cells).
   */
  streams: RandomStream[];
}

export function poissonStreams(seed: number, from: number, to: number): PoissonStreams {
  const count = to - from;
  const words = new Int32Array(count * 4);
  const streams: RandomStream[] = [];
  for (let o = 0; o < count; o++) {
    const stream = new RandomStream(seed, from + o);
    for (let j = 0; j < 4; j++) words[o * 4 + j] = stream.nextUint32() | 0;
    // The all-zero state is xoshiro's one fixed point (chance 2⁻¹²⁸).
    if ((words[o * 4]! | words[o * 4 + 1]! | words[o * 4 + 2]! | words[o * 4 + 3]!) === 0) words[o * 4] = 1;
    streams.push(stream);
  }
  return { words, streams };
}

/** What POISSON_PAIRS holds for a bucket that two outcomes share: the draw is finished by poissonPairIn. */
export const STRADDLES = 255;

/**
 * The outcomes (a, b) of two independent Poisson(1) weights, each 0–15 (beyond 15 has chance 10⁻¹⁴, left out),
 * packed as a | b << 4, most likely first, with their cumulative probabilities.
 */
const PAIRS = (() => {
  const single = Array.from({ length: 16 }, (_, k) => Math.exp(-1) / factorial(k));
  const outcomes = Array.from({ length: 256 }, (_, code) => ({ code, p: single[code & 15]! * single[code >> 4]! }));
  outcomes.sort((x, y) => y.p - x.p || x.code - y.code);
  let cdf = 0;
  return {
    code: Uint8Array.from(outcomes, (o) => o.code),
    cdf: Float64Array.from(outcomes, (o) => (cdf += o.p)),
  };
})();

function factorial(k: number): number {
  return k <= 1 ? 1 : k * factorial(k - 1);
}

/**
 * Two Poisson(1) weights by inversion of 16 random bits: bucket u ∈ [i, i + 1) / 2¹⁶ holds an outcome's code
 * when the whole bucket lies in that outcome's stretch of the cumulative distribution, else STRADDLES (about 40
 * of the 65,536 buckets), for which poissonPairIn finishes the inversion with 53 more bits. So the weights are
 * Poisson(1) to double precision (but for the 10⁻¹⁴ beyond 15).
 */
export const POISSON_PAIRS = (() => {
  const table = new Uint8Array(65536).fill(STRADDLES);
  let j = 0;
  for (let bucket = 0; bucket < 65536; bucket++) {
    while (j < 255 && PAIRS.cdf[j]! <= bucket / 65536) j++;
    if ((bucket + 1) / 65536 <= PAIRS.cdf[j]!) table[bucket] = PAIRS.code[j]!;
  }
  return table;
})();

/** Two Poisson(1) weights (a | b << 4) inverted at a uniform point of `bucket`, refined by the stream. */
export function poissonPairIn(bucket: number, stream: RandomStream): number {
  const u = (bucket + stream.uniform()) / 65536;
  let j = 0;
  // The last outcome takes what rounding leaves of the total.
  while (j < 255 && PAIRS.cdf[j]! <= u) j++;
  return PAIRS.code[j]!;
}
