import { describe, expect, it } from 'vitest';
import { POISSON_PAIRS, poissonPairIn, poissonStreams, STRADDLES } from './poisson.ts';
import { hashedKeys, poissonWalk, poissonWalkClasses } from './poisson-walk.ts';
import { RandomStream } from './random.ts';

/**
 * The walk written out plainly, one resample and one row at a time: each 32-bit xoshiro128** output weighs the next
 * four rows of a piece (low 16 bits two rows, high 16 the next two), pieces of 8192 rows from the top.
 */
function plainWalk(type: Uint8Array, logLoss: Float64Array, seed: number, from: number, to: number) {
  const { words, streams } = poissonStreams(seed, from, to);
  let straddles = 0;
  const sums = [];
  for (let o = 0; o < to - from; o++) {
    let [s0, s1, s2, s3] = [0, 1, 2, 3].map((j) => words[o * 4 + j]! >>> 0) as [number, number, number, number];
    const next = () => {
      const out = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 = (s2 ^ s0) >>> 0;
      s3 = (s3 ^ s1) >>> 0;
      s1 = (s1 ^ s2) >>> 0;
      s0 = (s0 ^ s3) >>> 0;
      s2 = (s2 ^ t) >>> 0;
      s3 = rotl(s3, 11);
      return out;
    };
    const pair = (bucket: number) => {
      if (POISSON_PAIRS[bucket] !== STRADDLES) return POISSON_PAIRS[bucket]!;
      straddles++;
      return poissonPairIn(bucket, streams[o]!);
    };
    const weights = new Uint8Array(type.length);
    for (let hi = type.length; hi > 0; hi -= 8192) {
      const lo = Math.max(0, hi - 8192);
      for (let j = 0; j < hi - lo; j += 4) {
        const out = next();
        const low = pair(out & 0xffff);
        weights[hi - 1 - j] = low & 15;
        if (hi - 2 - j >= lo) weights[hi - 2 - j] = low >> 4;
        if (hi - 3 - j < lo) continue;
        const high = pair(out >>> 16);
        weights[hi - 3 - j] = high & 15;
        if (hi - 4 - j >= lo) weights[hi - 4 - j] = high >> 4;
      }
    }
    let [wp, wn, tp, fp, auc, ap, ll] = [0, 0, 0, 0, 0, 0, 0];
    for (let r = type.length - 1; r >= 0; r--) {
      const w = weights[r]!;
      const wPos = w * (type[r]! & 1);
      wp += wPos;
      wn += w - wPos;
      ll += w * logLoss[r]!;
      if (type[r]! & 4) {
        auc += wn * (tp + wp / 2);
        tp += wp;
        fp += wn;
        ap += (wp * tp) / Math.max(tp + fp, 1);
        wp = wn = 0;
      }
    }
    sums.push({ tp, fp, auc, ap, ll });
  }
  return { sums, straddles };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

describe('the Poisson bootstrap walk (WebAssembly SIMD)', () => {
  it('gives every resample exactly the sums of a plain walk over the same weights, straddles and ties included', () => {
    // Three pieces, the last of 3 rows (half a random word); 7 resamples (a group of four and one of three);
    // every third row ties with the next (its group stays open).
    const n = 2 * 8192 + 3;
    const r = new RandomStream(3);
    const type = Uint8Array.from(
      { length: n },
      (_, i) => (r.uniform() < 0.4 ? 1 : 0) | (r.uniform() < 0.5 ? 2 : 0) | (i % 3 === 1 ? 0 : 4),
    );
    const logLoss = Float64Array.from({ length: n }, () => -Math.log(r.uniform()));
    const plain = plainWalk(type, logLoss, 21, 5, 12);
    expect(plain.straddles).toBeGreaterThan(0);
    const walked = poissonWalk(type, logLoss, poissonStreams(21, 5, 12));
    plain.sums.forEach((s, o) => {
      expect([walked.tp[o], walked.fp[o], walked.auc[o], walked.ap[o], walked.logLoss[o]], `resample ${o}`).toEqual([
        s.tp,
        s.fp,
        s.auc,
        s.ap,
        s.ll,
      ]);
    });
    // The class totals are the resample's weights: about n in all (Poisson(1) each).
    expect(Math.abs(walked.tp[0]! + walked.fp[0]! - n)).toBeLessThan(5 * Math.sqrt(n));
  });

  it('walks each class ranking with one Poisson(1) weight per row, hashed from the resample keys and the row', () => {
    const n = 8192 + 77;
    const r = new RandomStream(4);
    const labels = Int32Array.from({ length: n }, () => Math.floor(r.uniform() * 3));
    const logLoss = Float64Array.from({ length: n }, () => r.uniform());
    // Class c's ranking: a random order; rows of class c are its positives; every fifth position ties with the next.
    const orders = [0, 1, 2].map(() => {
      const order = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r.uniform() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order;
    });
    const flags = orders.map((order, c) =>
      Uint8Array.from(order, (row, j) => (labels[row] === c ? 1 : 0) | (j % 5 === 1 ? 0 : 4)),
    );
    const resamples = 6;
    const keys = new Uint32Array(resamples * 2);
    for (let o = 0; o < resamples; o++) [keys[o * 2], keys[o * 2 + 1]] = hashedKeys(new RandomStream(2, o));
    const walked = poissonWalkClasses({ orders, flags, logLoss }, keys);
    // Classes walked a batch of one at a time (each batch hashing the weights again) sum the same.
    expect(poissonWalkClasses({ orders, flags, logLoss }, keys, n * 5)).toEqual(walked);

    // P(Poisson(1) ≤ k) in 32 bits, and lowbias32.
    const cdf: number[] = [];
    for (let k = 0, p = Math.exp(-1), total = 0; k < 12; k++, p /= k) cdf.push(Math.round((total += p) * 2 ** 32));
    const mix = (x: number) => {
      x = (x ^ (x >>> 16)) >>> 0;
      x = Math.imul(x, 0x7feb352d) >>> 0;
      x = (x ^ (x >>> 15)) >>> 0;
      x = Math.imul(x, 0x846ca68b) >>> 0;
      return (x ^ (x >>> 16)) >>> 0;
    };
    const counts = new Array(13).fill(0);
    for (let o = 0; o < resamples; o++) {
      const weight = (row: number) => {
        const u = mix((mix((row ^ keys[o * 2]!) >>> 0) ^ keys[o * 2 + 1]!) >>> 0);
        return cdf.filter((t) => u >= t).length;
      };
      for (let row = 0; row < n; row++) counts[weight(row)]++;
      orders.forEach((order, c) => {
        let [wp, wn, tp, fp, auc, ap, ll] = [0, 0, 0, 0, 0, 0, 0];
        for (let j = n - 1; j >= 0; j--) {
          const w = weight(order[j]!);
          const wPos = w * (flags[c]![j]! & 1);
          wp += wPos;
          wn += w - wPos;
          if (c === 0) ll += w * logLoss[order[j]!]!;
          if (flags[c]![j]! & 4) {
            auc += wn * (tp + wp / 2);
            tp += wp;
            fp += wn;
            ap += (wp * tp) / Math.max(tp + fp, 1);
            wp = wn = 0;
          }
        }
        const got = walked[c]!;
        expect([got.tp[o], got.fp[o], got.auc[o], got.ap[o], got.logLoss[o]], `class ${c}, resample ${o}`).toEqual([
          tp,
          fp,
          auc,
          ap,
          ll,
        ]);
      });
    }
    // The weights are Poisson(1): 0, 1, 2, 3 in proportions e⁻¹, e⁻¹, e⁻¹/2, e⁻¹/6 (±4 standard errors).
    const total = n * resamples;
    [1, 1, 1 / 2, 1 / 6].forEach((f, k) => {
      const p = Math.exp(-1) * f;
      expect(Math.abs(counts[k] / total - p), `weight ${k}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / total));
    });
  });
});
