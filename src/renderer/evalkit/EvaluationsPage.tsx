import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { INTERVAL_KEY_OF_METRIC, type Evaluation, type EvaluationSummary } from '#shared/contracts/evalkit-evaluations';
import { ErrorBanner } from '../components/ErrorBanner';
import { Icon, type IconProps } from '../components/icons';
import { Button, Card, cx, EmptyState, inputClass, Muted, PageHeader, ProgressBar, Spinner } from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { BenchmarksCard } from './BenchmarksCard';

const KEY = ['evalkit', 'evaluations'] as const;

/** A check mark over a bar chart: the sidebar's Evaluations entry. */
export const EvaluationsIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M4 20V10M10 20V4M16 20v-6" />
    <path d="m15 7 2 2 4-4" />
  </Icon>
);

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : String(Number(v.toPrecision(4)));
}

function subject(e: EvaluationSummary): string {
  const version = e.model === null ? null : `${e.model} v${e.modelVersion}`;
  if (e.deployment === null) return version ?? '—';
  return version === null ? e.deployment : `${e.deployment} (${version})`;
}

const STATE_TONE: Record<EvaluationSummary['state'], string> = {
  queued: 'text-zinc-500',
  running: 'text-indigo-600 dark:text-indigo-400',
  succeeded: 'text-emerald-600 dark:text-emerald-400',
  failed: 'text-red-600 dark:text-red-400',
};

function NewEvaluation({ onCreated }: { onCreated: (id: string) => void }) {
  const api = useApi();
  const [params] = useSearchParams();
  const [form, setForm] = useState({
    model: params.get('model') ?? '',
    version: params.get('version') ?? '',
    dataset: '',
    datasetVersion: 'latest',
    target: '',
    slice: '',
  });
  const create = useMutation({
    mutationFn: () => {
      const version = form.version.trim();
      return api.call('evaluations.create', {
        model: form.model.trim(),
        ...(version ? { version: /^\d+$/.test(version) ? Number(version) : version } : {}),
        dataset: form.dataset.trim(),
        datasetVersion: form.datasetVersion.trim() || 'latest',
        target: form.target.trim(),
        ...(form.slice.trim() ? { slice: form.slice.trim() } : {}),
      });
    },
    onSuccess: (created) => onCreated(created.id),
  });
  const field = (name: keyof typeof form, label: string, placeholder = '') => (
    <label className="flex flex-col gap-1">
      <span className="text-[12px] text-zinc-500">{label}</span>
      <input
        className={inputClass}
        name={name}
        placeholder={placeholder}
        value={form[name]}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      />
    </label>
  );
  return (
    <Card title="New evaluation" data-testid="new-evaluation">
      <form
        className="grid gap-3 md:grid-cols-3"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        {field('model', 'Model')}
        {field('version', 'Version', 'newest, 3 or @champion')}
        {field('dataset', 'Dataset')}
        {field('datasetVersion', 'Dataset version')}
        {field('target', 'Target column')}
        {field('slice', 'Slice by column', 'optional')}
        <div className="flex items-center gap-3 md:col-span-3">
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Evaluate
          </Button>
          {create.isPending && <Spinner />}
        </div>
      </form>
      {create.error && <ErrorBanner className="mt-3" error={create.error} />}
    </Card>
  );
}

