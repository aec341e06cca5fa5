/*
 * The Poisson bootstrap's walks (../poisson-walk.ts), four resamples at a time in WebAssembly SIMD. Built into
 * poisson-walk-wasm.ts by `npm run wasm` (clang --target=wasm32 -msimd128); see docs/decisions/0008.
 *
 * A walk goes down a ranking (descending score) adding each row's Poisson(1) weight to its resample's sums, as
 * a plain scalar walk would: each resample's sums are added in the same order with the same operations (no
 * fused multiply-add exists in this target), less those that add an exact zero, so every replicate is bit for bit
 * the scalar walk's. Four resamples share each row's type and log loss, which is what makes them vectorise: their
 * random states sit in the four lanes of i32x4 vectors, their sums in two f64x2 vectors each.
 *
 * walk4 (binary) draws the weights from each resample's xoshiro128** stream in walk order (two rows from 16
 * bits). walkHashed4 (one-vs-rest rankings of several classes) needs the same row's weight in every class's
 * order, so it hashes (resample keys, row) to 32 bits instead.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/* poisson.ts: a bucket of the pair table that two outcomes share, finished by the resample's own stream. */
#define STRADDLES 255
/* bootstrap.ts's row type flags. */
#define TYPE_TRUTH 1
#define TYPE_GROUP_END 4

/* Imported from JS: the pair (a | b << 4) of a straddling bucket, drawn from resample `resample`'s stream. */
extern unsigned straddle(int resample, unsigned bucket);

static inline v128_t rotl(v128_t x, int k) { return wasm_v128_or(wasm_i32x4_shl(x, k), wasm_u32x4_shr(x, 32 - k)); }

/* The running sums of a walk, in the order of `acc`: 7 of them, 4 lanes each. */
enum { WP, WN, TP, FP, AUC, AP, LL, SUMS };

/* The sums of four resamples: lanes 0-1 in the `a` vectors, 2-3 in the `b` ones. */
static inline void load(const double *acc, v128_t *a, v128_t *b) {
  for (int k = 0; k < SUMS; k++) {
    a[k] = wasm_v128_load(acc + k * 4);
    b[k] = wasm_v128_load(acc + k * 4 + 2);
  }
}

static inline void store(double *acc, const v128_t *a, const v128_t *b) {
  for (int k = 0; k < SUMS; k++) {
    wasm_v128_store(acc + k * 4, a[k]);
    wasm_v128_store(acc + k * 4 + 2, b[k]);
  }
}

/*
 * One row of a walk: weights w32 (i32x4, one a resample) of a row of type `ty` and log loss `rowLogLoss` (added
 * when `withLogLoss`). `open` says whether a group of tied rows is open, i.e. WP or WN may hold weight; returns
 * whether one is open after this row.
 */
static inline int step(v128_t *a, v128_t *b, v128_t w32, unsigned ty, double rowLogLoss, int withLogLoss, int open) {
  const v128_t half = wasm_f64x2_splat(0.5), one = wasm_f64x2_splat(1), zero = wasm_f64x2_splat(0);
  const v128_t wA = wasm_f64x2_convert_low_i32x4(w32);
  const v128_t wB = wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(w32, w32, 2, 3, 2, 3));
  if (withLogLoss) {
    const v128_t ll = wasm_f64x2_splat(rowLogLoss);
    a[LL] = wasm_f64x2_add(a[LL], wasm_f64x2_mul(wA, ll));
    b[LL] = wasm_f64x2_add(b[LL], wasm_f64x2_mul(wB, ll));
  }
  if (!open && (ty & TYPE_GROUP_END)) {
    /* A group of one row (all rows, when scores are distinct): the update below with WP and WN zero, left out
     * where it adds an exact zero (x + 0·y is x, w·1 is w), so the sums are bit for bit the same. */
    if (ty & TYPE_TRUTH) {
      a[TP] = wasm_f64x2_add(a[TP], wA);
      b[TP] = wasm_f64x2_add(b[TP], wB);
      a[AP] = wasm_f64x2_add(
          a[AP], wasm_f64x2_div(wasm_f64x2_mul(wA, a[TP]), wasm_f64x2_pmax(wasm_f64x2_add(a[TP], a[FP]), one)));
      b[AP] = wasm_f64x2_add(
          b[AP], wasm_f64x2_div(wasm_f64x2_mul(wB, b[TP]), wasm_f64x2_pmax(wasm_f64x2_add(b[TP], b[FP]), one)));
    } else {
      a[AUC] = wasm_f64x2_add(a[AUC], wasm_f64x2_mul(wA, a[TP]));
      b[AUC] = wasm_f64x2_add(b[AUC], wasm_f64x2_mul(wB, b[TP]));
      a[FP] = wasm_f64x2_add(a[FP], wA);
      b[FP] = wasm_f64x2_add(b[FP], wB);
    }
    return 0;
  }
  const v128_t positive = wasm_f64x2_splat((double)(ty & TYPE_TRUTH));
  const v128_t wPosA = wasm_f64x2_mul(wA, positive), wPosB = wasm_f64x2_mul(wB, positive);
  a[WP] = wasm_f64x2_add(a[WP], wPosA);
  b[WP] = wasm_f64x2_add(b[WP], wPosB);
  a[WN] = wasm_f64x2_add(a[WN], wasm_f64x2_sub(wA, wPosA));
  b[WN] = wasm_f64x2_add(b[WN], wasm_f64x2_sub(wB, wPosB));
  if (!(ty & TYPE_GROUP_END)) return 1;
  /* auc += wn · (tp + wp / 2); tp += wp; fp += wn; ap += wp · tp / max(tp + fp, 1); the group closes. */
  a[AUC] = wasm_f64x2_add(a[AUC], wasm_f64x2_mul(a[WN], wasm_f64x2_add(a[TP], wasm_f64x2_mul(a[WP], half))));
  b[AUC] = wasm_f64x2_add(b[AUC], wasm_f64x2_mul(b[WN], wasm_f64x2_add(b[TP], wasm_f64x2_mul(b[WP], half))));
  a[TP] = wasm_f64x2_add(a[TP], a[WP]);
  b[TP] = wasm_f64x2_add(b[TP], b[WP]);
  a[FP] = wasm_f64x2_add(a[FP], a[WN]);
  b[FP] = wasm_f64x2_add(b[FP], b[WN]);
  a[AP] = wasm_f64x2_add(
      a[AP], wasm_f64x2_div(wasm_f64x2_mul(a[WP], a[TP]), wasm_f64x2_pmax(wasm_f64x2_add(a[TP], a[FP]), one)));
  b[AP] = wasm_f64x2_add(
      b[AP], wasm_f64x2_div(wasm_f64x2_mul(b[WP], b[TP]), wasm_f64x2_pmax(wasm_f64x2_add(b[TP], b[FP]), one)));
  a[WP] = b[WP] = a[WN] = b[WN] = zero;
  return 0;
}

