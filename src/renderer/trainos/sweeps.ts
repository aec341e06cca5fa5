import type { Sweep, SweepTrial } from '#shared/contracts/trainos';
import type { EarlyStopping, SweepObjective, SweepTrialState } from '#shared/sweep-space';
import type { PlotTrial } from './parallel-coordinates';

export const SWEEPS_PATH = '/training/sweeps';

/** A sweep's page: a query parameter of the sweeps list's route, as a training job's page is of the queue's. */
export function sweepPath(sweepId: string): string {
  return `${SWEEPS_PATH}?sweep=${sweepId}`;
}

/** Query keys of the sweep pages, under TrainOS's area; kept here beside the only code that uses them. */
export const sweepQueryKeys = {
  lists: ['trainos', 'sweeps', 'list'] as const,
  one: (id: string) => ['trainos', 'sweeps', 'one', id] as const,
};

type TrialState = SweepTrial['state'];

const ENDED_TRIAL_STATES: ReadonlySet<TrialState> = new Set(['completed', 'failed', 'pruned', 'cancelled']);

export function trialHasEnded(state: TrialState): boolean {
  return ENDED_TRIAL_STATES.has(state);
}

export interface SweepProgress {
  ended: number;
  running: number;
  queued: number;
  /** The trials it will have made when done: maxTrials while running, what it made once it has ended. */
  planned: number;
}

/**
 * How far a sweep has got. Once it has ended, its trials are all it will have (a grid smaller than maxTrials, a
 * cancel): counting against maxTrials then would read as unfinished work.
 */
export function sweepProgress(sweep: Sweep): SweepProgress {
  const count = (state: TrialState) => sweep.trials.filter((t) => t.state === state).length;
  return {
    ended: sweep.trials.filter((t) => trialHasEnded(t.state)).length,
    running: count('running'),
    queued: count('queued'),
    planned: sweep.state === 'running' ? sweep.spec.maxTrials : sweep.trials.length,
  };
}

export function bestTrialOf(sweep: Sweep): SweepTrial | null {
  return sweep.bestTrial === null ? null : (sweep.trials.find((t) => t.number === sweep.bestTrial) ?? null);
}

/** How a trial is named on the chart and in the table. */
export function trialLabel(number: number): string {
  return `#${number}`;
}

/**
 * A trial as the chart draws it. The chart knows the search's states only: a queued trial is drawn as one under way
 * (its values, no objective yet), a cancelled one as one that did not finish (dashed, like a failed one).
 */
export function plotTrialOf(trial: SweepTrial): PlotTrial {
  const state: SweepTrialState =
    trial.state === 'queued' ? 'running' : trial.state === 'cancelled' ? 'failed' : trial.state;
  return { id: trialLabel(trial.number), values: trial.params, state, objective: trial.value };
}

/** The trial a chart line's id names. */
export function trialNumberOf(plotId: string): number | null {
  const match = /^#(\d+)$/.exec(plotId);
  return match ? Number(match[1]) : null;
}

/** How many decades the objective's values must span before its axis is drawn on a log scale. */
const LOG_SCALE_DECADES = 2;

/** A log scale for an objective whose values are all positive and span decades (a loss that falls fast), else linear. */
export function objectiveScaleOf(trials: readonly SweepTrial[]): 'linear' | 'log' {
  const values = trials.map((t) => t.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length < 2 || values.some((v) => v <= 0)) return 'linear';
  return Math.log10(Math.max(...values) / Math.min(...values)) >= LOG_SCALE_DECADES ? 'log' : 'linear';
}

export type TrialSortKey = 'number' | 'objective';

export interface TrialSort {
  key: TrialSortKey;
  /** For the objective: best first, or worst first. */
  bestFirst: boolean;
}

/** The trials in table order: by number, or by objective (trials without a value last either way). */
export function sortTrials(trials: readonly SweepTrial[], sort: TrialSort, goal: SweepObjective['goal']): SweepTrial[] {
  const byNumber = [...trials].sort((a, b) => a.number - b.number);
  if (sort.key === 'number') return byNumber;
  const better = goal === 'minimize' ? 1 : -1;
  const direction = sort.bestFirst ? better : -better;
  return byNumber.sort((a, b) => {
    if (a.value === null || b.value === null) return (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0);
    return a.value === b.value ? a.number - b.number : (a.value - b.value) * direction;
  });
}

/** "minimize loss". */
export function objectiveText(objective: SweepObjective): string {
  return `${objective.goal} ${objective.metric}`;
}

/** The early-stopping rule in words. */
export function earlyStoppingText(rule: EarlyStopping): string {
  switch (rule.type) {
    case 'none':
      return 'none';
    case 'asha':
      return (
        `ASHA: rungs from step ${rule.minResource}, keeping the best 1/${rule.reductionFactor}` +
        (rule.maxResource === undefined ? '' : `, up to step ${rule.maxResource}`)
      );
    case 'median':
      return `median rule after step ${rule.warmupSteps}, once ${rule.minTrials} other trials got there`;
  }
}

export const ALGORITHM_NAMES: Record<Sweep['spec']['algorithm'], string> = {
  grid: 'Grid',
  random: 'Random',
  tpe: 'TPE',
};
