import type { Run } from '#shared/contracts/modelhub';
import { EmptyState } from '../components/ui';
import { formatMetric } from './charts';
import { parallelData, type Axis } from './compare';

const HEIGHT = 260;
const PAD_Y = 28;
const PAD_X = 60;

function axisLabels(axis: Axis): { at: number; text: string }[] {
  if (axis.kind === 'categorical') {
    const n = axis.categories.length;
    return axis.categories.map((c, i) => ({ at: n === 1 ? 0.5 : i / (n - 1), text: c }));
  }
  if (axis.min === axis.max) return [{ at: 0.5, text: formatMetric(axis.min) }];
  return [
    { at: 0, text: formatMetric(axis.min) },
    { at: 1, text: formatMetric(axis.max) },
  ];
}

/** Low metric values blue, high ones amber: a line's colour says where it ends. */
function metricColor(value: number | null, min: number, max: number): string {
  if (value === null) return '#a1a1aa';
  const t = max === min ? 0.5 : (value - min) / (max - min);
  const hue = 230 - t * 190;
  return `hsl(${hue} 80% 50%)`;
}

/**
 * Parallel coordinates of the runs' params and one metric, as plain SVG: an axis per param that varies, the
 * metric last, and one line per run coloured by that metric.
 */
export function ParallelCoordinates({
  runs,
  metric,
  names,
}: {
  runs: readonly Run[];
  metric: string;
  names: ReadonlyMap<string, string>;
}) {
  const data = parallelData(runs, metric);
  if (data.axes.length < 2) {
    return <EmptyState title="Nothing to plot">These runs have no params to set against {metric}.</EmptyState>;
  }
  const width = Math.max(480, data.axes.length * 140);
  const xOf = (i: number) => PAD_X + (i * (width - 2 * PAD_X)) / (data.axes.length - 1);
  const yOf = (p: number) => HEIGHT - PAD_Y - p * (HEIGHT - 2 * PAD_Y);
  const metricAxis = data.axes.at(-1) as Axis;
  return (
    <div className="overflow-x-auto">
      <svg
        width={width}
        height={HEIGHT}
        role="img"
        aria-label={`Parallel coordinates of params and ${metric}`}
        data-testid="parallel-coordinates"
        className="text-zinc-500 dark:text-zinc-400"
      >
        {data.lines.map((line) => {
          let d = '';
          let pen = false;
          line.positions.forEach((p, i) => {
            if (p === null) {
              pen = false;
              return;
            }
            d += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(p).toFixed(1)}`;
            pen = true;
          });
          return (
            <path
              key={line.runId}
              d={d}
              fill="none"
              stroke={metricColor(line.metric, metricAxis.min, metricAxis.max)}
              strokeWidth={1.8}
              strokeOpacity={0.85}
              data-run-id={line.runId}
            >
              <title>
                {names.get(line.runId) ?? line.runId}: {metric} ={' '}
                {line.metric === null ? '—' : formatMetric(line.metric)}
              </title>
            </path>
          );
        })}
        {data.axes.map((axis, i) => (
          <g key={`${i}:${axis.key}`} transform={`translate(${xOf(i)},0)`}>
            <line y1={PAD_Y} y2={HEIGHT - PAD_Y} stroke="currentColor" strokeOpacity={0.5} />
            <text y={14} textAnchor="middle" fontSize={11} fontWeight={600} fill="currentColor">
              {i === data.axes.length - 1 ? `${axis.key} (metric)` : axis.key}
            </text>
            {axisLabels(axis).map((label) => (
              <text
                key={label.text}
                x={5}
                y={yOf(label.at) + 4}
                fontSize={10}
                fill="currentColor"
                strokeWidth={3}
                paintOrder="stroke"
                className="stroke-white dark:stroke-zinc-900"
              >
                {label.text.length > 14 ? `${label.text.slice(0, 13)}…` : label.text}
              </text>
            ))}
          </g>
        ))}
      </svg>
    </div>
  );
}
