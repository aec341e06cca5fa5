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
 * bits). The one-vs-rest rankings of several classes need the same row's weight in every class's order, so
 * hashRows4 hashes (resample keys, row) to 32 bits once per row instead, and walkRanked4 reads those weights in
 * each class's order.
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

/*
 * The sums of four resamples, lanes 0-1 in the `A` vectors and 2-3 in the `B` ones. WP and WN (the weight of the
 * open group of tied rows) are only touched inside a group; a row of its own (every row, when scores are distinct)
 * leaves them out of the loop, so the sums it does update stay in registers (x64 has 16 vector registers).
 */
typedef struct {
  v128_t wpA, wpB, wnA, wnB, tpA, tpB, fpA, fpB, aucA, aucB, apA, apB, llA, llB;
} Sums;

static inline Sums load(const double *acc) {
  Sums s;
  v128_t *const fields[SUMS][2] = {{&s.wpA, &s.wpB}, {&s.wnA, &s.wnB}, {&s.tpA, &s.tpB},   {&s.fpA, &s.fpB},
                                   {&s.aucA, &s.aucB}, {&s.apA, &s.apB}, {&s.llA, &s.llB}};
  for (int k = 0; k < SUMS; k++) {
    *fields[k][0] = wasm_v128_load(acc + k * 4);
    *fields[k][1] = wasm_v128_load(acc + k * 4 + 2);
  }
  return s;
}

static inline void store(double *acc, Sums s) {
  const v128_t fields[SUMS][2] = {{s.wpA, s.wpB}, {s.wnA, s.wnB}, {s.tpA, s.tpB}, {s.fpA, s.fpB},
                                  {s.aucA, s.aucB}, {s.apA, s.apB}, {s.llA, s.llB}};
  for (int k = 0; k < SUMS; k++) {
    wasm_v128_store(acc + k * 4, fields[k][0]);
    wasm_v128_store(acc + k * 4 + 2, fields[k][1]);
  }
}

/* Where the weights of position j are: at weights[4 index[j]], or with `index` null at weights[4 (j - lo)]. */
typedef struct {
  const int32_t *index;
  const uint8_t *weights;
  int lo;
} WeightsAt;

/* Position j's weights as i32x4, one a resample. */
static inline v128_t weightsOf(WeightsAt at, int j) {
  const uint8_t *w = at.weights + 4 * (at.index ? at.index[j] : j - at.lo);
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(w)));
}

/* The weights as doubles: lanes 0-1, 2-3. */
static inline v128_t lowHalf(v128_t w32) { return wasm_f64x2_convert_low_i32x4(w32); }
static inline v128_t highHalf(v128_t w32) { return wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(w32, w32, 2, 3, 2, 3)); }

/* Σ w · log loss: a row's weights (lanes 0-1, 2-3) times its log loss. */
static inline void addLogLoss(Sums *s, v128_t wA, v128_t wB, double rowLogLoss) {
  const v128_t ll = wasm_f64x2_splat(rowLogLoss);
  s->llA = wasm_f64x2_add(s->llA, wasm_f64x2_mul(wA, ll));
  s->llB = wasm_f64x2_add(s->llB, wasm_f64x2_mul(wB, ll));
}

/* ap += wp · tp / max(tp + fp, 1): positive weight wp (lanes 0-1, 2-3) at the precision of the rows so far. */
static inline void addPrecision(Sums *s, v128_t wpA, v128_t wpB) {
  const v128_t one = wasm_f64x2_splat(1);
  s->apA = wasm_f64x2_add(
      s->apA, wasm_f64x2_div(wasm_f64x2_mul(wpA, s->tpA), wasm_f64x2_pmax(wasm_f64x2_add(s->tpA, s->fpA), one)));
  s->apB = wasm_f64x2_add(
      s->apB, wasm_f64x2_div(wasm_f64x2_mul(wpB, s->tpB), wasm_f64x2_pmax(wasm_f64x2_add(s->tpB, s->fpB), one)));
}

/*
 * Walks positions [lo, hi) downwards (descending score), carrying the sums over from the previous piece: `type`
 * holds each position's flags, `logLoss` (added when `withLogLoss`) its row's log loss.
 */