/* Whether a group of tied rows is open in the sums carried over from the previous piece. */
static inline int groupOpen(const v128_t *a, const v128_t *b) {
  return wasm_v128_any_true(wasm_v128_or(wasm_v128_or(a[WP], b[WP]), wasm_v128_or(a[WN], b[WN])));
}

/* lowbias32 (C. Wellons): a bijective 32-bit mix with near-ideal avalanche, per lane. */
static inline v128_t mix(v128_t x) {
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat(0x7feb352d));
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 15));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat((int)0x846ca68b));
  return wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
}

/*
 * Walks rows [lo, hi) downwards for four resamples (lanes 0-3 of call `group`), carrying their sums over from the
 * previous piece: `state` holds xoshiro128**'s s0..s3 as four lanes each (16 words), `acc` the sums as four
 * lanes each (28 doubles), `weights` scratch of 4 bytes a row. The weights of the whole piece are drawn first
 * (the table lookups are per lane), then the rows are walked with all four resamples at once.
 */
void walk4(const uint8_t *type, const double *logLoss, const uint8_t *pairs, int lo, int hi, uint32_t *state,
           double *acc, uint8_t *weights, int group) {
  const int len = hi - lo;
  v128_t s0 = wasm_v128_load(state), s1 = wasm_v128_load(state + 4), s2 = wasm_v128_load(state + 8),
         s3 = wasm_v128_load(state + 12);
  for (int j = 0; j < len; j += 4) {
    v128_t bits = wasm_i32x4_mul(rotl(wasm_i32x4_mul(s1, wasm_i32x4_splat(5)), 7), wasm_i32x4_splat(9));
    v128_t t = wasm_i32x4_shl(s1, 9);
    s2 = wasm_v128_xor(s2, s0);
    s3 = wasm_v128_xor(s3, s1);
    s1 = wasm_v128_xor(s1, s2);
    s0 = wasm_v128_xor(s0, s3);
    s2 = wasm_v128_xor(s2, t);
    s3 = rotl(s3, 11);
    uint32_t out[4];
    wasm_v128_store(out, bits);
    uint8_t *w = weights + j * 4;
    for (int lane = 0; lane < 4; lane++) {
      /* Rows j, j + 1 from the low 16 bits; rows j + 2, j + 3 from the high 16, drawn only when row j + 2 exists
       * (a straddle draws from the stream, so a draw the scalar walk did not make must not happen here). */
      unsigned bucket = out[lane] & 0xffff;
      unsigned pair = pairs[bucket];
      if (pair == STRADDLES) pair = straddle(group * 4 + lane, bucket);
      w[lane] = pair & 15;
      w[4 + lane] = pair >> 4;
      if (j + 2 < len) {
        bucket = out[lane] >> 16;
        pair = pairs[bucket];
        if (pair == STRADDLES) pair = straddle(group * 4 + lane, bucket);
        w[8 + lane] = pair & 15;
        w[12 + lane] = pair >> 4;
      }
    }
  }
  wasm_v128_store(state, s0);
  wasm_v128_store(state + 4, s1);
  wasm_v128_store(state + 8, s2);
  wasm_v128_store(state + 12, s3);

  v128_t a[SUMS], b[SUMS];
  load(acc, a, b);
  int open = groupOpen(a, b);
  for (int j = 0; j < len; j++) {
    const int r = hi - 1 - j;
    const v128_t w32 = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(weights + j * 4)));
    open = step(a, b, w32, type[r], logLoss[r], 1, open);
  }
  store(acc, a, b);
}

