import { sortFloat64 } from './stats-util.ts';

/**
 * ROC AUC and average precision of one binary ranking, with optional integer row weights (bootstrap counts).
 * The scores of the positive and of the negative rows are sorted once, apart (a radix sort);
 * a weighted evaluation then walks both in descending order, a distinct score at a time (ties grouped, as
 * scikit-learn's curves do), so a resample costs one linear pass and no sorting.
 */
export class BinaryRanking {
  /** Positive rows' scores, ascending. */
  readonly positives: Float64Array;
  /** Negative rows' scores, ascending. */
  readonly negatives: Float64Array;

  constructor(positives: Float64Array, negatives: Float64Array) {
    this.positives = sortFloat64(positives);
    this.negatives = sortFloat64(negatives);
  }

  /** From per-row scores and a positive flag. */
  static of(scores: ArrayLike<number>, isPositive: (row: number) => boolean): BinaryRanking {
    let p = 0;
    for (let i = 0; i < scores.length; i++) if (isPositive(i)) p++;
    const pos = new Float64Array(p);
    const neg = new Float64Array(scores.length - p);
    let a = 0;
    let b = 0;
    for (let i = 0; i < scores.length; i++) {
      if (isPositive(i)) pos[a++] = scores[i]!;
      else neg[b++] = scores[i]!;
    }
    return new BinaryRanking(pos, neg);
  }

  /**
   * `rocAuc`: the area under the ROC curve (trapezoids, so ties count a half), null when the positives or the
   * negatives weigh nothing. `averagePrecision`: Σ (Rₖ − Rₖ₋₁)·Pₖ over descending distinct thresholds (sklearn's
   * `average_precision_score`), null without positives. Weights, when given, are per row of `positives` and
   * `negatives` in their sorted order.
   */
  evaluate(
    posWeights?: ArrayLike<number>,
    negWeights?: ArrayLike<number>,
  ): { rocAuc: number | null; averagePrecision: number | null } {
    const pos = this.positives;
    const neg = this.negatives;
    let totalPos = 0;
    let totalNeg = 0;
    if (posWeights) for (let i = 0; i < pos.length; i++) totalPos += posWeights[i]!;
    else totalPos = pos.length;
    if (negWeights) for (let i = 0; i < neg.length; i++) totalNeg += negWeights[i]!;
    else totalNeg = neg.length;
    let i = pos.length - 1;
    let j = neg.length - 1;
    let tp = 0;
    let fp = 0;
    let aucSum = 0;
    let ap = 0;
    while (i >= 0 || j >= 0) {
      const pv = i >= 0 ? pos[i]! : -Infinity;
      const nv = j >= 0 ? neg[j]! : -Infinity;
      const v = pv > nv ? pv : nv;
      let wp = 0;
      let wn = 0;
      while (i >= 0 && pos[i] === v) wp += posWeights ? posWeights[i--]! : (i--, 1);
      while (j >= 0 && neg[j] === v) wn += negWeights ? negWeights[j--]! : (j--, 1);
      aucSum += wn * (tp + wp / 2);
      tp += wp;
      fp += wn;
      if (wp > 0) ap += (wp / totalPos) * (tp / (tp + fp));
    }
    return {
      rocAuc: totalPos > 0 && totalNeg > 0 ? aucSum / (totalPos * totalNeg) : null,
      averagePrecision: totalPos > 0 ? ap : null,
    };
  }
}
