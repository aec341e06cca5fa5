import type { ParamValue, SweepObjective, SweepSpace, SweepTrialState } from '#shared/sweep-space';

/**
 * The arithmetic of a sweep's parallel-coordinates view: axes and their scales, where a trial's line runs, its
 * colour, and the brushes (ranges dragged out on axes) that filter the lines. The component draws what this says.
 */

export type AxisKind = 'linear' | 'log' | 'category';

/** An axis as the page asks for it: a parameter, with the range or the choices its space gives. */
export interface AxisSpec {
  name: string;
  kind: AxisKind;
  /** category: the values in order, bottom to top; values the trials have beyond these are added after them. */
  categories?: readonly ParamValue[];
  /** linear and log: the range to show at least (the space's), widened to take in every trial's value. */
  min?: number;
  max?: number;
}

export interface PlotTrial {
  id: string;
  values: Readonly<Record<string, ParamValue | null>>;
  state: SweepTrialState;
  objective: number | null;
}

/** An axis with its domain settled. */
export interface Axis {
  /** Unique among the axes: a parameter and the objective may share a name. */
  key: string;
  name: string;
  kind: AxisKind;
  isObjective: boolean;
  /** linear and log: the domain (equal when every value is the same); a stand-in, unlabelled, when `empty`. */
  min: number;
  max: number;
  /** category: the values bottom to top. */
  categories: ParamValue[];
  /** Nothing to place on it yet: no range given, no values (the objective before any trial ends). */
  empty: boolean;
}

/** One axis per parameter of the space, in its order: choices as categories, loguniform on a log scale. */
export function axesFromSpace(space: SweepSpace): AxisSpec[] {
  return Object.entries(space).map(([name, param]): AxisSpec => {
    switch (param.type) {
      case 'choice':
        return { name, kind: 'category', categories: param.values };
      case 'loguniform':
        return { name, kind: 'log', min: param.min, max: param.max };
      default:
        return { name, kind: 'linear', min: param.min, max: param.max };
    }
  });
}

/**
 * The parameter axes with their domains settled from the spec and the trials' values, then the objective's axis.
 * A log axis whose values are not all positive falls back to linear.
 */
export function resolveAxes(
  specs: readonly AxisSpec[],
  trials: readonly PlotTrial[],
  objective: SweepObjective,
  objectiveKind: 'linear' | 'log' = 'linear',
): Axis[] {
  const params = specs.map((spec) =>
    resolveAxis(
      `param:${spec.name}`,
      spec,
      trials.map((t) => t.values[spec.name] ?? null),
      false,
    ),
  );
  const metric = resolveAxis(
    'objective',
    { name: objective.metric, kind: objectiveKind },
    trials.map((t) => t.objective),
    true,
  );
  return [...params, metric];
}

function resolveAxis(key: string, spec: AxisSpec, values: readonly (ParamValue | null)[], isObjective: boolean): Axis {
  const base = { key, name: spec.name, isObjective, min: 0, max: 0, categories: [], empty: false };
  if (spec.kind === 'category') {
    const categories = [...(spec.categories ?? [])];
    const known = new Set(categories.map(valueKey));
    for (const v of values) {
      if (v !== null && !known.has(valueKey(v))) {
        known.add(valueKey(v));
        categories.push(v);
      }
    }
    return { ...base, kind: 'category', categories, empty: categories.length === 0 };
  }
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const bounds = [spec.min, spec.max].filter((v): v is number => v !== undefined && Number.isFinite(v));
  const all = [...bounds, ...numbers];
  const empty = all.length === 0;
  if (spec.kind === 'log' && all.every((v) => v > 0)) {
    return { ...base, kind: 'log', ...(empty ? { min: 1, max: 10 } : extent(all)), empty };
  }
  return { ...base, kind: 'linear', ...(empty ? { min: 0, max: 1 } : extent(all)), empty };
}

