import { describe, expect, it } from 'vitest';
import { SweepSpace, type ParamSet, type SweepGoal, type SweepSpaceInput } from '#shared/sweep-space';
import {
  gridSearch,
  gridSize,
  MAX_GRID_SIZE,
  randomSearch,
  searchAlgorithm,
  tpeSearch,
  type SearchAlgorithm,
  type Trial,
} from './sweep-search';

const space = (input: SweepSpaceInput) => SweepSpace.parse(input);

/** Runs a sweep one trial at a time, each completed with `objective` before the next is asked for. */
function runSweep(search: SearchAlgorithm, trials: number, objective: (p: ParamSet) => number): Trial[] {
  const history: Trial[] = [];
  for (let i = 0; i < trials; i++) {
    const params = search.suggest(history);
    if (params === null) break;
    history.push({ params, value: objective(params), state: 'completed' });
  }
  return history;
}

/** Every suggestion until the search is exhausted (or `limit`), each entered as running. */
function drain(search: SearchAlgorithm, limit = 100_000): ParamSet[] {
  const history: Trial[] = [];
  for (
    let params = search.suggest(history);
    params !== null && history.length < limit;
    params = search.suggest(history)
  ) {
    history.push({ params, value: null, state: 'running' });
  }
  return history.map((t) => t.params);
}

