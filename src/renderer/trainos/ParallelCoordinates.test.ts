import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { SweepSpace, type SweepObjective, type SweepTrialState } from '#shared/sweep-space';
import { ParallelCoordinates, type ParallelCoordinatesProps } from './ParallelCoordinates';
import {
  axesFromSpace,
  axisTicks,
  axisXs,
  brushBetween,
  drawOrder,
  formatValue,
  GOOD_TO_BAD,
  lineStyle,
  linePath,
  NO_VALUE_COLOR,
  objectiveColor,
  objectiveRanks,
  passesBrushes,
  PLOT,
  positionAtPointer,
  positionOn,
  resolveAxes,
  trialPositions,
  truncate,
  yOf,
  type Axis,
  type PlotTrial,
} from './parallel-coordinates';

const space = SweepSpace.parse({
  optimizer: { type: 'choice', values: ['sgd', 'adam'] },
  lr: { type: 'loguniform', min: 1e-4, max: 1 },
  layers: { type: 'int', min: 1, max: 9 },
});
const loss: SweepObjective = { metric: 'val_loss', goal: 'minimize' };

const trial = (
  id: string,
  values: PlotTrial['values'],
  objective: number | null,
  state: SweepTrialState = 'completed',
): PlotTrial => ({ id, values, objective, state });

const axis = (over: Partial<Axis>): Axis => ({
  key: 'k',
  name: 'k',
  kind: 'linear',
  isObjective: false,
  min: 0,
  max: 1,
  categories: [],
  empty: false,
  ...over,
});

describe('axes', () => {
  it('makes an axis per parameter of the space: choices as categories, loguniform on a log scale', () => {
    expect(axesFromSpace(space)).toEqual([
      { name: 'optimizer', kind: 'category', categories: ['sgd', 'adam'] },
      { name: 'lr', kind: 'log', min: 1e-4, max: 1 },
      { name: 'layers', kind: 'linear', min: 1, max: 9 },
    ]);
  });

  it('adds the objective last, with domains widened to every value', () => {
    const axes = resolveAxes(
      axesFromSpace(space),
      [trial('a', { optimizer: 'rmsprop', lr: 3, layers: 4 }, 0.5), trial('b', { optimizer: 'sgd' }, 2)],
      loss,
    );
    expect(axes.map((a) => [a.key, a.kind, a.min, a.max, a.categories])).toEqual([
      ['param:optimizer', 'category', 0, 0, ['sgd', 'adam', 'rmsprop']],
      ['param:lr', 'log', 1e-4, 3, []],
      ['param:layers', 'linear', 1, 9, []],
      ['objective', 'linear', 0.5, 2, []],
    ]);
    expect(axes.at(-1)).toMatchObject({ name: 'val_loss', isObjective: true });
  });

  it('falls back to linear when a log axis gets a value that is not positive, and marks an axis with nothing on it as empty', () => {
    const [lr, metric] = resolveAxes(
      [{ name: 'lr', kind: 'log', min: 1e-3, max: 1 }],
      [trial('a', { lr: 0 }, null)],
      loss,
    );
    expect(lr).toMatchObject({ kind: 'linear', min: 0, max: 1 });
    expect(metric).toMatchObject({ kind: 'linear', min: 0, max: 1, empty: true });
    expect(resolveAxes([], [], loss, 'log')[0]).toMatchObject({ kind: 'log', min: 1, max: 10, empty: true });
    expect(lr?.empty).toBe(false);
  });
});

describe('positionOn', () => {
  it('places numbers linearly or logarithmically, bottom 0 to top 1', () => {
    expect(positionOn(axis({ min: 10, max: 20 }), 12.5)).toBe(0.25);
    expect(positionOn(axis({ kind: 'log', min: 1e-4, max: 1 }), 1e-2)).toBeCloseTo(0.5, 12);
    expect(positionOn(axis({ min: 3, max: 3 }), 3)).toBe(0.5);
  });

  it('spaces categories evenly, telling 1 from "1"', () => {
    const categories = axis({ kind: 'category', categories: ['1', 1, true] });
    expect([positionOn(categories, '1'), positionOn(categories, 1), positionOn(categories, true)]).toEqual([0, 0.5, 1]);
    expect(positionOn(axis({ kind: 'category', categories: ['only'] }), 'only')).toBe(0.5);
    expect(positionOn(categories, 'other')).toBeNull();
  });

  it('has no place for a missing value or one of the wrong kind', () => {
    expect(positionOn(axis({}), null)).toBeNull();
    expect(positionOn(axis({}), undefined)).toBeNull();
    expect(positionOn(axis({}), 'adam')).toBeNull();
    expect(positionOn(axis({ kind: 'log', min: 1, max: 10 }), -1)).toBeNull();
    expect(positionOn(axis({}), Number.NaN)).toBeNull();
  });

  it('reads a trial across the axes, its objective last', () => {
    const axes = resolveAxes(axesFromSpace(space), [trial('a', { optimizer: 'adam', lr: 1e-2, layers: 1 }, 0.1)], loss);
    expect(trialPositions(axes, trial('a', { optimizer: 'adam', lr: 1e-2, layers: 1 }, 0.1))).toEqual([
      1,
      expect.closeTo(0.5, 12),
      0,
      0.5,
    ]);
  });
});