function extent(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** Tells 1 from "1" from true, as the sweep does. */
function valueKey(v: ParamValue): string {
  return JSON.stringify(v);
}

/** Where a value sits on an axis, 0 (bottom) to 1 (top); null when it is missing or has no place there. */
export function positionOn(axis: Axis, value: ParamValue | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (axis.kind === 'category') {
    const i = axis.categories.findIndex((c) => valueKey(c) === valueKey(value));
    if (i < 0) return null;
    return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (axis.kind === 'log' && value <= 0) return null;
  if (axis.min === axis.max) return 0.5;
  const scale = axis.kind === 'log' ? Math.log : (x: number) => x;
  return clamp01((scale(value) - scale(axis.min)) / (scale(axis.max) - scale(axis.min)));
}

/** A trial's position on each axis, the objective's last. */
export function trialPositions(axes: readonly Axis[], trial: PlotTrial): (number | null)[] {
  return axes.map((axis) => positionOn(axis, axis.isObjective ? trial.objective : trial.values[axis.name]));
}

export interface Tick {
  at: number;
  label: string;
}

/** Axis labels: each category (thinned past `maxLabels`), round numbers on a linear axis, decades on a log one. */
export function axisTicks(axis: Axis, maxLabels = 8): Tick[] {
  if (axis.empty) return [];
  if (axis.kind === 'category') {
    const every = Math.ceil(axis.categories.length / maxLabels);
    return axis.categories
      .map((c, i) => ({ at: positionOn(axis, c) ?? 0.5, label: formatValue(c), i }))
      .filter(({ i }) => i % every === 0)
      .map(({ at, label }) => ({ at, label }));
  }
  if (axis.min === axis.max) return [{ at: 0.5, label: formatValue(axis.min) }];
  if (axis.kind === 'log') {
    const decades: number[] = [];
    for (let k = Math.ceil(Math.log10(axis.min) - 1e-9); k <= Math.floor(Math.log10(axis.max) + 1e-9); k++) {
      decades.push(10 ** k);
    }
    const values = decades.length >= 2 ? thin(decades, maxLabels) : [axis.min, axis.max];
    return values.map((v) => ({ at: positionOn(axis, v)!, label: formatValue(v) }));
  }
  const step = niceStep((axis.max - axis.min) / Math.max(1, Math.min(maxLabels, 5) - 1));
  const ticks: Tick[] = [];
  for (let v = Math.ceil(axis.min / step - 1e-9) * step; v <= axis.max + step * 1e-9; v += step) {
    const value = Number(v.toPrecision(12));
    ticks.push({ at: positionOn(axis, value)!, label: formatValue(value) });
  }
  return ticks;
}

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw * (1 - 1e-9)) ?? 10) * power;
}

function thin<T>(xs: readonly T[], max: number): T[] {
  const every = Math.ceil(xs.length / max);
  return xs.filter((_, i) => i % every === 0);
}

/** A value as a label: integers as they are, very small or large numbers in exponent form, others to 4 figures. */
export function formatValue(value: ParamValue | null): string {
  if (value === null) return '—';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const abs = Math.abs(value);
  // 1.50e+7 → 1.5e7: three figures at most, no padding.
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6))
    return value
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

/** A label cut to `max` characters, with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

// ---------------------------------------------------------------------------------------------------------------
// Layout

export const PLOT = {
  height: 320,
  /** Room above the axes for their names, and below for the last tick label. */
  top: 46,
  bottom: 300,
  /** Room left of the first axis and right of the last (for its tick labels). */
  padX: 64,
  /** The least room between two axes. */
  spacing: 130,
  minWidth: 480,
} as const;

export function plotWidth(axisCount: number): number {
  return Math.max(PLOT.minWidth, 2 * PLOT.padX + Math.max(0, axisCount - 1) * PLOT.spacing);
}

/** The x of each axis, spread evenly across the width (one axis: in the middle). */
export function axisXs(axisCount: number, width: number): number[] {
  if (axisCount === 1) return [width / 2];
  const span = width - 2 * PLOT.padX;
  return Array.from({ length: axisCount }, (_, i) => PLOT.padX + (i * span) / (axisCount - 1));
}

/** The y of a position on an axis: 1 at the top. */
export function yOf(position: number): number {
  return PLOT.bottom - position * (PLOT.bottom - PLOT.top);
}

/** The position a pointer at `clientY` points to on an axis drawn from `top` to `top + height` on the screen. */
export function positionAtPointer(clientY: number, top: number, height: number): number {
  return height <= 0 ? 0 : clamp01(1 - (clientY - top) / height);
}

