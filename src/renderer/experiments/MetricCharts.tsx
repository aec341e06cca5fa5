import 'uplot/dist/uPlot.min.css';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import { decodeSeriesBinary, type BinarySeries } from '#shared/series-binary';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { useEffectiveTheme } from '../lib/theme';
import {
  alignLines,
  ema,
  finiteOrNull,
  formatMetric,
  pointsForWidth,
  positiveOrNull,
  runColor,
  type Line,
} from './charts';
import { useLiveEvents, useThrottled } from './live';
import { useWidth } from '../lib/hooks';

const CHART_HEIGHT = 220;
/** Live charts refetch at most this often, however fast points arrive. */
const LIVE_REFETCH_MS = 2_000;

export interface ChartRun {
  id: string;
  name: string;
}

interface ChartOptions {
  x: 'step' | 'time';
  log: boolean;
  smoothing: number;
}

/** 1, 2, 5, 10, 20, 50… up to 5e12: uPlot picks the smallest that leaves room between labels. */
const STEP_TICK_INCREMENTS = Array.from({ length: 13 }, (_, power) => [1, 2, 5].map((m) => m * 10 ** power)).flat();

/**
 * One chart per metric key with every run overlaid (run i in colour i), with shared controls: x by step or
 * time, a log-scaled y axis, and EMA smoothing. Each chart asks the server for about one point per pixel, so a
 * series of a million points draws as fast as one of a thousand. Charts follow `run.metrics` events live.
 */
export function MetricCharts({ runs, keys }: { runs: readonly ChartRun[]; keys: readonly string[] }) {
  const [options, setOptions] = useState<ChartOptions>({ x: 'step', log: false, smoothing: 0 });
  const queryClient = useQueryClient();
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);
  const refetch = useThrottled(
    () => void queryClient.invalidateQueries({ queryKey: ['modelhub', 'series', runIds] }),
    LIVE_REFETCH_MS,
  );
  useLiveEvents(
    (name) => name === 'run.metrics',
    (event) => {
      if (runIds.includes((event.data as { runId: string }).runId)) refetch();
    },
  );

  return (
    <div data-testid="metric-charts" className="space-y-3">
      <div className="flex flex-wrap items-center gap-x-5 gap-y-2 text-[13px]">
        <div
          role="group"
          aria-label="X axis"
          className="inline-flex overflow-hidden rounded-md border border-zinc-300 dark:border-zinc-700"
        >
          {(['step', 'time'] as const).map((x) => (
            <button
              key={x}
              type="button"
              aria-pressed={options.x === x}
              onClick={() => setOptions((o) => ({ ...o, x }))}
              className={cx(
                'h-7 px-3 text-[12px] font-medium',
                options.x === x
                  ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900'
                  : 'bg-white text-zinc-700 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800',
              )}
            >
              {x === 'step' ? 'Step' : 'Time'}
            </button>
          ))}
        </div>
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            className="accent-indigo-600"
            checked={options.log}
            onChange={(e) => setOptions((o) => ({ ...o, log: e.target.checked }))}
          />
          Log scale
        </label>
        <label className="flex items-center gap-2">
          Smoothing
          <input
            type="range"
            aria-label="Smoothing"
            min={0}
            max={0.99}
            step={0.01}
            value={options.smoothing}
            onChange={(e) => setOptions((o) => ({ ...o, smoothing: Number(e.target.value) }))}
            className="w-36 accent-indigo-600"
          />
          <span className="w-8 font-mono text-[12px] tabular-nums">{options.smoothing.toFixed(2)}</span>
        </label>
        {runs.length > 1 && (
          <ul aria-label="Runs in the charts" className="flex flex-wrap items-center gap-x-3 gap-y-1 text-[12px]">
            {runs.map((r, i) => (
              <li key={r.id} className="flex items-center gap-1.5">
                <span className="inline-block h-0.5 w-4 rounded" style={{ background: runColor(i) }} />
                {r.name}
              </li>
            ))}
          </ul>
        )}
      </div>
      {keys.length === 0 ? (
        <Card>
          <EmptyState title="No metrics logged yet" />
        </Card>
      ) : (
        <div className="grid grid-cols-1 gap-3 xl:grid-cols-2">
          {keys.map((key) => (
            <MetricChart key={key} metric={key} runs={runs} options={options} />
          ))}
        </div>
      )}
    </div>
  );
}

