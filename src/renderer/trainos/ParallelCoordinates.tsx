import { useMemo, useState, type PointerEvent } from 'react';
import type { SweepObjective } from '#shared/sweep-space';
import { Button, Muted } from '../components/ui';
import {
  axisTicks,
  axisXs,
  brushBetween,
  drawOrder,
  formatValue,
  GOOD_TO_BAD,
  lineStyle,
  linePath,
  NO_VALUE_COLOR,
  objectiveRanks,
  passesBrushes,
  PLOT,
  plotWidth,
  positionAtPointer,
  resolveAxes,
  trialPositions,
  truncate,
  yOf,
  type Axis,
  type AxisSpec,
  type Brush,
  type Brushes,
  type PlotTrial,
} from './parallel-coordinates';

export interface ParallelCoordinatesProps {
  /** One per parameter, in the order to draw them (`axesFromSpace` makes them from the sweep's space). */
  axes: readonly AxisSpec[];
  trials: readonly PlotTrial[];
  objective: SweepObjective;
  /** The objective axis's scale: log for a loss that spans decades. */
  objectiveScale?: 'linear' | 'log';
  /** A trial to keep highlighted (the one whose details the page shows). */
  selectedId?: string | null;
  onSelect?: (trialId: string) => void;
}

/** About how wide a character of the 11 px axis names is, to cut them to the room between axes. */
const NAME_CHAR_PX = 6.6;
const TICK_LABEL_CHARS = 12;
/** How far past an axis's ends a drag may start, so that a range can be dragged out from an end. */
const BRUSH_SLOP = 10;

/**
 * A sweep's trials as lines across one vertical axis per parameter and the objective last, coloured from best to
 * worst. Hover a line for its values, click it to select the trial; drag along an axis to keep only the lines
 * through that range, click the axis to let go of it.
 */