/** `count` random suggestions, suggestion n made with a history of n running trials (only its length counts). */
function draws(search: SearchAlgorithm, count: number): ParamSet[] {
  const history: Trial[] = [];
  const out: ParamSet[] = [];
  for (let i = 0; i < count; i++) {
    const params = search.suggest(history)!;
    out.push(params);
    history.push({ params, value: null, state: 'running' });
  }
  return out;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const num = (p: ParamSet, name: string) => p[name] as number;

describe('SweepSpace', () => {
  const issues = (input: unknown) => {
    const result = SweepSpace.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('fills in the default step of an int range', () => {
    expect(space({ layers: { type: 'int', min: 1, max: 4 } })).toEqual({
      layers: { type: 'int', min: 1, max: 4, step: 1 },
    });
  });

  it('rejects bad spaces, naming the problem', () => {
    expect(issues({ lr: { type: 'uniform', min: 1, max: 1 } })).toEqual(['lr.max: min must be below max']);
    expect(issues({ lr: { type: 'loguniform', min: 0, max: 1 } })).toEqual([
      'lr.min: must be above 0 (the range is spread on a log scale)',
    ]);
    expect(issues({ opt: { type: 'choice', values: [] } })).toEqual(['opt.values: needs at least one value']);
    expect(issues({ opt: { type: 'choice', values: ['sgd', 'adam', 'sgd', 1, '1'] } })).toEqual([
      'opt.values: has "sgd" more than once',
    ]);
    expect(issues({ n: { type: 'int', min: 0.5, max: 3 } })).toEqual(['n.min: must be a whole number']);
    expect(issues({ n: { type: 'int', min: 0, max: 3, step: 4 } })).toEqual([
      'n.step: step must not exceed max − min (min would be the only value)',
    ]);
    expect(issues({ p: { type: 'quniform', min: 0, max: 1, step: 0 } })).toEqual(['p.step: must be above 0']);
    expect(issues({ '1st': { type: 'uniform', min: 0, max: 1 } })).toEqual([
      '1st: "1st" is not a parameter name: a letter or _, then letters, digits, _, . or -; 64 at most',
    ]);
    expect(issues({})).toEqual([': needs at least one parameter']);
    const many = Object.fromEntries(
      Array.from({ length: 21 }, (_, i) => [`p${i}`, { type: 'uniform', min: 0, max: 1 }]),
    );
    expect(issues(many)).toEqual([': may have at most 20 parameters']);
    expect(issues({ x: { type: 'normal', min: 0, max: 1 } })).toHaveLength(1);
  });

  it('accepts dotted and dashed names up to 64 characters', () => {
    expect(issues({ 'optimizer.momentum': { type: 'uniform', min: 0, max: 1 } })).toEqual([]);
    expect(issues({ [`a${'-'.repeat(63)}`]: { type: 'uniform', min: 0, max: 1 } })).toEqual([]);
    expect(issues({ [`a${'-'.repeat(64)}`]: { type: 'uniform', min: 0, max: 1 } })).toHaveLength(1);
  });
});

describe('gridSearch', () => {
  const mixed = space({
    opt: { type: 'choice', values: ['sgd', 'adam', true] },
    layers: { type: 'int', min: 0, max: 10, step: 5 },
    dropout: { type: 'uniform', min: 0, max: 0.6 },
    lr: { type: 'loguniform', min: 1e-4, max: 1 },
  });

  it('counts choices × stepped values × grid points per continuous range', () => {
    expect(gridSize(mixed)).toBe(3 * 3 * 5 * 5);
    expect(gridSize(mixed, { gridPoints: 4 })).toBe(3 * 3 * 4 * 4);
    expect(gridSize(mixed, { gridPoints: { dropout: 2 } })).toBe(3 * 3 * 2 * 5);
    expect(gridSize(space({ p: { type: 'quniform', min: 0, max: 1, step: 0.1 } }))).toBe(11);
    expect(gridSize(space({ n: { type: 'int', min: 1, max: 10, step: 4 } }))).toBe(3); // 1, 5, 9
  });

  it('suggests every point of the product exactly once, then null', () => {
    const points = drain(gridSearch(mixed, { gridPoints: { dropout: 3, lr: 5 } }));
    expect(points).toHaveLength(3 * 3 * 3 * 5);
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(points.length);
    const valuesOf = (name: string) => [...new Set(points.map((p) => p[name]))];
    expect(valuesOf('opt')).toEqual(['sgd', 'adam', true]);
    expect(valuesOf('layers')).toEqual([0, 5, 10]);
    expect(valuesOf('dropout')).toEqual([0, 0.3, 0.6]);
    expect(valuesOf('lr')).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 1]);
  });

  it('goes through the grid in a stable order, the last parameter fastest', () => {
    const points = drain(gridSearch(mixed, { gridPoints: 2 }));
    expect(points.slice(0, 3)).toEqual([
      { opt: 'sgd', layers: 0, dropout: 0, lr: 1e-4 },
      { opt: 'sgd', layers: 0, dropout: 0, lr: 1 },
      { opt: 'sgd', layers: 0, dropout: 0.6, lr: 1e-4 },
    ]);
    expect(points.at(-1)).toEqual({ opt: true, layers: 10, dropout: 0.6, lr: 1 });
    expect(drain(gridSearch(mixed, { gridPoints: 2 }))).toEqual(points);
  });

  it('puts quniform values on clean steps', () => {
    expect(drain(gridSearch(space({ p: { type: 'quniform', min: 0, max: 0.5, step: 0.1 } })))).toEqual(
      [0, 0.1, 0.2, 0.3, 0.4, 0.5].map((p) => ({ p })),
    );
  });

  it('skips points already tried in any state, as after a restart', () => {
    const grid = gridSearch(space({ a: { type: 'choice', values: [1, 2, 3] } }));
    const history: Trial[] = [
      { params: { a: 2 }, value: null, state: 'failed' },
      { params: { a: 1 }, value: 0.5, state: 'completed' },
    ];
    expect(grid.suggest(history)).toEqual({ a: 3 });
    history.push({ params: { a: 3 }, value: null, state: 'pruned' });
    expect(grid.suggest(history)).toBeNull();
  });

  it('stops at maxTrials', () => {
    expect(drain(gridSearch(mixed, { maxTrials: 7 }))).toHaveLength(7);
  });

  it('refuses a grid too large to go through, and bad grid points', () => {
    const huge = space({ n: { type: 'int', min: 0, max: MAX_GRID_SIZE } });
    expect(() => gridSearch(huge)).toThrow(/the grid has 10001 points, more than 10000/);
    expect(() => gridSearch(mixed, { gridPoints: 0 })).toThrow(/must be a whole number of points/);
  });
});

