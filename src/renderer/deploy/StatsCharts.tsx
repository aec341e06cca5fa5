import 'uplot/dist/uPlot.min.css';
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import { Card, cx, EmptyState, Muted } from '../components/ui';
import { formatMetric } from '../experiments/charts';
import { formatTime } from '../lib/format';
import { useEffectiveTheme } from '../lib/theme';
import type { Deployment } from '#shared/contracts/deploy';
import { formatMs, ratesOf, versionRatesOf, type RateSeries, type StatsSample, type VersionRates } from './stats';
import { useWidth } from '../lib/hooks';

const CHART_HEIGHT = 170;
/** The shortest time span a chart shows, in seconds. */
const WINDOW_S = 60;

interface Line {
  label: string;
  color: string;
  values: (number | null)[];
  /** A version's second line (its errors, its p95): named by the chart's key, not in the legend. */
  dashed?: boolean;
}

interface Chart {
  title: string;
  unit: (v: number) => string;
  lines: Line[];
  /** With a line per version: what its solid and its dashed line show. */
  key?: { solid: string; dashed: string };
}

/** A version's colour: the role chips' (TrafficCard) hues. */
const ROLE_COLOR: Record<VersionRates['role'], string> = { main: '#6366f1', canary: '#f59e0b', shadow: '#0ea5e9' };

/** The deployment's own figures: requests and errors, p50 and p95, generated tokens. */
function deploymentCharts(rates: RateSeries, tokens: boolean): Chart[] {
  return [
    {
      title: 'Requests / s',
      unit: (v) => formatMetric(v),
      lines: [
        { label: 'requests', color: '#6366f1', values: rates.requestsPerSecond },
        { label: 'errors', color: '#ef4444', values: rates.errorsPerSecond },
      ],
    },
    {
      title: 'Latency',
      unit: (v) => formatMs(v),
      lines: [
        { label: 'p50', color: '#10b981', values: rates.p50 },
        { label: 'p95', color: '#f59e0b', values: rates.p95 },
      ],
    },
    // Only LLMs generate tokens: an ONNX deployment's chart would stay at zero.
    ...(tokens
      ? [
          {
            title: 'Tokens / s',
            unit: (v: number) => formatMetric(v),
            lines: [{ label: 'generated', color: '#0ea5e9', values: rates.tokensPerSecond }],
          },
        ]
      : []),
  ];
}

/** The same charts with a line per model version while a canary or shadow is set, a colour per version. */
function versionCharts(versions: VersionRates[], tokens: boolean): Chart[] {
  const solid = (pick: (v: VersionRates) => (number | null)[]) =>
    versions.map((v) => ({ label: v.label, color: ROLE_COLOR[v.role], values: pick(v) }));
  const dashed = (suffix: string, pick: (v: VersionRates) => (number | null)[]) =>
    versions.map((v) => ({ label: `${v.label} ${suffix}`, color: ROLE_COLOR[v.role], values: pick(v), dashed: true }));
  return [
    {
      title: 'Requests / s',
      unit: (v) => formatMetric(v),
      lines: [...solid((v) => v.requestsPerSecond), ...dashed('errors', (v) => v.errorsPerSecond)],
      key: { solid: 'requests', dashed: 'errors' },
    },
    {
      title: 'Latency',
      unit: (v) => formatMs(v),
      lines: [...solid((v) => v.p50), ...dashed('p95', (v) => v.p95)],
      key: { solid: 'p50', dashed: 'p95' },
    },
    ...(tokens
      ? [{ title: 'Tokens / s', unit: (v: number) => formatMetric(v), lines: solid((v) => v.tokensPerSecond) }]
      : []),
  ];
}

/**
 * The live charts of a deployment's traffic, from the stats samples the page polls: requests (and errors) per
 * second, latency percentiles of the last 1,000 requests, and generated tokens per second. While a canary or
 * shadow is set, each chart has a line per model version, named in its legend ("v2 (canary 20%)").
 */