export function ParallelCoordinates({
  axes,
  trials,
  objective,
  objectiveScale = 'linear',
  selectedId = null,
  onSelect,
}: ParallelCoordinatesProps) {
  const [brushes, setBrushes] = useState<Brushes>({});
  const [drag, setDrag] = useState<{ key: string; from: number; to: number } | null>(null);
  const [hoveredId, setHoveredId] = useState<string | null>(null);

  const resolved = useMemo(
    () => resolveAxes(axes, trials, objective, objectiveScale),
    [axes, trials, objective, objectiveScale],
  );
  const width = plotWidth(resolved.length);
  const xs = useMemo(() => axisXs(resolved.length, width), [resolved.length, width]);
  const ranks = useMemo(() => objectiveRanks(trials, objective.goal), [trials, objective.goal]);
  const lines = useMemo(
    () =>
      drawOrder(trials, ranks).map((trial) => {
        const positions = trialPositions(resolved, trial);
        return { trial, positions, d: linePath(positions, xs) };
      }),
    [trials, ranks, resolved, xs],
  );
  const passing = new Set(lines.filter((l) => passesBrushes(resolved, l.positions, brushes)).map((l) => l.trial.id));
  const brushed = Object.keys(brushes).length > 0;
  const focused = lines.find((l) => l.trial.id === (hoveredId ?? selectedId));
  const nameChars = Math.floor((xs.length > 1 ? xs[1]! - xs[0]! : width) / NAME_CHAR_PX);

  const setBrush = (key: string, brush: Brush | null) =>
    setBrushes(({ [key]: _replaced, ...rest }) => (brush ? { ...rest, [key]: brush } : rest));
  const pointerPosition = (e: PointerEvent<SVGRectElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    // The target reaches BRUSH_SLOP past each end of the axis; measured on screen, in case the chart is scaled.
    const slop = (BRUSH_SLOP * rect.height) / (PLOT.bottom - PLOT.top + 2 * BRUSH_SLOP);
    return positionAtPointer(e.clientY, rect.top + slop, rect.height - 2 * slop);
  };

  return (
    <div data-testid="sweep-parallel-coordinates" className="space-y-2">
      {/* One line of fixed height: the legend, or the hovered trial's values in its place, so nothing moves. */}
      <div className="flex min-h-7 items-center justify-between gap-4 text-[12px]">
        {focused ? (
          <TrialValues trial={focused.trial} axes={resolved} />
        ) : (
          <Legend objective={objective} hasTrials={trials.length > 0} />
        )}
        <div className="flex shrink-0 items-center gap-2">
          {trials.length > 0 && (
            <span className="text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="trial-count">
              {brushed
                ? `${passing.size} of ${trials.length} trials in the filtered ranges`
                : `${trials.length} trial${trials.length === 1 ? '' : 's'}`}
            </span>
          )}
          {brushed && (
            <Button size="sm" variant="ghost" onClick={() => setBrushes({})}>
              Clear filters
            </Button>
          )}
        </div>
      </div>
      <div className="overflow-x-auto">
        <svg
          width={width}
          height={PLOT.height}
          role="img"
          aria-label={`Parallel coordinates of ${trials.length} trials: ${resolved.map((a) => a.name).join(', ')}`}
          className="text-zinc-500 select-none dark:text-zinc-400"
        >
          {lines.map(({ trial, d }) => {
            const style = lineStyle(trial.state, ranks.get(trial.id), passing.has(trial.id), trials.length);
            return <path key={trial.id} d={d} fill="none" strokeLinecap="round" strokeLinejoin="round" {...style} />;
          })}
          {focused && (
            <path
              d={focused.d}
              fill="none"
              strokeLinecap="round"
              strokeLinejoin="round"
              {...lineStyle(focused.trial.state, ranks.get(focused.trial.id), true, 1)}
              strokeOpacity={1}
              strokeWidth={3}
              data-testid="focused-line"
            />
          )}
          {/* Wide invisible strokes over the lines, so that a thin line is easy to point at. */}
          {lines.map(({ trial, d }) => (
            <path
              key={trial.id}
              d={d}
              fill="none"
              stroke="transparent"
              strokeWidth={8}
              pointerEvents="stroke"
              className={onSelect ? 'cursor-pointer' : undefined}
              data-trial-id={trial.id}
              onPointerEnter={() => setHoveredId(trial.id)}
              onPointerLeave={() => setHoveredId((id) => (id === trial.id ? null : id))}
              onClick={() => onSelect?.(trial.id)}
            >
              <title>{trialTitle(trial, resolved)}</title>
            </path>
          ))}
          {resolved.map((axis, i) => {
            const brush = drag?.key === axis.key ? brushBetween(drag.from, drag.to) : brushes[axis.key];
            return (
              <g key={axis.key} transform={`translate(${xs[i]!.toFixed(1)},0)`} data-axis={axis.name}>
                <line y1={PLOT.top} y2={PLOT.bottom} stroke="currentColor" strokeOpacity={0.45} />
                <text
                  y={16}
                  textAnchor="middle"
                  fontSize={11}
                  fontWeight={600}
                  fill="currentColor"
                  className="text-zinc-700 dark:text-zinc-200"
                >
                  <title>{axis.name}</title>
                  {truncate(axis.name, nameChars)}
                </text>
                <text y={30} textAnchor="middle" fontSize={10} fill="currentColor">
                  {axisNote(axis, objective)}
                </text>
                {axisTicks(axis).map((tick) => (
                  <g key={`${tick.at}:${tick.label}`} transform={`translate(0,${yOf(tick.at).toFixed(1)})`}>
                    <line x1={-3} x2={0} stroke="currentColor" strokeOpacity={0.6} />
                    <text
                      x={6}
                      y={3.5}
                      fontSize={10}
                      fill="currentColor"
                      strokeWidth={3}
                      paintOrder="stroke"
                      className="stroke-white dark:stroke-zinc-900"
                    >
                      {tick.label.length > TICK_LABEL_CHARS && <title>{tick.label}</title>}
                      {truncate(tick.label, TICK_LABEL_CHARS)}
                    </text>
                  </g>
                ))}
                {brush && (
                  <rect
                    x={-6}
                    width={12}
                    y={yOf(brush.hi)}
                    height={Math.max(1, yOf(brush.lo) - yOf(brush.hi))}
                    rx={2}
                    className="fill-indigo-500/20 stroke-indigo-500"
                    data-testid="brush"
                  />
                )}
                {trials.length > 0 && (
                  <rect
                    x={-10}
                    width={20}
                    y={PLOT.top - BRUSH_SLOP}
                    height={PLOT.bottom - PLOT.top + 2 * BRUSH_SLOP}
                    fill="transparent"
                    className="cursor-ns-resize"
                    aria-label={`Filter by ${axis.name}`}
                    onPointerDown={(e) => {
                      e.currentTarget.setPointerCapture(e.pointerId);
                      const at = pointerPosition(e);
                      setDrag({ key: axis.key, from: at, to: at });
                    }}
                    onPointerMove={(e) => {
                      if (drag?.key === axis.key) setDrag({ ...drag, to: pointerPosition(e) });
                    }}
                    onPointerUp={(e) => {
                      if (drag?.key !== axis.key) return;
                      setBrush(axis.key, brushBetween(drag.from, pointerPosition(e)));
                      setDrag(null);
                    }}
                    onPointerCancel={() => setDrag(null)}
                  />
                )}
              </g>
            );
          })}
          {trials.length === 0 && (
            <text
              x={width / 2}
              y={(PLOT.top + PLOT.bottom) / 2}
              textAnchor="middle"
              fontSize={12}
              fill="currentColor"
              strokeWidth={4}
              paintOrder="stroke"
              className="stroke-white dark:stroke-zinc-900"
            >
              No trials yet
            </text>
          )}
        </svg>
      </div>
    </div>
  );
}