/** An SVG path through the positions on the axes at `xs`, broken where a position is missing. */
export function linePath(positions: readonly (number | null)[], xs: readonly number[]): string {
  let d = '';
  let penDown = false;
  positions.forEach((p, i) => {
    if (p === null) {
      penDown = false;
      return;
    }
    const point = `${xs[i]!.toFixed(1)},${yOf(p).toFixed(1)}`;
    // A lone point still shows: a dot-sized segment.
    const lone = !penDown && (positions[i + 1] ?? null) === null;
    d += penDown ? `L${point}` : lone ? `M${point}h0.01` : `M${point}`;
    penDown = true;
  });
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Colour

/** Good to bad: blue, purple, orange: told apart with the common colour-vision deficiencies, legible on light and dark. */
export const GOOD_TO_BAD = ['#3b82f6', '#a855f7', '#ea580c'] as const;
/** Trials with no objective (running, failed) and lines filtered out by a brush. */
export const NO_VALUE_COLOR = '#a1a1aa';

/**
 * Each trial's standing by objective, 0 (best) to 1 (worst), by rank rather than value so that one diverged trial
 * does not wash the others into one colour; equal values share a standing. Trials with no finite objective are absent.
 */
export function objectiveRanks(trials: readonly PlotTrial[], goal: SweepObjective['goal']): Map<string, number> {
  const valued = trials.filter(
    (t): t is PlotTrial & { objective: number } => t.objective !== null && Number.isFinite(t.objective),
  );
  valued.sort((a, b) => (goal === 'minimize' ? a.objective - b.objective : b.objective - a.objective));
  const ranks = new Map<string, number>();
  let rank = 0;
  valued.forEach((t, i) => {
    if (i > 0 && t.objective !== valued[i - 1]!.objective) rank = i;
    ranks.set(t.id, valued.length === 1 ? 0 : rank / (valued.length - 1));
  });
  return ranks;
}

/** The colour of a standing 0 (best) … 1 (worst); grey for none. */
export function objectiveColor(standing: number | undefined): string {
  if (standing === undefined) return NO_VALUE_COLOR;
  const t = clamp01(standing) * (GOOD_TO_BAD.length - 1);
  const i = Math.min(GOOD_TO_BAD.length - 2, Math.floor(t));
  const [from, to] = [hexRgb(GOOD_TO_BAD[i]!), hexRgb(GOOD_TO_BAD[i + 1]!)];
  const mix = from.map((c, k) => Math.round(c + (to[k]! - c) * (t - i)));
  return `#${mix.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function hexRgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/**
 * The order to draw lines in, later on top: trials without an objective first, then worst to best, so that the best
 * lines stay visible in a crowd.
 */
export function drawOrder(trials: readonly PlotTrial[], ranks: ReadonlyMap<string, number>): PlotTrial[] {
  const standing = (t: PlotTrial) => ranks.get(t.id) ?? 2;
  return [...trials].sort((a, b) => standing(b) - standing(a));
}

// ---------------------------------------------------------------------------------------------------------------
// Brushing

/** A range dragged out on an axis, in positions (0 bottom … 1 top). */
export interface Brush {
  lo: number;
  hi: number;
}

/** Brushes by axis key. */
export type Brushes = Readonly<Record<string, Brush>>;

/** The brush a drag from one position to another makes; null for a click (which clears the axis's brush). */
export function brushBetween(from: number, to: number): Brush | null {
  if (Math.abs(to - from) < 0.01) return null;
  return { lo: clamp01(Math.min(from, to)), hi: clamp01(Math.max(from, to)) };
}

/** Whether a line passes every brush: its position on each brushed axis is inside the range. */
export function passesBrushes(axes: readonly Axis[], positions: readonly (number | null)[], brushes: Brushes): boolean {
  return axes.every((axis, i) => {
    const brush = brushes[axis.key];
    if (!brush) return true;
    const p = positions[i] ?? null;
    // A hair of slack, so that a brush drawn to an axis end keeps the values sitting on it.
    return p !== null && p >= brush.lo - 1e-9 && p <= brush.hi + 1e-9;
  });
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

// ---------------------------------------------------------------------------------------------------------------
// Line style

export interface LineStyle {
  stroke: string;
  strokeOpacity: number;
  strokeWidth: number;
  /** Dashed for trials that did not finish: pruned or failed. */
  strokeDasharray: string | undefined;
}

/**
 * How a trial's line looks: coloured by its standing, dashed and faint when pruned or failed, grey and faint when a
 * brush filters it out. Lines are fainter in a crowd, so that where many run together reads as darker.
 */
export function lineStyle(
  state: SweepTrialState,
  standing: number | undefined,
  passes: boolean,
  trialCount: number,
): LineStyle {
  const unfinished = state === 'pruned' || state === 'failed';
  if (!passes) return { stroke: NO_VALUE_COLOR, strokeOpacity: 0.12, strokeWidth: 1, strokeDasharray: undefined };
  const opacity = trialCount > 60 ? 0.55 : 0.85;
  return {
    stroke: objectiveColor(standing),
    strokeOpacity: unfinished ? opacity * 0.5 : opacity,
    strokeWidth: state === 'completed' ? 1.5 : 1.25,
    strokeDasharray: unfinished ? '4 3' : undefined,
  };
}
