import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { LabelProject } from '#shared/contracts/labeling';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, cx, EmptyState, Muted, ProgressBar, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { agreementTone, formatAgreement, METRIC_LABELS } from './model';
import { projectPath } from './paths';
import { labelingKeys } from './queries';

const TONE_TEXT = {
  good: 'text-emerald-700 dark:text-emerald-400',
  fair: 'text-amber-700 dark:text-amber-400',
  poor: 'text-red-700 dark:text-red-400',
  none: 'text-zinc-500',
} as const;
const TONE_WORD = { good: 'strong', fair: 'moderate', poor: 'weak', none: 'not measured yet' } as const;
const LOWEST_SHOWN = 12;

/** How far annotators agree: overall, per pair of annotators, per label, and the tasks they agree on least. */
export function AgreementPanel({ project }: { project: LabelProject }) {
  const api = useApi();
  const agreement = useQuery({
    queryKey: labelingKeys.agreement(project.datasetName, project.id),
    queryFn: () => api.call('labeling.agreement', { dataset: project.datasetName, project: project.id }),
  });
  if (agreement.isError) return <ErrorBanner error={agreement.error} onRetry={() => void agreement.refetch()} />;
  if (!agreement.data) {
    return (
      <div className="flex items-center gap-2 py-6 text-zinc-500">
        <Spinner /> Measuring agreement…
      </div>
    );
  }
  const a = agreement.data;
  const tone = agreementTone(a.overall.value);
  if (a.tasks === 0) {
    return (
      <Card>
        <EmptyState title="No agreement to measure yet">
          Agreement is measured on tasks answered by at least two annotators
          {project.overlap === 1 ? '; this project asks for one answer per task' : ''}.
        </EmptyState>
      </Card>
    );
  }
  return (
    <div className="grid items-start gap-3 lg:grid-cols-2">
      <Card title="Overall" data-testid="agreement-overall">
        <p className={cx('text-3xl font-semibold tabular-nums', TONE_TEXT[tone])} data-testid="agreement-value">
          {formatAgreement(a.overall.value)}
        </p>
        <p className="mt-1 text-zinc-600 dark:text-zinc-400">
          {METRIC_LABELS[a.overall.metric]} over {a.tasks} {a.tasks === 1 ? 'task' : 'tasks'} with two or more answers:{' '}
          {TONE_WORD[tone]} agreement.
        </p>
      </Card>
      <Card title="Least agreed tasks" bodyClassName="p-0">
        {a.lowest.length === 0 ? (
          <p className="p-4 text-zinc-500">Every measured task is agreed on.</p>
        ) : (
          <ul className="divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Least agreed tasks">
            {a.lowest.slice(0, LOWEST_SHOWN).map((t) => (
              <li key={t.taskId} className="flex items-center justify-between px-4 py-1.5">
                <Link
                  to={projectPath(project.datasetName, project.name, { mode: 'review', task: t.taskId })}
                  className="text-indigo-600 hover:underline dark:text-indigo-400"
                >
                  Task {t.position + 1}
                </Link>
                <span className="tabular-nums">{formatAgreement(t.agreement)}</span>
              </li>
            ))}
            {a.lowest.length > LOWEST_SHOWN && (
              <li className="px-4 py-1.5">
                <Muted>and {a.lowest.length - LOWEST_SHOWN} more in the review queue</Muted>
              </li>
            )}
          </ul>
        )}
      </Card>
      <Card title="Pairs of annotators" bodyClassName="p-0">
        <table className="w-full text-left" aria-label="Agreement per pair of annotators">
          <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">Annotators</th>
              <th className="px-4 py-2 text-right font-medium">Tasks</th>
              <th className="px-4 py-2 font-medium">Metric</th>
              <th className="px-4 py-2 text-right font-medium">Value</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {a.pairs.map((p) => (
              <tr key={`${p.a}-${p.b}`}>
                <td className="px-4 py-1.5">
                  {p.a} · {p.b}
                </td>
                <td className="px-4 py-1.5 text-right tabular-nums">{p.tasks}</td>
                <td className="px-4 py-1.5 text-zinc-500">{METRIC_LABELS[p.metric]}</td>
                <td
                  className={cx('px-4 py-1.5 text-right font-medium tabular-nums', TONE_TEXT[agreementTone(p.value)])}
                >
                  {formatAgreement(p.value)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Per label" bodyClassName="p-4">
        <ul className="space-y-2" aria-label="Agreement per label">
          {a.labels.map((l) => {
            const label = project.labels.find((x) => x.name === l.label);
            return (
              <li key={l.label} className="grid grid-cols-[8rem_minmax(0,1fr)_3rem] items-center gap-3">
                <span className="flex items-center gap-1.5 truncate">
                  <span
                    className="size-2 shrink-0 rounded-full"
                    style={{ backgroundColor: label?.color }}
                    aria-hidden="true"
                  />
                  {l.label}
                </span>
                <ProgressBar
                  value={l.value === null ? null : Math.max(0, l.value)}
                  tone={
                    agreementTone(l.value) === 'good' ? 'emerald' : agreementTone(l.value) === 'fair' ? 'amber' : 'red'
                  }
                  label={`Agreement on ${l.label}`}
                />
                <span className="text-right tabular-nums">{formatAgreement(l.value)}</span>
              </li>
            );
          })}
        </ul>
      </Card>
    </div>
  );
}
