import { describe, expect, it } from 'vitest';
import { AshaStopping, EarlyStopping, MedianStopping, type SweepGoal } from '#shared/sweep-space';
import { ashaStopper, earlyStopper, medianStopper, type EarlyStopper, type StepReport } from './early-stopping';

type Step = [trialId: string, step: number, value: number, expected: 'continue' | 'stop'];

/** Feeds the reports in order, checking each answer (the message names the report that went wrong). */
function expectDecisions(stopper: EarlyStopper, steps: readonly Step[]) {
  const got = steps.map(([id, step, value]) => `${id}@${step}=${value}: ${stopper.report(id, step, value)}`);
  expect(got).toEqual(steps.map(([id, step, value, expected]) => `${id}@${step}=${value}: ${expected}`));
}

/** The same reports for a goal to maximize: 1 − v ranks as v does when minimizing. */
const mirrored = (steps: readonly Step[]): Step[] => steps.map(([id, step, v, d]) => [id, step, 1 - v, d]);

const asha = (config: Omit<AshaStopping, 'type' | 'reductionFactor'> & { reductionFactor?: number }) =>
  AshaStopping.parse({ type: 'asha', ...config });

describe('ashaStopper', () => {
  // Rungs at steps 1, 3, 9, 27, …; at a rung a trial goes on if in the best floor(n / 3) of the n recorded there.
  const rungOne: Step[] = [
    ['A', 1, 0.5, 'continue'], // n = 1: fewer than 3 to compare
    ['B', 1, 0.4, 'continue'], // n = 2
    ['C', 1, 0.9, 'stop'], // n = 3, best 1: 0.4
    ['D', 1, 0.3, 'continue'], // n = 4, best 1: 0.3 (itself)
    ['E', 1, 0.45, 'stop'], // n = 5, best 1: 0.3
    ['F', 1, 0.35, 'continue'], // n = 6, best 2: 0.3, 0.35
    ['C', 3, 0.1, 'stop'], // stopped stays stopped
    ['A', 2, 0.3, 'continue'], // between rungs
    ['A', 3, 0.2, 'continue'], // first at rung 3
  ];

  it.each<[SweepGoal, Step[]]>([
    ['minimize', rungOne],
    ['maximize', mirrored(rungOne)],
  ])('%s: keeps the best 1/reductionFactor at each rung', (goal, steps) => {
    expectDecisions(ashaStopper(asha({ minResource: 1 }), goal), steps);
  });

  it('records a report that jumps past several rungs at each of them', () => {
    expectDecisions(ashaStopper(asha({ minResource: 1 }), 'minimize'), [
      ...rungOne,
      ['G', 10, 0.32, 'continue'], // rung 1: n = 7, best 2 = 0.3, 0.32; rung 3: n = 2; rung 9: n = 1
      ['H', 1, 0.31, 'continue'], // rung 1: n = 8, best 2 = 0.3, 0.31
      ['H', 3, 0.5, 'stop'], // rung 3: A 0.2, G 0.32, H 0.5: best 1 = 0.2
    ]);
  });

  it('counts a repeated step once', () => {
    expectDecisions(ashaStopper(asha({ minResource: 2, reductionFactor: 2 }), 'minimize'), [
      ['A', 2, 0.5, 'continue'], // n = 1
      ['A', 2, 0.5, 'continue'], // again: still n = 1 (else n = 2 and the best 1 would be compared)
      ['A', 3, 0.5, 'continue'],
      ['B', 2, 0.4, 'continue'], // n = 2, best 1: 0.4
      ['C', 2, 0.45, 'stop'], // n = 3, best 1: 0.4
    ]);
  });

  it('has no rung at or past maxResource', () => {
    const ties: Step[] = ['P', 'Q', 'R'].flatMap((id): Step[] => [
      [id, 1, 0.1, 'continue'],
      [id, 3, 0.1, 'continue'],
    ]);
    const atNine: Step[] = [
      ['P', 9, 0.1, 'continue'],
      ['Q', 9, 0.5, 'continue'],
    ];
    expectDecisions(ashaStopper(asha({ minResource: 1, maxResource: 9 }), 'minimize'), [
      ...ties,
      ...atNine,
      ['R', 9, 0.9, 'continue'],
    ]);
    expectDecisions(ashaStopper(asha({ minResource: 1 }), 'minimize'), [...ties, ...atNine, ['R', 9, 0.9, 'stop']]);
  });

  it.each<SweepGoal>(['minimize', 'maximize'])('%s: ranks NaN and infinite values worst', (goal) => {
    expectDecisions(ashaStopper(asha({ minResource: 1, reductionFactor: 2 }), goal), [
      ['A', 1, 0.5, 'continue'],
      ['B', 1, Number.NaN, 'stop'], // n = 2, best 1: 0.5 either way
      ['C', 1, goal === 'minimize' ? Infinity : -Infinity, 'stop'], // n = 3, best 1: 0.5
      ['D', 1, goal === 'minimize' ? -Infinity : Infinity, 'stop'], // not finite: never among the best, though tied with B and C
    ]);
  });
});