describe('axisTicks', () => {
  const labels = (a: Axis) => axisTicks(a).map((t) => t.label);

  it('puts round numbers on a linear axis and decades on a log one', () => {
    expect(axisTicks(axis({ min: 0, max: 10 }))).toEqual([
      { at: 0, label: '0' },
      { at: 0.5, label: '5' },
      { at: 1, label: '10' },
    ]);
    expect(labels(axis({ min: 0.13, max: 0.61 }))).toEqual(['0.2', '0.4', '0.6']);
    expect(labels(axis({ kind: 'log', min: 1e-4, max: 1 }))).toEqual(['1e-4', '0.001', '0.01', '0.1', '1']);
    expect(labels(axis({ kind: 'log', min: 0.002, max: 0.05 }))).toEqual(['0.002', '0.05']);
  });

  it('labels every category, thinned when there are many', () => {
    const many = axis({ kind: 'category', categories: Array.from({ length: 20 }, (_, i) => `c${i}`) });
    expect(labels(many)).toEqual(['c0', 'c3', 'c6', 'c9', 'c12', 'c15', 'c18']);
    expect(labels(axis({ kind: 'category', categories: [true, false] }))).toEqual(['true', 'false']);
  });

  it('labels nothing on an axis with nothing on it yet', () => {
    expect(axisTicks(axis({ empty: true }))).toEqual([]);
  });
});

describe('formatting', () => {
  it('formats values for labels', () => {
    expect([3, 0.123456, 1e-5, 2.5e10, null, 'adam', false, Number.NaN].map(formatValue)).toEqual([
      '3',
      '0.1235',
      '1e-5',
      '2.5e10',
      '—',
      'adam',
      'false',
      'NaN',
    ]);
  });

  it('cuts long text with an ellipsis', () => {
    expect(truncate('learning_rate', 20)).toBe('learning_rate');
    expect(truncate('optimizer.scheduler.warmup_steps', 12)).toBe('optimizer.s…');
  });
});

describe('layout and paths', () => {
  it('spreads the axes across the width, one axis in the middle', () => {
    expect(axisXs(3, 400)).toEqual([PLOT.padX, 200, 400 - PLOT.padX]);
    expect(axisXs(1, 480)).toEqual([240]);
  });

  it('draws a path through the axes, broken where a value is missing, a lone point as a dot', () => {
    const xs = [10, 20, 30, 40];
    expect(linePath([0, 1, null, 0.5], xs)).toBe(
      `M10.0,${yOf(0).toFixed(1)}L20.0,${yOf(1).toFixed(1)}M40.0,${yOf(0.5).toFixed(1)}h0.01`,
    );
    expect(linePath([null, null, null, null], xs)).toBe('');
  });

  it('maps a pointer on an axis to a position', () => {
    expect(positionAtPointer(100, 100, 200)).toBe(1);
    expect(positionAtPointer(250, 100, 200)).toBe(0.25);
    expect(positionAtPointer(400, 100, 200)).toBe(0);
  });
});