describe('randomSearch', () => {
  const mixed = space({
    opt: { type: 'choice', values: ['sgd', 'adam', false] },
    layers: { type: 'int', min: 2, max: 20, step: 3 },
    dropout: { type: 'uniform', min: -0.5, max: 0.5 },
    lr: { type: 'loguniform', min: 1e-5, max: 1e-1 },
    wd: { type: 'quniform', min: 0, max: 0.3, step: 0.1 },
  });

  it('stays inside the ranges, on the steps and among the choices', () => {
    const points = draws(randomSearch(mixed, { seed: 7 }), 2000);
    const values = (name: string) => points.map((p) => p[name]);
    expect(new Set(values('opt'))).toEqual(new Set(['sgd', 'adam', false]));
    expect(new Set(values('layers'))).toEqual(new Set([2, 5, 8, 11, 14, 17, 20]));
    expect(new Set(values('wd'))).toEqual(new Set([0, 0.1, 0.2, 0.3]));
    const range = (name: string) => [
      Math.min(...points.map((p) => num(p, name))),
      Math.max(...points.map((p) => num(p, name))),
    ];
    expect(range('dropout')[0]).toBeGreaterThanOrEqual(-0.5);
    expect(range('dropout')[1]).toBeLessThanOrEqual(0.5);
    expect(range('lr')[0]).toBeGreaterThanOrEqual(1e-5);
    expect(range('lr')[1]).toBeLessThanOrEqual(1e-1);
  });

  it('spreads loguniform values evenly in log space (median near the geometric mean)', () => {
    const lrs = draws(randomSearch(mixed, { seed: 3 }), 2000).map((p) => num(p, 'lr'));
    expect(Math.log10(median(lrs))).toBeCloseTo(-3, 0); // the arithmetic middle would be near 0.05
    const below = lrs.filter((lr) => lr < 1e-4).length / lrs.length;
    expect(below).toBeGreaterThan(0.2); // a quarter of the decades
    expect(below).toBeLessThan(0.3);
    const dropouts = draws(randomSearch(mixed, { seed: 3 }), 2000).map((p) => num(p, 'dropout'));
    expect(Math.abs(median(dropouts))).toBeLessThan(0.05);
  });

  it('is reproducible by seed, suggestion n depending only on the seed and n', () => {
    const a = draws(randomSearch(mixed, { seed: 42 }), 20);
    expect(draws(randomSearch(mixed, { seed: 42 }), 20)).toEqual(a);
    expect(draws(randomSearch(mixed, { seed: 43 }), 20)).not.toEqual(a);
    // A sweep rebuilt after a restart, its history read back (with results), suggests what comes next.
    const history = a.slice(0, 10).map((params): Trial => ({ params, value: 1, state: 'completed' }));
    expect(randomSearch(mixed, { seed: 42 }).suggest(history)).toEqual(a[10]);
  });

  it('stops at maxTrials and rejects a seed that is not a whole number', () => {
    expect(drain(randomSearch(mixed, { seed: 1, maxTrials: 5 }))).toHaveLength(5);
    expect(() => randomSearch(mixed, { seed: 1.5 })).toThrow(/seed: must be a whole number/);
  });
});