export function StatsCharts({
  history,
  deployment: d,
}: {
  history: readonly StatsSample[];
  deployment: Pick<Deployment, 'runtime' | 'source' | 'traffic'>;
}) {
  const rates = useMemo(() => ratesOf(history), [history]);
  const { source, traffic } = d;
  const versions = useMemo(() => versionRatesOf(history, { source, traffic }), [history, source, traffic]);
  const tokens = d.runtime === 'gguf';
  const charts = versions.length > 0 ? versionCharts(versions, tokens) : deploymentCharts(rates, tokens);
  return (
    <div
      className={cx('grid grid-cols-1 gap-3', charts.length === 3 ? 'lg:grid-cols-3' : 'lg:grid-cols-2')}
      data-testid="deployment-charts"
    >
      {charts.map((c) => (
        <Card
          key={c.title}
          title={c.title}
          bodyClassName="px-2 pt-2 pb-1"
          data-testid="deployment-chart"
          actions={
            <span className="flex flex-wrap items-center justify-end gap-x-3 gap-y-0.5 text-[11px]">
              {c.lines
                .filter((l) => !l.dashed)
                .map((l) => (
                  <span
                    key={l.label}
                    className="flex items-center gap-1.5 text-zinc-500 dark:text-zinc-400"
                    data-testid="chart-series"
                  >
                    <span className="inline-block h-0.5 w-3 rounded" style={{ background: l.color }} />
                    {l.label}
                  </span>
                ))}
              {c.key &&
                (['solid', 'dashed'] as const).map((style) => (
                  <span key={style} className="flex items-center gap-1.5 text-zinc-400 dark:text-zinc-500">
                    <span
                      className={cx('inline-block w-3 border-t border-zinc-400', style === 'dashed' && 'border-dashed')}
                    />
                    {c.key?.[style]}
                  </span>
                ))}
            </span>
          }
        >
          {rates.t.length < 2 ? (
            <div style={{ minHeight: CHART_HEIGHT }} className="flex items-center justify-center">
              <EmptyState title="Collecting…">
                <Muted className="text-[12px]">A point every 2 s while this page is open.</Muted>
              </EmptyState>
            </div>
          ) : (
            <TimeChart t={rates.t} lines={c.lines} format={c.unit} />
          )}
        </Card>
      ))}
    </div>
  );
}

/** uPlot over time; remade when the theme or the set of lines changes, fed new data in place otherwise. */
function TimeChart({ t, lines, format }: { t: number[]; lines: Line[]; format: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const width = useWidth(box);
  const theme = useEffectiveTheme();
  const data = useMemo(() => [t, ...lines.map((l) => l.values)] as uPlot.AlignedData, [t, lines]);
  const latest = useRef({ data, format });
  latest.current = { data, format };
  const shape = lines.map((l) => `${l.label}:${l.color}:${l.dashed ? 'dashed' : ''}`).join(',');

  useEffect(() => {
    const el = target.current;
    if (!el || width === 0) return;
    const dark = theme === 'dark';
    const axis: uPlot.Axis = {
      stroke: dark ? '#a1a1aa' : '#52525b',
      grid: { stroke: dark ? '#27272a' : '#e4e4e7', width: 1 },
      ticks: { stroke: dark ? '#3f3f46' : '#d4d4d8', width: 1 },
      font: '11px ui-sans-serif, system-ui, sans-serif',
    };
    const chart = new uPlot(
      {
        width,
        height: CHART_HEIGHT,
        legend: { show: false },
        cursor: { points: { size: 6 } },
        scales: {
          // At least the last minute, so that the first few points do not stretch across the whole chart.
          x: { time: true, range: (_u, min, max) => [Math.min(min, max - WINDOW_S), max + 1] },
          // From zero; an all-zero line (no requests yet) on 0 to 1 rather than on a scale of 1e-9.
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        axes: [
          { ...axis, space: 70, values: (_u, splits) => splits.map((s) => formatTime(s * 1000)) },
          {
            ...axis,
            values: (_u, splits) => splits.map((v) => latest.current.format(v)),
            size: (_u, values) => Math.max(36, ...(values ?? []).map((v) => String(v).length * 6.5 + 18)),
          },
        ],
        series: [
          { label: 'time' },
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 1.6,
            ...(l.dashed ? { dash: [4, 3] } : {}),
            // Every point while there are few (a single reading draws no line), none once the line tells the story.
            points: { size: 4, show: (u: uPlot) => u.data[0].length <= 20 },
            spanGaps: false,
          })),
        ],
      },
      latest.current.data,
      el,
    );
    plot.current = chart;
    return () => {
      chart.destroy();
      plot.current = null;
    };
    // Data and width are applied in place below; only the theme, the lines, or the first width remake it.
  }, [theme, shape, width === 0]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  useEffect(() => {
    if (width > 0) plot.current?.setSize({ width, height: CHART_HEIGHT });
  }, [width]);

  return (
    <div ref={box} style={{ minHeight: CHART_HEIGHT }}>
      <div ref={target} data-testid="plot" data-points={t.length} data-series={lines.map((l) => l.label).join('|')} />
    </div>
  );
}