function MetricChart({ metric, runs, options }: { metric: string; runs: readonly ChartRun[]; options: ChartOptions }) {
  const api = useApi();
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const maxPoints = pointsForWidth(width);
  const runIds = runs.map((r) => r.id);
  const series = useQuery({
    queryKey: queryKeys.runSeries(runIds, [metric], options.x, maxPoints),
    // Binary float64 columns: a chart of many runs parses in no time, where JSON took tens of milliseconds.
    queryFn: async () =>
      decodeSeriesBinary(
        (await api.file('runs.seriesBinary', { runIds, keys: [metric], x: options.x, maxPoints, method: 'lttb' }))
          .bytes,
      ),
    enabled: width > 0,
    placeholderData: keepPreviousData,
  });
  const found = series.data?.series ?? [];
  const total = found.reduce((n, s) => n + s.total, 0);

  return (
    <Card
      title={<span className="font-mono">{metric}</span>}
      actions={
        series.data && (
          <Muted className="text-[11px] tabular-nums">
            {total.toLocaleString('en-US')} {total === 1 ? 'point' : 'points'}
          </Muted>
        )
      }
      bodyClassName="px-2 pt-2 pb-1"
      data-testid="metric-chart"
    >
      <div
        ref={box}
        data-key={metric}
        data-series={found.length}
        data-chart={metric}
        className="relative"
        style={{ minHeight: CHART_HEIGHT }}
      >
        {series.isError ? (
          <ErrorBanner error={series.error} onRetry={() => void series.refetch()} />
        ) : !series.data ? (
          <div className="flex items-center gap-2 p-4 text-zinc-500">
            <Spinner /> Loading…
          </div>
        ) : found.length === 0 ? (
          <EmptyState title="No points" />
        ) : (
          <Plot width={width} runs={runs} series={found} options={options} />
        )}
      </div>
    </Card>
  );
}

/** The chart itself: uPlot on a canvas, remade when its data or options change, resized in place. */
function Plot({
  width,
  runs,
  series,
  options,
}: {
  width: number;
  runs: readonly ChartRun[];
  series: readonly BinarySeries[];
  options: ChartOptions;
}) {
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useEffectiveTheme();

  useEffect(() => {
    const el = target.current;
    if (!el) return;
    const lines: (Line & { label: string; color: string; faded: boolean })[] = [];
    for (const s of series) {
      const index = runs.findIndex((r) => r.id === s.runId);
      const name = runs[index]?.name ?? s.runId.slice(0, 8);
      const x = options.x === 'time' ? Array.from(s.x, (ms) => ms / 1000) : Array.from(s.x);
      let y = Array.from(s.y, finiteOrNull);
      if (options.log) y = positiveOrNull(y);
      const color = runColor(Math.max(0, index));
      if (options.smoothing > 0) {
        lines.push({ x, y, label: `${name} (raw)`, color, faded: true });
        lines.push({ x, y: ema(y, options.smoothing), label: name, color, faded: false });
      } else lines.push({ x, y, label: name, color, faded: false });
    }
    const dark = theme === 'dark';
    const axis: uPlot.Axis = {
      stroke: dark ? '#a1a1aa' : '#52525b',
      grid: { stroke: dark ? '#27272a' : '#e4e4e7', width: 1 },
      ticks: { stroke: dark ? '#3f3f46' : '#d4d4d8', width: 1 },
      font: '11px ui-sans-serif, system-ui, sans-serif',
    };
    const opts: uPlot.Options = {
      width: Math.max(200, width),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { points: { size: 6 } },
      scales: {
        // One x value (a metric logged once) gets a narrow range around it, not uPlot's 0..100.
        x: {
          time: options.x === 'time',
          range: (u, min, max) => {
            const xs = u.data[0];
            const only = xs.length > 0 && xs[0] === xs[xs.length - 1] ? xs[0] : undefined;
            return only === undefined ? [min, max] : [only - 1, only + 1];
          },
        },
        y: { distr: options.log ? 3 : 1 },
      },
      axes: [
        // Steps are whole numbers: no ticks between them when zoomed in.
        options.x === 'step' ? { ...axis, incrs: STEP_TICK_INCREMENTS } : axis,
        {
          ...axis,
          values: (_u, splits) => splits.map((v) => formatMetric(v)),
          // Wide enough for the longest tick label ("1.000e-4"), measured in characters.
          size: (_u, values) => Math.max(36, ...(values ?? []).map((v) => String(v).length * 6.5 + 18)),
        },
      ],
      series: [
        { label: options.x },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.faded ? `${l.color}55` : l.color,
          width: l.faded ? 1 : 1.6,
          // Points only where uPlot finds room for them (a metric logged once or twice is then still seen).
          points: l.faded ? { show: false } : { size: 5 },
          spanGaps: false,
        })),
      ],
    };
    const chart = new uPlot(opts, alignLines(lines), el);
    plot.current = chart;
    return () => {
      chart.destroy();
      plot.current = null;
    };
    // The width is left out: setSize below applies it without remaking the chart.
  }, [series, runs, options, theme]);

  useEffect(() => {
    plot.current?.setSize({ width: Math.max(200, width), height: CHART_HEIGHT });
  }, [width]);

  return <div ref={target} data-testid="plot" data-lines={series.length} data-theme={theme} />;
}
