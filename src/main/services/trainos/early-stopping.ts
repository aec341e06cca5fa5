import { AppError } from '#shared/errors';
import type { AshaStopping, EarlyStopping, MedianStopping, SweepGoal } from '#shared/sweep-space';

/**
 * Early stopping of a sweep's trials: each trial reports its objective at training steps, and is told whether to go
 * on. The stoppers keep their state in memory; after a restart, `earlyStopper` rebuilds one by replaying the reports
 * recorded so far, in the order they were made.
 *
 * Both stoppers rank by the goal and count a value that is not finite (NaN, a diverged ±∞) as the worst there is:
 * once there is something to compare with, a trial with only such values is stopped, even if others are as bad.
 * A report for a step the trial has already reported is not counted again; it gets the trial's standing answer
 * ('stop' once stopped, else 'continue').
 */

export type StopDecision = 'continue' | 'stop';

export interface EarlyStopper {
  report(trialId: string, step: number, value: number): StopDecision;
}

/** One report as recorded, for rebuilding a stopper. */
export interface StepReport {
  trialId: string;
  step: number;
  value: number;
}

/** The stopper a sweep's config names, with `history` (the reports so far, oldest first) replayed into it. */
export function earlyStopper(
  config: EarlyStopping,
  goal: SweepGoal,
  history: readonly StepReport[] = [],
): EarlyStopper {
  const stopper =
    config.type === 'asha'
      ? ashaStopper(config, goal)
      : config.type === 'median'
        ? medianStopper(config, goal)
        : { report: (): StopDecision => 'continue' };
  for (const r of history) stopper.report(r.trialId, r.step, r.value);
  return stopper;
}

/** Higher is better, whatever the goal; anything not finite is the worst. */
function scoreOf(value: number, goal: SweepGoal): number {
  if (!Number.isFinite(value)) return -Infinity;
  return goal === 'maximize' ? value : -value;
}

/**
 * Asynchronous successive halving (Li et al. 2018, the stopping variant as in Ray Tune and Optuna).
 *
 * Rungs sit at steps minResource × reductionFactor^k, below maxResource (at maxResource a trial is done anyway).
 * A trial's first report at or past a rung records its value there; it goes on only if that value is among the best
 * floor(n / reductionFactor) of the n values recorded at the rung so far (its own included; a tie counts as among them).
 * While fewer than reductionFactor trials have reached a rung, there is nothing to compare with and it goes on. A
 * report that passes several rungs at once is recorded at each in turn, up to the first where the trial falls short.
 */
export function ashaStopper(config: AshaStopping, goal: SweepGoal): EarlyStopper {
  const { minResource, reductionFactor: eta, maxResource } = config;
  if (!(minResource >= 1) || !Number.isInteger(eta) || eta < 2) {
    throw AppError.invalid('earlyStopping', 'ASHA needs minResource ≥ 1 and a whole reductionFactor ≥ 2');
  }
  const rungStep = (k: number) => minResource * eta ** k;
  const isRung = (k: number) => maxResource === undefined || rungStep(k) < maxResource;
  /** Per rung: each trial's score when it reached the rung. */
  const rungs: Map<string, number>[] = [];
  /** Per trial: how many rungs it has been recorded at (the index of the next one). */
  const nextRung = new Map<string, number>();
  const stopped = new Set<string>();

  const promotable = (recorded: Map<string, number>, score: number): boolean => {
    const keep = Math.floor(recorded.size / eta);
    if (keep === 0) return true;
    if (score === -Infinity) return false;
    const threshold = [...recorded.values()].sort((a, b) => b - a)[keep - 1]!;
    return score >= threshold;
  };

  return {
    report(trialId, step, value) {
      if (stopped.has(trialId)) return 'stop';
      const score = scoreOf(value, goal);
      let k = nextRung.get(trialId) ?? 0;
      while (isRung(k) && step >= rungStep(k)) {
        const recorded = (rungs[k] ??= new Map());
        recorded.set(trialId, score);
        k += 1;
        nextRung.set(trialId, k);
        if (!promotable(recorded, score)) {
          stopped.add(trialId);
          return 'stop';
        }
      }
      return 'continue';
    },
  };
}

/**
 * The median rule (Golovin et al. 2017, Google Vizier; Optuna's MedianPruner): from warmupSteps on, a trial is
 * stopped at step s when its best value so far is strictly worse than the median of the other trials' running
 * averages up to s (the mean of their values at steps ≤ s). The others counted are those that have got to s (reported
 * at s or later) and have a value at or before it, stopped trials included; with fewer than minTrials of them, every
 * trial goes on.
 */
export function medianStopper(config: MedianStopping, goal: SweepGoal): EarlyStopper {
  const { warmupSteps, minTrials } = config;
  const curves = new Map<string, Curve>();
  const stopped = new Set<string>();
  return {
    report(trialId, step, value) {
      if (stopped.has(trialId)) return 'stop';
      let curve = curves.get(trialId);
      if (!curve) curves.set(trialId, (curve = new Curve()));
      if (!curve.add(step, scoreOf(value, goal))) return 'continue';
      if (step < warmupSteps) return 'continue';

      const averages: number[] = [];
      for (const [id, other] of curves) {
        if (id === trialId || other.lastStep < step) continue;
        const average = other.averageUpTo(step);
        if (average !== null) averages.push(average);
      }
      if (averages.length < minTrials) return 'continue';
      const best = curve.bestUpTo(step);
      if (best === -Infinity || best < median(averages)) {
        stopped.add(trialId);
        return 'stop';
      }
      return 'continue';
    },
  };
}

/** One trial's scores by step, with running sums and bests so that either costs a binary search. */
class Curve {
  private readonly steps: number[] = [];
  private readonly scores: number[] = [];
  /** sums[i] and bests[i]: the sum and the best of the scores at steps[0..i]. */
  private readonly sums: number[] = [];
  private readonly bests: number[] = [];

  get lastStep(): number {
    return this.steps.at(-1) ?? -Infinity;
  }

  /** Records a score; false, recording nothing, when the step has one already. */
  add(step: number, score: number): boolean {
    const at = this.countUpTo(step);
    if (at > 0 && this.steps[at - 1] === step) return false;
    this.steps.splice(at, 0, step);
    this.scores.splice(at, 0, score);
    // Reports come in step order, so this normally extends the running figures by one.
    this.sums.length = at;
    this.bests.length = at;
    for (let i = at; i < this.scores.length; i++) {
      this.sums.push((this.sums[i - 1] ?? 0) + this.scores[i]!);
      this.bests.push(Math.max(this.bests[i - 1] ?? -Infinity, this.scores[i]!));
    }
    return true;
  }

  /** The mean score at steps ≤ step, or null when there is none. -∞ (a value not finite) stays -∞. */
  averageUpTo(step: number): number | null {
    const n = this.countUpTo(step);
    return n === 0 ? null : this.sums[n - 1]! / n;
  }

  /** The best score at steps ≤ step (-∞ when there is none). */
  bestUpTo(step: number): number {
    return this.bests[this.countUpTo(step) - 1] ?? -Infinity;
  }

  /** How many recorded steps are ≤ step. */
  private countUpTo(step: number): number {
    let [lo, hi] = [0, this.steps.length];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.steps[mid]! <= step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  // Averaging two -∞ gives -∞, never NaN: scores are finite or -∞.
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