static inline void walkRows(Sums *sums, const uint8_t *type, const double *logLoss, int withLogLoss, WeightsAt at,
                            int lo, int hi) {
  const v128_t half = wasm_f64x2_splat(0.5), zero = wasm_f64x2_splat(0);
  Sums s = *sums;
  /* A group of tied rows is open when WP or WN holds weight (one the previous piece did not finish). */
  int open = wasm_v128_any_true(wasm_v128_or(wasm_v128_or(s.wpA, s.wpB), wasm_v128_or(s.wnA, s.wnB)));
  int j = hi - 1;
  while (j >= lo) {
    if (!open && (type[j] & TYPE_GROUP_END)) {
      /* A group of one row (every row, when scores are distinct): the group update below with WP and WN zero,
       * less the additions of exact zeros (x + 0·y is x, w·1 is w). */
      const unsigned ty = type[j];
      const v128_t w32 = weightsOf(at, j);
      const v128_t wA = lowHalf(w32), wB = highHalf(w32);
      if (withLogLoss) addLogLoss(&s, wA, wB, logLoss[j]);
      if (ty & TYPE_TRUTH) {
        s.tpA = wasm_f64x2_add(s.tpA, wA);
        s.tpB = wasm_f64x2_add(s.tpB, wB);
        addPrecision(&s, wA, wB);
      } else {
        s.aucA = wasm_f64x2_add(s.aucA, wasm_f64x2_mul(wA, s.tpA));
        s.aucB = wasm_f64x2_add(s.aucB, wasm_f64x2_mul(wB, s.tpB));
        s.fpA = wasm_f64x2_add(s.fpA, wA);
        s.fpB = wasm_f64x2_add(s.fpB, wB);
      }
      j--;
      continue;
    }
    /* A group of tied rows, in a loop of its own: WP and WN live only here. */
    v128_t wpA = s.wpA, wpB = s.wpB, wnA = s.wnA, wnB = s.wnB;
    unsigned ty;
    do {
      ty = type[j];
      const v128_t w32 = weightsOf(at, j);
      const v128_t wA = lowHalf(w32), wB = highHalf(w32);
      if (withLogLoss) addLogLoss(&s, wA, wB, logLoss[j]);
      const v128_t positive = wasm_f64x2_splat((double)(ty & TYPE_TRUTH));
      const v128_t wPosA = wasm_f64x2_mul(wA, positive), wPosB = wasm_f64x2_mul(wB, positive);
      wpA = wasm_f64x2_add(wpA, wPosA);
      wpB = wasm_f64x2_add(wpB, wPosB);
      wnA = wasm_f64x2_add(wnA, wasm_f64x2_sub(wA, wPosA));
      wnB = wasm_f64x2_add(wnB, wasm_f64x2_sub(wB, wPosB));
      j--;
    } while (!(ty & TYPE_GROUP_END) && j >= lo);
    if (!(ty & TYPE_GROUP_END)) {
      /* The piece ends inside the group: the next piece finishes it. */
      s.wpA = wpA, s.wpB = wpB, s.wnA = wnA, s.wnB = wnB;
      break;
    }
    /* auc += wn · (tp + wp / 2); tp += wp; fp += wn; ap += wp · tp / max(tp + fp, 1); the group closes. */
    s.aucA = wasm_f64x2_add(s.aucA, wasm_f64x2_mul(wnA, wasm_f64x2_add(s.tpA, wasm_f64x2_mul(wpA, half))));
    s.aucB = wasm_f64x2_add(s.aucB, wasm_f64x2_mul(wnB, wasm_f64x2_add(s.tpB, wasm_f64x2_mul(wpB, half))));
    s.tpA = wasm_f64x2_add(s.tpA, wpA);
    s.tpB = wasm_f64x2_add(s.tpB, wpB);
    s.fpA = wasm_f64x2_add(s.fpA, wnA);
    s.fpB = wasm_f64x2_add(s.fpB, wnB);
    addPrecision(&s, wpA, wpB);
    s.wpA = s.wpB = s.wnA = s.wnB = zero;
    open = 0;
  }
  *sums = s;
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
    /* Row hi - 1 - j's weights go to weights[4 (hi - 1 - j - lo)]: four rows a draw, the first the highest. */
    uint8_t *w = weights + (len - 1 - j) * 4;
    for (int lane = 0; lane < 4; lane++) {
      /* Rows j, j + 1 from the low 16 bits; rows j + 2, j + 3 from the high 16, drawn only when row j + 2 exists
       * (a straddle draws from the stream, so a draw the scalar walk did not make must not happen here). */
      unsigned bucket = out[lane] & 0xffff;
      unsigned pair = pairs[bucket];
      if (pair == STRADDLES) pair = straddle(group * 4 + lane, bucket);
      w[lane] = pair & 15;
      if (j + 1 < len) w[lane - 4] = pair >> 4;
      if (j + 2 < len) {
        bucket = out[lane] >> 16;
        pair = pairs[bucket];
        if (pair == STRADDLES) pair = straddle(group * 4 + lane, bucket);
        w[lane - 8] = pair & 15;
        if (j + 3 < len) w[lane - 12] = pair >> 4;
      }
    }
  }
  wasm_v128_store(state, s0);
  wasm_v128_store(state + 4, s1);
  wasm_v128_store(state + 8, s2);
  wasm_v128_store(state + 12, s3);

  Sums sums = load(acc);
  walkRows(&sums, type, logLoss, 1, (WeightsAt){0, weights, lo}, lo, hi);
  store(acc, sums);
}