describe('medianStopper', () => {
  const median = (warmupSteps: number, minTrials: number) =>
    MedianStopping.parse({ type: 'median', warmupSteps, minTrials });
  const curves: Step[] = [
    ['A', 1, 1.0, 'continue'],
    ['A', 2, 0.8, 'continue'],
    ['A', 3, 0.6, 'continue'],
    ['A', 4, 0.5, 'continue'], // nobody else has got to these steps yet
    ['B', 1, 1.2, 'continue'], // before warm-up ends
    ['B', 2, 1.0, 'continue'], // others: A (0.9) only, fewer than 2
    ['B', 3, 0.9, 'continue'],
    ['B', 4, 0.8, 'continue'],
  ];
  // Running averages: A 1.0, 0.9, 0.8, 0.725; B 1.2, 1.1, 1.0333, 0.975.
  const scenario: Step[] = [
    ...curves,
    ['C', 1, 2.0, 'continue'], // before warm-up ends
    ['C', 2, 1.5, 'stop'], // median of A 0.9, B 1.1 = 1.0 < best 1.5
    ['D', 2, 0.95, 'continue'], // median of A 0.9, B 1.1, C 1.75 (stopped, still counted) = 1.1 > 0.95
    ['D', 3, 1.05, 'stop'], // others at 3: A 0.8, B 1.0333 (C stopped at 2): median 0.9167 < best 0.95
    ['E', 5, 9.0, 'continue'], // nobody else has got to step 5
  ];

  it.each<[SweepGoal, Step[]]>([
    ['minimize', scenario],
    ['maximize', mirrored(scenario)],
  ])('%s: stops a trial whose best is worse than the median of the running averages', (goal, steps) => {
    expectDecisions(medianStopper(median(2, 2), goal), steps);
  });

  it('counts a repeated step once', () => {
    const stopper = medianStopper(median(0, 1), 'minimize');
    expectDecisions(stopper, [
      ['A', 1, 1.0, 'continue'],
      ['A', 2, 0.8, 'continue'],
      ['A', 2, 100, 'continue'], // ignored: A's running average at 2 stays 0.9
      ['B', 2, 0.95, 'stop'], // median 0.9 (it would be 50.5 had the repeat counted)
    ]);
  });

  it('ranks NaN worst, in a trial’s best and in the others’ averages', () => {
    expectDecisions(medianStopper(median(0, 1), 'minimize'), [
      ['A', 1, 1.0, 'continue'],
      ['B', 1, Number.NaN, 'stop'], // worst of all: worse than A's 1.0
      ['C', 1, 5.0, 'continue'], // median of A 1.0 and B (worst) is the worst: nothing is worse than that
      ['D', 1, Number.NaN, 'stop'], // median of A 1.0, B (worst), C 5.0 = 5.0
    ]);
    expectDecisions(medianStopper(median(0, 2), 'minimize'), [
      ['A', 1, Number.NaN, 'continue'], // nobody to compare with
      ['B', 1, Number.NaN, 'continue'],
      ['C', 1, Number.NaN, 'stop'], // tied with the median of A and B, but no finite value never goes on
    ]);
  });

  it('waits for minTrials others at the step', () => {
    expectDecisions(medianStopper(median(0, 3), 'maximize'), [
      ['A', 1, 0.9, 'continue'],
      ['B', 1, 0.8, 'continue'],
      ['C', 1, 0.1, 'continue'], // two others only
      ['D', 1, 0.2, 'stop'], // median of 0.9, 0.8, 0.1 = 0.8
    ]);
  });
});

describe('earlyStopper', () => {
  const reports: StepReport[] = [];
  for (let step = 1; step <= 30; step++) {
    for (const [id, rate] of [
      ['A', 0.9],
      ['B', 0.8],
      ['C', 0.95],
      ['D', 0.85],
      ['E', 0.7],
      ['F', 0.99],
    ] as const) {
      reports.push({ trialId: id, step, value: 10 * rate ** step + (step % 3) * 0.01 });
    }
  }

  it.each<EarlyStopping>([
    EarlyStopping.parse({ type: 'asha', minResource: 2, reductionFactor: 2 }),
    EarlyStopping.parse({ type: 'median', warmupSteps: 3, minTrials: 2 }),
  ])('rebuilds a $type stopper from the recorded reports, answering as before', (config) => {
    const live = earlyStopper(config, 'minimize');
    const answers = reports.map((r) => live.report(r.trialId, r.step, r.value));
    expect(answers).toContain('stop');
    for (const cut of [1, 40, 97]) {
      const rebuilt = earlyStopper(config, 'minimize', reports.slice(0, cut));
      expect(reports.slice(cut).map((r) => rebuilt.report(r.trialId, r.step, r.value))).toEqual(answers.slice(cut));
    }
  });

  it('never stops a trial without early stopping', () => {
    const none = earlyStopper({ type: 'none' }, 'maximize', reports);
    expect(reports.every((r) => none.report(r.trialId, r.step, r.value) === 'continue')).toBe(true);
  });
});