/** Under an axis's name: its scale when not linear, and for the objective which way is better. */
function axisNote(axis: Axis, objective: SweepObjective): string {
  const scale = axis.kind === 'log' ? 'log' : '';
  if (!axis.isObjective) return scale;
  const better = objective.goal === 'minimize' ? '↓ better' : '↑ better';
  return scale ? `${scale} · ${better}` : better;
}

function trialTitle(trial: PlotTrial, axes: readonly Axis[]): string {
  return [
    `${trial.id} (${trial.state})`,
    ...axes.map((a) => `${a.name} = ${formatValue(a.isObjective ? trial.objective : (trial.values[a.name] ?? null))}`),
  ].join('\n');
}

function TrialValues({ trial, axes }: { trial: PlotTrial; axes: readonly Axis[] }) {
  return (
    <p className="min-w-0 truncate text-zinc-700 dark:text-zinc-300" title={trialTitle(trial, axes)}>
      <span className="font-medium">{trial.id}</span> <Muted>({trial.state})</Muted>
      {axes.map((a) => (
        <span key={a.key} className="ml-3">
          <Muted>{a.name}</Muted>{' '}
          <span className="font-mono tabular-nums">
            {formatValue(a.isObjective ? trial.objective : (trial.values[a.name] ?? null))}
          </span>
        </span>
      ))}
    </p>
  );
}

function Legend({ objective, hasTrials }: { objective: SweepObjective; hasTrials: boolean }) {
  if (!hasTrials) return <Muted>Trials appear here as they start.</Muted>;
  return (
    <p className="flex min-w-0 flex-wrap items-center gap-x-4 gap-y-1 text-zinc-600 dark:text-zinc-400">
      <span className="flex items-center gap-1.5">
        best
        <span
          aria-hidden="true"
          className="inline-block h-2 w-16 rounded-full"
          style={{ background: `linear-gradient(to right, ${GOOD_TO_BAD.join(', ')})` }}
        />
        worst {objective.metric}
      </span>
      <span className="flex items-center gap-1.5">
        <LineSample color={NO_VALUE_COLOR} /> no value yet
      </span>
      <span className="flex items-center gap-1.5">
        <LineSample color={GOOD_TO_BAD[1]} dashed /> pruned or failed
      </span>
      <Muted>Drag along an axis to filter.</Muted>
    </p>
  );
}

function LineSample({ color, dashed = false }: { color: string; dashed?: boolean }) {
  return (
    <svg width={22} height={6} aria-hidden="true">
      <line x1={1} x2={21} y1={3} y2={3} stroke={color} strokeWidth={2} strokeDasharray={dashed ? '4 3' : undefined} />
    </svg>
  );
}
