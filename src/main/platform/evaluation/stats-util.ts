/** Small numeric helpers shared by the evaluation modules. */

/**
 * The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` by linear interpolation between closest ranks, as numpy's
 * default `percentile(a, 100q)` (including its two-sided lerp, so results agree to the last bit).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const index = (n - 1) * q;
  const lo = Math.floor(index);
  const hi = Math.min(lo + 1, n - 1);
  const t = index - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Σ of a column (Neumaier-compensated: results do not depend on the order or size of the data). */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** The index of the first element of ascending `edges` that is ≥ x (numpy `searchsorted(edges, x, 'left')`). */
export function searchLeft(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The permutation that sorts `values` ascending (an LSD radix sort over the float bits, 16 bits a pass: about
 * ten times faster than a comparator sort of indices on a million rows). Equal values keep their row order;
 * −0 sorts before +0 (they compare equal, so tie grouping sees one value). NaN must have been refused.
 */
export function argsortFloat64(values: Float64Array): Int32Array {
  return radixSortFloat64(values, true).idx!;
}

/**
 * Sorts `values` ascending in place and returns it: the radix sort of argsortFloat64 without the permutation,
 * ~3× faster than the typed array's own sort on a million values. NaN must have been refused.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const { hi, lo } = radixSortFloat64(values, false);
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = hi[i]!;
    if (h & 0x80000000) {
      words[2 * i + 1] = (h & 0x7fffffff) >>> 0;
      words[2 * i] = lo[i]!;
    } else {
      words[2 * i + 1] = ~h >>> 0;
      words[2 * i] = ~lo[i]! >>> 0;
    }
  }
  return values;
}

/**
 * The values' bits as unsigned keys in ascending order (high and low words; negatives flipped whole, positives'
 * sign bit set) and, with `withIndex`, the rows they came from: four stable counting passes of 16 bits, a pass
 * skipped when every key has the same digit.
 */
function radixSortFloat64(
  values: Float64Array,
  withIndex: boolean,
): { hi: Uint32Array; lo: Uint32Array; idx: Int32Array | null } {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  let idx = withIndex ? new Int32Array(n) : null;
  for (let i = 0; i < n; i++) {
    let h = words[2 * i + 1]!;
    let l = words[2 * i]!;
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  if (idx) for (let i = 0; i < n; i++) idx[i] = i;
  let hi2 = new Uint32Array(n);
  let lo2 = new Uint32Array(n);
  let idx2 = withIndex ? new Int32Array(n) : null;
  const count = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(key[i]! >>> shift) & 0xffff]!++;
    if (n > 0 && count[(key[0]! >>> shift) & 0xffff] === n) continue;
    let total = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = total;
      total += c;
    }
    if (idx && idx2) {
      for (let i = 0; i < n; i++) {
        const d = (key[i]! >>> shift) & 0xffff;
        const to = count[d]!++;
        hi2[to] = hi[i]!;
        lo2[to] = lo[i]!;
        idx2[to] = idx[i]!;
      }
      [idx, idx2] = [idx2, idx];
    } else {
      for (let i = 0; i < n; i++) {
        const d = (key[i]! >>> shift) & 0xffff;
        const to = count[d]!++;
        hi2[to] = hi[i]!;
        lo2[to] = lo[i]!;
      }
    }
    [hi, hi2] = [hi2, hi];
    [lo, lo2] = [lo2, lo];
  }
  return { hi, lo, idx };
}