function ConfusionMatrix({ classes, matrix }: { classes: (string | number)[]; matrix: number[][] }) {
  const max = Math.max(1, ...matrix.flat());
  return (
    <table className="text-center tabular-nums" data-testid="confusion-matrix">
      <thead className="text-[12px] text-zinc-500">
        <tr>
          <th className="px-2 py-1 text-left font-medium">true \ predicted</th>
          {classes.map((c) => (
            <th key={String(c)} className="px-2 py-1 font-medium">
              {String(c)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, i) => (
          <tr key={String(classes[i])}>
            <th className="px-2 py-1 text-left font-medium">{String(classes[i])}</th>
            {row.map((n, j) => (
              <td
                key={j}
                className="px-3 py-1.5"
                style={{ backgroundColor: `rgba(99, 102, 241, ${(0.08 + (0.7 * n) / max).toFixed(3)})` }}
              >
                {n}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Points (x, y) in [0, 1]² with the diagonal: a calibration curve. */
function CalibrationCurve({ points }: { points: { x: number; y: number; n: number }[] }) {
  const size = 220;
  const at = (v: number) => 10 + v * (size - 20);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${at(p.x)},${at(1 - p.y)}`).join(' ');
  return (
    <svg width={size} height={size} data-testid="calibration-curve" className="shrink-0 text-zinc-400">
      <rect x={10} y={10} width={size - 20} height={size - 20} fill="none" stroke="currentColor" strokeWidth={0.5} />
      <line x1={at(0)} y1={at(1)} x2={at(1)} y2={at(0)} stroke="currentColor" strokeDasharray="4 3" />
      <path d={path} fill="none" stroke="#6366f1" strokeWidth={2} />
      {points.map((p) => (
        <circle key={p.x} cx={at(p.x)} cy={at(1 - p.y)} r={3} fill="#6366f1">
          <title>{`predicted ${num(p.x)}, observed ${num(p.y)} (${p.n} rows)`}</title>
        </circle>
      ))}
    </svg>
  );
}

function Bars({ edges, counts }: { edges: number[]; counts: number[] }) {
  const max = Math.max(1, ...counts);
  const width = 320;
  const height = 140;
  const w = width / Math.max(1, counts.length);
  return (
    <svg width={width} height={height + 16} data-testid="residuals-histogram">
      {counts.map((c, i) => (
        <rect
          key={i}
          x={i * w + 1}
          y={height - (c / max) * height}
          width={w - 2}
          height={(c / max) * height}
          fill="#6366f1"
        >
          <title>{`${num(edges[i])} … ${num(edges[i + 1])}: ${c}`}</title>
        </rect>
      ))}
      <text x={0} y={height + 13} fontSize={10} fill="currentColor">
        {num(edges[0])}
      </text>
      <text x={width} y={height + 13} fontSize={10} textAnchor="end" fill="currentColor">
        {num(edges.at(-1))}
      </text>
    </svg>
  );
}

function Detail({ evaluation: e }: { evaluation: Evaluation }) {
  const report = e.report;
  return (
    <div className="space-y-4" data-testid="evaluation-detail">
      <Card title={`${subject(e)} on ${e.dataset} v${e.datasetVersion}`}>
        <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
          <dt className="text-zinc-500">State</dt>
          <dd className={STATE_TONE[e.state]} data-testid="evaluation-state">
            {e.state}
          </dd>
          {e.reason && (
            <>
              <dt className="text-zinc-500">Reason</dt>
              <dd data-testid="evaluation-reason">{e.reason}</dd>
            </>
          )}
          <dt className="text-zinc-500">Table</dt>
          <dd>
            {e.file}, target <b>{e.target}</b>
            {e.slice ? `, sliced by ${e.slice}` : ''}
          </dd>
          <dt className="text-zinc-500">Task</dt>
          <dd>{e.task ?? '—'}</dd>
          <dt className="text-zinc-500">Rows</dt>
          <dd>{e.rows ?? '—'}</dd>
          <dt className="text-zinc-500">Created</dt>
          <dd>{formatDateTime(e.createdAt)}</dd>
        </dl>
        {(e.state === 'queued' || e.state === 'running') && (
          <ProgressBar className="mt-3" value={e.progress} label="progress" />
        )}
      </Card>
      {report && (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Metrics" bodyClassName="p-0">
            <table className="w-full text-left tabular-nums" data-testid="evaluation-metrics">
              <thead className="text-[12px] text-zinc-500">
                <tr>
                  <th className="px-4 py-2 font-medium">Metric</th>
                  <th className="px-4 py-2 font-medium">Value</th>
                  <th className="px-4 py-2 font-medium">Interval</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(e.metrics).map(([metric, value]) => {
                  const ci = report.intervals?.[INTERVAL_KEY_OF_METRIC[metric] ?? ''];
                  return (
                    <tr key={metric} data-metric={metric} className="border-t border-zinc-100 dark:border-zinc-800">
                      <td className="px-4 py-1.5">{metric}</td>
                      <td className="px-4 py-1.5" data-value>
                        {num(value)}
                      </td>
                      <td className="px-4 py-1.5 text-zinc-500">
                        {ci && ci.lower !== null && ci.upper !== null
                          ? `${num(ci.lower)} … ${num(ci.upper)} (${Math.round(ci.confidence * 100)}%)`
                          : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </Card>
          {report.task === 'classification' ? (
            <div className="space-y-4">
              <Card title="Confusion matrix">
                <ConfusionMatrix classes={report.metrics.classes} matrix={report.metrics.confusionMatrix} />
              </Card>
              {report.metrics.calibration && (
                <Card title={`Calibration (${report.metrics.calibration.kind})`}>
                  <div className="flex items-center gap-4">
                    <CalibrationCurve
                      points={report.metrics.calibration.bins.flatMap((b) =>
                        b.meanPredicted === null || b.observed === null
                          ? []
                          : [{ x: b.meanPredicted, y: b.observed, n: b.count }],
                      )}
                    />
                    <Muted>
                      expected calibration error {num(report.metrics.calibration.expectedCalibrationError)}; the dashed
                      line is perfect calibration
                    </Muted>
                  </div>
                </Card>
              )}
            </div>
          ) : (
            <Card title="Residuals (actual − predicted)">
              <Bars
                edges={report.metrics.residuals.histogram.edges}
                counts={report.metrics.residuals.histogram.counts}
              />
              <Muted>
                mean {num(report.metrics.residuals.mean)}, std {num(report.metrics.residuals.std)}, median{' '}
                {num(report.metrics.residuals.median)}
              </Muted>
            </Card>
          )}
        </div>
      )}
      {report?.slices && (
        <Card title={`Slices by ${e.slice}`} bodyClassName="p-0">
          <table className="w-full text-left tabular-nums" data-testid="evaluation-slices">
            <thead className="text-[12px] text-zinc-500">
              <tr>
                <th className="px-4 py-2 font-medium">{e.slice}</th>
                <th className="px-4 py-2 font-medium">Rows</th>
                <th className="px-4 py-2 font-medium">{report.task === 'classification' ? 'Accuracy' : 'RMSE'}</th>
                <th className="px-4 py-2 font-medium">{report.task === 'classification' ? 'Weighted F1' : 'MAE'}</th>
              </tr>
            </thead>
            <tbody>
              {report.slices.map((s) => {
                const m = s.metrics;
                return (
                  <tr key={String(s.value)} className="border-t border-zinc-100 dark:border-zinc-800">
                    <td className="px-4 py-1.5">{s.value === null ? '(missing)' : String(s.value)}</td>
                    <td className="px-4 py-1.5">{s.rows}</td>
                    <td className="px-4 py-1.5">
                      {m === null ? '—' : 'accuracy' in m ? num(m.accuracy) : num(m.rmse)}
                    </td>
                    <td className="px-4 py-1.5">
                      {m === null ? '—' : 'accuracy' in m ? num(m.weighted.f1) : num(m.mae)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

/** Evaluation runs: a form to start one (prefilled from a model version's Evaluate action), the list, one's report. */
export function EvaluationsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const selected = params.get('evaluation');
  const [creating, setCreating] = useState(params.has('model'));
  const list = useQuery({ queryKey: [...KEY, 'list'], queryFn: () => api.call('evaluations.list', {}) });
  const one = useQuery({
    queryKey: [...KEY, 'one', selected],
    queryFn: () => api.call('evaluations.get', { id: selected as string }),
    enabled: selected !== null,
  });
  useLiveEvents(
    (name) => name === 'evalkit.evaluation.updated' || name.startsWith('job.'),
    () => void queryClient.invalidateQueries({ queryKey: KEY }),
  );
  const open = (id: string) => {
    setCreating(false);
    setParams({ evaluation: id });
  };
  return (
    <div>
      <PageHeader
        title="Evaluations"
        description="Model versions and deployments evaluated on dataset versions: metrics with confidence intervals, slices and gates."
        actions={
          <Button variant="primary" onClick={() => setCreating(!creating)}>
            New evaluation
          </Button>
        }
      />
      <div className="space-y-4">
        {creating && <NewEvaluation onCreated={open} />}
        {list.error && <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />}
        {list.data && list.data.items.length === 0 && !creating && (
          <EmptyState title="No evaluations yet">
            Evaluate a model version on a dataset version with New evaluation, or from a model version's page.
          </EmptyState>
        )}
        {list.data && list.data.items.length > 0 && (
          <Card title="Runs" bodyClassName="p-0">
            <table className="w-full text-left tabular-nums" data-testid="evaluations-list">
              <thead className="text-[12px] text-zinc-500">
                <tr>
                  <th className="px-4 py-2 font-medium">Model</th>
                  <th className="px-4 py-2 font-medium">Dataset</th>
                  <th className="px-4 py-2 font-medium">Target</th>
                  <th className="px-4 py-2 font-medium">State</th>
                  <th className="px-4 py-2 font-medium">Headline</th>
                  <th className="px-4 py-2 font-medium">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((e) => {
                  const headline = e.task === 'regression' ? 'rmse' : 'accuracy';
                  return (
                    <tr
                      key={e.id}
                      data-evaluation={e.id}
                      onClick={() => open(e.id)}
                      className={cx(
                        'cursor-pointer border-t border-zinc-100 hover:bg-zinc-50 dark:border-zinc-800 dark:hover:bg-zinc-800/50',
                        e.id === selected && 'bg-indigo-50/60 dark:bg-indigo-950/40',
                      )}
                    >
                      <td className="px-4 py-1.5 font-medium">{subject(e)}</td>
                      <td className="px-4 py-1.5">
                        {e.dataset} v{e.datasetVersion}
                      </td>
                      <td className="px-4 py-1.5">{e.target}</td>
                      <td className={cx('px-4 py-1.5', STATE_TONE[e.state])}>{e.state}</td>
                      <td className="px-4 py-1.5">
                        {e.state === 'succeeded' ? `${headline} ${num(e.metrics[headline])}` : '—'}
                      </td>
                      <td className="px-4 py-1.5 text-zinc-500">{formatDateTime(e.createdAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </Card>
        )}
        {one.error && <ErrorBanner error={one.error} />}
        {one.data && <Detail evaluation={one.data} />}
        <BenchmarksCard />
      </div>
    </div>
  );
}