describe('tpeSearch', () => {
  const plane = space({ x: { type: 'uniform', min: -5, max: 5 }, y: { type: 'uniform', min: -5, max: 5 } });
  const bowl = (p: ParamSet) => (num(p, 'x') - 1.3) ** 2 + (num(p, 'y') + 2.1) ** 2;
  const best = (history: Trial[]) => Math.min(...history.map((t) => t.value!));

  it('finds a better point of a 2-D quadratic than random search with the same budget', () => {
    // Deterministic per seed; over these 20 seeds TPE wins 17 times, its median best ~7× lower.
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const tpe = seeds.map((seed) => best(runSweep(tpeSearch(plane, { seed, goal: 'minimize' }), 40, bowl)));
    const random = seeds.map((seed) => best(runSweep(randomSearch(plane, { seed }), 40, bowl)));
    expect(seeds.filter((_, i) => tpe[i]! < random[i]!).length).toBeGreaterThanOrEqual(15);
    expect(median(tpe)).toBeLessThan(median(random) / 3);
  });

  it('starts with the random search’s suggestions', () => {
    const tpe = runSweep(tpeSearch(plane, { seed: 9, goal: 'minimize', startupTrials: 10 }), 10, bowl);
    const random = runSweep(randomSearch(plane, { seed: 9 }), 10, bowl);
    expect(tpe).toEqual(random);
  });

  it.each<[SweepGoal, (d: number) => boolean]>([
    ['minimize', (d) => d < 1.5],
    ['maximize', (d) => d > 6],
  ])('%s: later suggestions go where the objective is best by that goal', (goal, near) => {
    const line = space({ x: { type: 'uniform', min: -10, max: 10 } });
    for (const seed of [1, 2, 3]) {
      const history = runSweep(tpeSearch(line, { seed, goal }), 40, (p) => (num(p, 'x') - 2) ** 2);
      const distances = history.slice(20).map((t) => Math.abs(num(t.params, 'x') - 2));
      expect(near(median(distances))).toBe(true);
    }
  });

  it('keeps values valid and learns in a mixed space of choices, steps and log ranges', () => {
    const mixed = space({
      opt: { type: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
      lr: { type: 'loguniform', min: 1e-5, max: 1 },
      layers: { type: 'int', min: 1, max: 64, step: 3 },
      dropout: { type: 'quniform', min: 0, max: 0.5, step: 0.05 },
    });
    const loss = (p: ParamSet) =>
      (p.opt === 'adam' ? 0 : 1) + (Math.log10(num(p, 'lr')) + 3) ** 2 / 4 + ((num(p, 'layers') - 31) / 30) ** 2;
    const history = runSweep(tpeSearch(mixed, { seed: 1, goal: 'minimize' }), 60, loss);
    for (const { params: p } of history) {
      expect(['sgd', 'adam', 'rmsprop']).toContain(p.opt);
      expect(num(p, 'lr')).toBeGreaterThanOrEqual(1e-5);
      expect(num(p, 'lr')).toBeLessThanOrEqual(1);
      expect((num(p, 'layers') - 1) % 3).toBe(0);
      expect(num(p, 'layers')).toBeLessThanOrEqual(64);
      expect(Math.round(num(p, 'dropout') / 0.05) * 0.05).toBeCloseTo(num(p, 'dropout'), 12);
    }
    const lateAdam = history.slice(30).filter((t) => t.params.opt === 'adam').length;
    expect(lateAdam).toBeGreaterThan(20);
    expect(best(history)).toBeLessThan(0.1);
  });

  it('gives parallel suggestions that differ, treating running trials as bad ("constant liar")', () => {
    const tpe = tpeSearch(plane, { seed: 5, goal: 'minimize' });
    const history = runSweep(tpe, 15, bowl);
    const batch: ParamSet[] = [];
    for (let i = 0; i < 8; i++) {
      const params = tpe.suggest(history)!;
      batch.push(params);
      history.push({ params, value: null, state: 'running' });
    }
    expect(new Set(batch.map((p) => JSON.stringify(p))).size).toBe(8);
  });

  it('counts pruned trials as bad and leaves failed ones out', () => {
    const tpe = tpeSearch(plane, { seed: 11, goal: 'minimize', startupTrials: 5 });
    const done = runSweep(tpe, 12, bowl);
    const withLast = (state: Trial['state'], params: ParamSet) =>
      tpe.suggest([...done, { params, value: null, state }]);
    // Same length of history, so the same random stream: only how the last trial is counted differs.
    expect(withLast('failed', { x: 1.3, y: -2.1 })).toEqual(withLast('failed', { x: -4, y: 4 }));
    expect(withLast('pruned', { x: 1.3, y: -2.1 })).not.toEqual(withLast('pruned', { x: -4, y: 4 }));
  });

  it('is reproducible by seed and history', () => {
    const a = runSweep(tpeSearch(plane, { seed: 21, goal: 'maximize' }), 25, bowl);
    expect(runSweep(tpeSearch(plane, { seed: 21, goal: 'maximize' }), 25, bowl)).toEqual(a);
    expect(runSweep(tpeSearch(plane, { seed: 22, goal: 'maximize' }), 25, bowl)).not.toEqual(a);
  });

  it('rejects options out of range', () => {
    expect(() => tpeSearch(plane, { seed: 1, goal: 'minimize', gamma: 1 })).toThrow(/gamma: must be between 0 and 1/);
    expect(() => tpeSearch(plane, { seed: 1, goal: 'minimize', candidates: 0 })).toThrow(/candidates/);
    expect(() => tpeSearch(plane, { seed: 1, goal: 'minimize', startupTrials: -1 })).toThrow(/startupTrials/);
  });
});

describe('searchAlgorithm', () => {
  it('makes the search a sweep names', () => {
    const line = space({ a: { type: 'choice', values: ['x', 'y'] } });
    expect(drain(searchAlgorithm('grid', line, { seed: 1, goal: 'minimize' }))).toEqual([{ a: 'x' }, { a: 'y' }]);
    expect(searchAlgorithm('random', line, { seed: 1, goal: 'minimize' }).suggest([])).toEqual(
      randomSearch(line, { seed: 1 }).suggest([]),
    );
    expect(searchAlgorithm('tpe', line, { seed: 1, goal: 'minimize' }).suggest([])).toEqual(
      randomSearch(line, { seed: 1 }).suggest([]),
    );
  });
});
