/**
 * Seeded random streams for bootstrap resamples and Monte Carlo. A stream is derived from (seed, index) alone,
 * so resample b draws the same rows whichever thread computes it, and results do not depend on the split.
 */

/** A 32-bit generator (mulberry32 over a mixed seed); `next()` is an unsigned 32-bit integer. */
export class RandomStream {
  private state: number;

  constructor(...seedParts: number[]) {
    let s = 0x9e3779b9;
    for (const part of seedParts) {
      // splitmix-style mixing of each part, so (seed, 1) and (seed + 1, 0) differ.
      s = Math.imul(s ^ (part >>> 0), 0x85ebca6b);
      s ^= s >>> 13;
      s = Math.imul(s, 0xc2b2ae35);
      s ^= s >>> 16;
    }
    this.state = s >>> 0;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = (this.state = (this.state + 0x6d2b79f5) | 0);
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Gamma(shape, 1) (Marsaglia–Tsang; shape < 1 boosted by U^(1/shape)). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b) as G(a) / (G(a) + G(b)). */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }
}

/**
 * Bootstrap weights for one resample: `n` rows drawn uniformly with replacement, as counts per row (an exact
 * multinomial(n, 1/n) draw, not the Poisson approximation). Writes into `counts`, which it zeroes first.
 */
export function resampleCounts(counts: Int32Array, stream: RandomStream): void {
  const n = counts.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    // Multiply-shift maps 32 random bits onto [0, n) with a bias below n / 2^32 (≤ 2.4e-4 at a million rows).
    counts[Math.floor((stream.nextUint32() * n) / 4294967296)]!++;
  }
}

/**
 * Binomial(n, p) by inversion: from 0 when the mean is small, else from the mode outwards (alternately down and
 * up, so about √(np) steps). Exact up to the rounding of the probabilities (~1e-9 relative at n = 10⁶).
 */
export function binomial(n: number, p: number, stream: RandomStream): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, stream);
  const q = 1 - p;
  const ratio = p / q;
  const u = stream.uniform();
  if (n * p < 10) {
    let f = Math.exp(n * Math.log1p(-p));
    let k = 0;
    let cdf = f;
    while (u >= cdf && k < n) {
      f *= ((n - k) / (k + 1)) * ratio;
      k++;
      cdf += f;
    }
    return k;
  }
  const mode = Math.floor((n + 1) * p);
  const fMode = Math.exp(logChoose(n, mode) + mode * Math.log(p) + (n - mode) * Math.log1p(-p));
  let acc = fMode;
  if (u < acc) return mode;
  let lo = mode;
  let hi = mode;
  let fLo = fMode;
  let fHi = fMode;
  for (;;) {
    // The side with the larger next probability first keeps the search near the mass.
    const nextLo = lo > 0 ? (fLo * lo) / ((n - lo + 1) * ratio) : 0;
    const nextHi = hi < n ? (fHi * (n - hi) * ratio) / (hi + 1) : 0;
    if (nextLo === 0 && nextHi === 0) return u < 0.5 ? lo : hi;
    if (nextHi >= nextLo) {
      hi++;
      fHi = nextHi;
      acc += fHi;
      if (u < acc) return hi;
    } else {
      lo--;
      fLo = nextLo;
      acc += fLo;
      if (u < acc) return lo;
    }
  }
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/** ln k! : exact sums below 256, Stirling's series above (error below 1e-15 relative). */
const LOG_FACTORIALS = (() => {
  const t = new Float64Array(256);
  for (let i = 2; i < 256; i++) t[i] = t[i - 1]! + Math.log(i);
  return t;
})();
function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIALS[k]!;
  const x = k + 1;
  const x2 = 1 / (x * x);
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    (1 / x) * (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 / 1680)))
  );
}

/**
 * An exact multinomial draw of `n` items over cells of sizes `sizes` (probabilities ∝ size), by conditional
 * binomials: the same distribution as drawing n rows uniformly and counting them per cell.
 */
export function multinomialCounts(sizes: ArrayLike<number>, n: number, out: Int32Array, stream: RandomStream): void {
  let remaining = n;
  let weight = 0;
  for (let c = 0; c < sizes.length; c++) weight += sizes[c]!;
  for (let c = 0; c < sizes.length; c++) {
    if (remaining === 0) {
      out[c] = 0;
      continue;
    }
    const s = sizes[c]!;
    const k = c === sizes.length - 1 ? remaining : binomial(remaining, s / weight, stream);
    out[c] = k;
    remaining -= k;
    weight -= s;
  }
}