describe('colour', () => {
  const trials = [
    trial('a', {}, 0.3),
    trial('b', {}, 0.1),
    trial('c', {}, null, 'running'),
    trial('d', {}, 0.3),
    trial('e', {}, 5),
  ];

  it('ranks trials by objective for the goal, equal values sharing a rank', () => {
    expect(Object.fromEntries(objectiveRanks(trials, 'minimize'))).toEqual({ b: 0, a: 1 / 3, d: 1 / 3, e: 1 });
    expect(Object.fromEntries(objectiveRanks(trials, 'maximize'))).toEqual({ e: 0, a: 1 / 3, d: 1 / 3, b: 1 });
    expect(Object.fromEntries(objectiveRanks([trial('x', {}, 2)], 'minimize'))).toEqual({ x: 0 });
  });

  it('colours from good to bad, grey without a value', () => {
    expect(objectiveColor(0)).toBe(GOOD_TO_BAD[0]);
    expect(objectiveColor(0.5)).toBe(GOOD_TO_BAD[1]);
    expect(objectiveColor(1)).toBe(GOOD_TO_BAD[2]);
    expect(objectiveColor(0.25)).toMatch(/^#[0-9a-f]{6}$/);
    expect(objectiveColor(undefined)).toBe(NO_VALUE_COLOR);
  });

  it('draws trials without a value first and the best last, on top', () => {
    expect(drawOrder(trials, objectiveRanks(trials, 'minimize')).map((t) => t.id)).toEqual(['c', 'e', 'a', 'd', 'b']);
  });

  it('dashes pruned and failed trials, greys lines a brush filters out', () => {
    expect(lineStyle('pruned', 0, true, 10)).toMatchObject({ strokeDasharray: '4 3', stroke: GOOD_TO_BAD[0] });
    expect(lineStyle('completed', 0, true, 10).strokeDasharray).toBeUndefined();
    expect(lineStyle('completed', 0, false, 10)).toMatchObject({ stroke: NO_VALUE_COLOR, strokeWidth: 1 });
    expect(lineStyle('completed', 0, true, 200).strokeOpacity).toBeLessThan(
      lineStyle('completed', 0, true, 10).strokeOpacity,
    );
  });
});

describe('brushing', () => {
  const axes = resolveAxes(axesFromSpace(space), [trial('a', { optimizer: 'sgd', lr: 1e-4, layers: 1 }, 0.1)], loss);

  it('makes a range from a drag, nothing from a click', () => {
    expect(brushBetween(0.8, 0.2)).toEqual({ lo: 0.2, hi: 0.8 });
    expect(brushBetween(0.5, 0.505)).toBeNull();
  });

  it('keeps the lines inside every brushed range', () => {
    const layersBrush = { 'param:layers': { lo: 0, hi: 0.5 } }; // layers 1..5
    const at = (values: PlotTrial['values'], objective: number | null) =>
      trialPositions(axes, trial('t', values, objective));
    expect(passesBrushes(axes, at({ layers: 5 }, 0.1), layersBrush)).toBe(true);
    expect(passesBrushes(axes, at({ layers: 6 }, 0.1), layersBrush)).toBe(false);
    expect(passesBrushes(axes, at({}, 0.1), layersBrush)).toBe(false); // no value on a brushed axis
    expect(passesBrushes(axes, at({ layers: 6 }, 0.1), {})).toBe(true);
    const both = { ...layersBrush, 'param:optimizer': { lo: 0.9, hi: 1 } }; // adam only
    expect(passesBrushes(axes, at({ layers: 2, optimizer: 'adam' }, null), both)).toBe(true);
    expect(passesBrushes(axes, at({ layers: 2, optimizer: 'sgd' }, null), both)).toBe(false);
  });
});

describe('ParallelCoordinates', () => {
  const render = (props: Partial<ParallelCoordinatesProps>) =>
    renderToStaticMarkup(
      createElement(ParallelCoordinates, { axes: axesFromSpace(space), trials: [], objective: loss, ...props }),
    );
  const count = (html: string, needle: string) => html.split(needle).length - 1;

  it('draws the axes and says so when there are no trials', () => {
    const html = render({});
    expect(count(html, 'data-axis=')).toBe(4);
    expect(html).toContain('No trials yet');
    expect(count(html, 'data-trial-id=')).toBe(0);
    expect(html).not.toContain('NaN');
  });

  it('draws one trial', () => {
    const html = render({ trials: [trial('t1', { optimizer: 'adam', lr: 0.01, layers: 3 }, 0.42)] });
    expect(count(html, 'data-trial-id="t1"')).toBe(1);
    expect(html).toContain('1 trial<');
    expect(html).not.toContain('NaN');
  });

  it('draws 200 trials in every state, with long parameter names cut to fit', () => {
    const long = 'optimizer.scheduler.cosine_warmup_fraction';
    const states: SweepTrialState[] = ['completed', 'running', 'pruned', 'failed'];
    const trials = Array.from({ length: 200 }, (_, i) =>
      trial(
        `t${i}`,
        { optimizer: i % 2 ? 'adam' : 'sgd', lr: 10 ** (-4 + (i % 5)), layers: 1 + (i % 9), [long]: i / 200 },
        states[i % 4] === 'completed' || states[i % 4] === 'pruned' ? (i * 37) % 101 : null,
        states[i % 4],
      ),
    );
    const html = render({
      axes: [...axesFromSpace(space), { name: long, kind: 'linear', min: 0, max: 1 }],
      trials,
      objectiveScale: 'log',
    });
    expect(count(html, 'data-trial-id=')).toBe(200);
    expect(html).toContain('200 trials');
    expect(html).toContain(`<title>${long}</title>`);
    expect(html).toContain('>optimizer.schedule…<');
    expect(count(html, 'stroke-dasharray="4 3"')).toBeGreaterThanOrEqual(100);
    expect(html).not.toContain('NaN');
  });
});
