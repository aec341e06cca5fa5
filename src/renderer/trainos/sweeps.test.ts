import { describe, expect, test } from 'vitest';
import { Sweep, type SweepTrial } from '#shared/contracts/trainos';
import {
  earlyStoppingText,
  objectiveScaleOf,
  plotTrialOf,
  sortTrials,
  sweepPath,
  sweepProgress,
  trialNumberOf,
} from './sweeps';

const ID = '01JABCDEFGHJKMNPQRSTVWXYZ0';

function trial(number: number, state: SweepTrial['state'], value: number | null): SweepTrial {
  return { number, jobId: ID, runId: null, params: { lr: number / 10 }, state, value, step: null, reason: null };
}

function sweep(state: Sweep['state'], trials: SweepTrial[], maxTrials = 10): Sweep {
  return Sweep.parse({
    id: ID,
    name: 'lr',
    spec: {
      name: 'lr',
      template: { template: 'mlp' },
      space: { lr: { type: 'uniform', min: 0, max: 1 } },
      objective: { metric: 'loss', goal: 'minimize' },
      maxTrials,
    },
    state,
    runId: null,
    bestTrial: null,
    trials,
    reason: null,
    createdAt: 0,
    endedAt: null,
  });
}

describe('sweepProgress', () => {
  test('counts ended trials against maxTrials while the sweep runs', () => {
    const running = sweep('running', [
      trial(1, 'completed', 1),
      trial(2, 'pruned', 2),
      trial(3, 'running', null),
      trial(4, 'queued', null),
    ]);
    expect(sweepProgress(running)).toEqual({ ended: 2, running: 1, queued: 1, planned: 10 });
  });

  test('counts them against the trials it made once it has ended (a grid smaller than maxTrials)', () => {
    const done = sweep('succeeded', [trial(1, 'completed', 1), trial(2, 'failed', null), trial(3, 'completed', 3)]);
    expect(sweepProgress(done)).toEqual({ ended: 3, running: 0, queued: 0, planned: 3 });
  });
});

describe('plotTrialOf and trialNumberOf', () => {
  test('draws a queued trial as under way and a cancelled one as unfinished, under an id that names it', () => {
    expect(plotTrialOf(trial(4, 'queued', null))).toEqual({
      id: '#4',
      values: { lr: 0.4 },
      state: 'running',
      objective: null,
    });
    expect(plotTrialOf(trial(5, 'cancelled', 0.5)).state).toBe('failed');
    expect(plotTrialOf(trial(6, 'pruned', 0.5)).state).toBe('pruned');
    expect(trialNumberOf('#12')).toBe(12);
    expect(trialNumberOf('12')).toBeNull();
  });
});

describe('sortTrials', () => {
  const trials = [
    trial(1, 'completed', 0.5),
    trial(2, 'running', null),
    trial(3, 'completed', 0.1),
    trial(4, 'completed', 0.5),
  ];
  const numbers = (sorted: SweepTrial[]) => sorted.map((t) => t.number);

  test('sorts by number, or by objective best first or worst first, trials without a value last', () => {
    expect(numbers(sortTrials(trials, { key: 'number', bestFirst: true }, 'minimize'))).toEqual([1, 2, 3, 4]);
    expect(numbers(sortTrials(trials, { key: 'objective', bestFirst: true }, 'minimize'))).toEqual([3, 1, 4, 2]);
    expect(numbers(sortTrials(trials, { key: 'objective', bestFirst: false }, 'minimize'))).toEqual([1, 4, 3, 2]);
    expect(numbers(sortTrials(trials, { key: 'objective', bestFirst: true }, 'maximize'))).toEqual([1, 4, 3, 2]);
  });
});

describe('objectiveScaleOf', () => {
  test('uses a log scale only for positive values spanning two decades or more', () => {
    expect(objectiveScaleOf([trial(1, 'completed', 0.01), trial(2, 'completed', 5)])).toBe('log');
    expect(objectiveScaleOf([trial(1, 'completed', 0.1), trial(2, 'completed', 5)])).toBe('linear');
    expect(objectiveScaleOf([trial(1, 'completed', 0), trial(2, 'completed', 500)])).toBe('linear');
    expect(objectiveScaleOf([trial(1, 'completed', 0.001)])).toBe('linear');
  });
});

describe('earlyStoppingText and sweepPath', () => {
  test('say the rule in words and address the sweep on the list route', () => {
    expect(earlyStoppingText({ type: 'none' })).toBe('none');
    expect(earlyStoppingText({ type: 'asha', minResource: 2, reductionFactor: 3 })).toBe(
      'ASHA: rungs from step 2, keeping the best 1/3',
    );
    expect(earlyStoppingText({ type: 'median', warmupSteps: 5, minTrials: 4 })).toBe(
      'median rule after step 5, once 4 other trials got there',
    );
    expect(sweepPath(ID)).toBe(`/training/sweeps?sweep=${ID}`);
  });
});