/*
 * P(Poisson(1) ≤ k) · 2³², rounded, for k = 0..11: a uniform 32-bit u weighs #{k : u ≥ T_k}, so P(weight = k) is
 * Poisson(1)'s to within 2⁻³² (and weights above 12, chance 6·10⁻¹¹, are left out).
 */
static const uint32_t POISSON_CDF32[12] = {1580030169u, 3160060337u, 3950075422u, 4213413783u, 4279248374u, 4292415292u,
                                           4294609778u, 4294923276u, 4294962463u, 4294966817u, 4294967253u, 4294967292u};

/* The signed bound that u (sign bit flipped) exceeds exactly when u ≥ POISSON_CDF32[k] (all are above 0). */
static inline int32_t atLeast(int k) { return (int32_t)(POISSON_CDF32[k] ^ 0x80000000u) - 1; }

/* Rows in a block of the hashed walk: their weights (16 bytes each) stay in L1. */
#define HASHED_BLOCK 64

/*
 * The Poisson(1) weights of row r for the four resamples of keys k1, k2 (lanes): the inverse of POISSON_CDF32 at
 * u = mix(mix(r ^ k1) ^ k2).
 */
static inline v128_t hashedWeights(int32_t r, v128_t k1, v128_t k2) {
  /* u with its sign bit flipped, compared signed: u ≥ T_k as one signed "greater than" (SIMD has no unsigned
   * compare on x86; wasm's u32x4.ge costs two instructions there). */
  const v128_t u = wasm_v128_xor(mix(wasm_v128_xor(mix(wasm_v128_xor(wasm_i32x4_splat(r), k1)), k2)),
                                 wasm_i32x4_splat(INT32_MIN));
  /* Each comparison is all ones (−1) where u ≥ T_k: the weight is minus their sum. Weights of 4 and more (1.9 %
   * a lane) take the rest of the table on a branch of their own, which keeps the common path short. */
  const v128_t fourPlus = wasm_i32x4_gt(u, wasm_i32x4_splat(atLeast(3)));
  v128_t negative = wasm_i32x4_add(wasm_i32x4_gt(u, wasm_i32x4_splat(atLeast(0))), wasm_i32x4_gt(u, wasm_i32x4_splat(atLeast(1))));
  negative = wasm_i32x4_add(negative, wasm_i32x4_add(wasm_i32x4_gt(u, wasm_i32x4_splat(atLeast(2))), fourPlus));
  if (wasm_v128_any_true(fourPlus)) {
    for (int k = 4; k < 12; k++) negative = wasm_i32x4_add(negative, wasm_i32x4_gt(u, wasm_i32x4_splat(atLeast(k))));
  }
  return wasm_i32x4_neg(negative);
}

/*
 * Walks positions [lo, hi) of one class's ranking downwards for four resamples (lanes 0-3 of call `group`),
 * carrying their sums over from the previous piece: `order` holds the rows in ascending order of that class's
 * score, `type` their flags (TYPE_TRUTH: the row is of the class), `logLoss` (or null) the rows' log loss in the
 * same order. Row r's weight is the inverse of POISSON_CDF32 at u = mix(mix(r ^ k1) ^ k2), with per-resample keys
 * k1, k2 (`keys`: k1 as four lanes, then k2): all in the vector lanes, no table and no per-lane step.
 */
void walkHashed4(const int32_t *order, const uint8_t *type, const double *logLoss, int lo, int hi, const uint32_t *keys,
                 double *acc) {
  const v128_t k1 = wasm_v128_load(keys), k2 = wasm_v128_load(keys + 4);
  v128_t a[SUMS], b[SUMS];
  load(acc, a, b);
  int open = groupOpen(a, b);
  const int withLogLoss = logLoss != 0;
  /* The weights of a block of rows first, then the walk over them: each row's hash is a long chain of multiplies
   * that depends on nothing before it, and a loop of hashes alone lets the processor run many of them at once. */
  v128_t weights[HASHED_BLOCK];
  for (int top = hi; top > lo; top -= HASHED_BLOCK) {
    const int bottom = top - HASHED_BLOCK > lo ? top - HASHED_BLOCK : lo;
    for (int j = top - 1; j >= bottom; j--) weights[top - 1 - j] = hashedWeights(order[j], k1, k2);
    for (int j = top - 1; j >= bottom; j--)
      open = step(a, b, weights[top - 1 - j], type[j], withLogLoss ? logLoss[j] : 0, withLogLoss, open);
  }
  store(acc, a, b);
}