/*
 * P(Poisson(1) ≤ k) · 2³², rounded, for k = 0..11: a uniform 32-bit u weighs #{k : u ≥ T_k}, so P(weight = k) is
 * Poisson(1)'s to within 2⁻³² (and weights above 12, chance 6·10⁻¹¹, are left out).
 */
static const uint32_t POISSON_CDF32[12] = {1580030169u, 3160060337u, 3950075422u, 4213413783u, 4279248374u, 4292415292u,
                                           4294609778u, 4294923276u, 4294962463u, 4294966817u, 4294967253u, 4294967292u};

/* The signed bound that u (sign bit flipped) exceeds exactly when u ≥ POISSON_CDF32[k] (all are above 0). */
static inline int32_t atLeast(int k) { return (int32_t)(POISSON_CDF32[k] ^ 0x80000000u) - 1; }

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
 * The weights of the rows at positions [lo, hi) of class 0's ranking (`rows`: the rows in ascending order of class
 * 0's score) for the four resamples of keys k1, k2 (`keys`: k1 as four lanes, then k2), a byte a resample: position
 * j's at weights[4j .. 4j + 3]. Row r's weight is the inverse of POISSON_CDF32 at u = mix(mix(r ^ k1) ^ k2): all in
 * the vector lanes, no table and no per-lane step. Hashed once for every class's walk: each hash is a chain of four
 * dependent multiplies that nothing before it feeds, so the core overlaps the rows' chains.
 */
void hashRows4(const int32_t *rows, int lo, int hi, const uint32_t *keys, uint8_t *weights) {
  const v128_t k1 = wasm_v128_load(keys), k2 = wasm_v128_load(keys + 4);
  for (int j = lo; j < hi; j++) {
    const v128_t w16 = wasm_i16x8_narrow_i32x4(hashedWeights(rows[j], k1, k2), wasm_i32x4_splat(0));
    wasm_v128_store32_lane(weights + 4 * j, wasm_u8x16_narrow_i16x8(w16, w16), 0);
  }
}

/*
 * Walks positions [lo, hi) of one class's ranking downwards for four resamples, carrying their sums over from the
 * previous piece: `type` holds the flags of the ranking's rows (TYPE_TRUTH: the row is of the class), `logLoss` (or
 * null) their log loss, `weights` the weights hashRows4 wrote, and `positions` (null for class 0 itself) each row's
 * position in class 0's ranking, where its weights are: a row weighs the same in every class's walk. Class 0's walk
 * reads the weights in order, the others gather them.
 */
void walkRanked4(const int32_t *positions, const uint8_t *type, const double *logLoss, int lo, int hi,
                 const uint8_t *weights, double *acc) {
  Sums sums = load(acc);
  /* Three copies of the loop: class 0's walk (weights in order, and the log loss added up), and the others. */
  if (!positions) walkRows(&sums, type, logLoss, logLoss != 0, (WeightsAt){0, weights, 0}, lo, hi);
  else if (logLoss) walkRows(&sums, type, logLoss, 1, (WeightsAt){positions, weights, lo}, lo, hi);
  else walkRows(&sums, type, 0, 0, (WeightsAt){positions, weights, lo}, lo, hi);
  store(acc, sums);
}
