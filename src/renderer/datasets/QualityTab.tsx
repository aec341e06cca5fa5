import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { DatasetVersion, QualityFinding, QualityReport } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { fieldClass } from './field';
import { isFinished, JobProgress, useJob } from './jobs';
import { CHECK_LABELS, findingGroups, scoreBand, type ScoreBand } from './quality';
import { versionLabel } from './model';
import type { RowsTarget } from './row-links';

const QUALITY_JOB = 'dataforge.quality';
const LINES_SHOWN = 12;

function isNotFound(error: unknown): boolean {
  return error instanceof AppError && error.code === 'NOT_FOUND';
}

const BAND_TEXT: Record<ScoreBand, string> = {
  good: 'text-emerald-600 dark:text-emerald-400',
  fair: 'text-amber-600 dark:text-amber-400',
  poor: 'text-red-600 dark:text-red-400',
};
const BAND_BAR: Record<ScoreBand, string> = { good: 'bg-emerald-500', fair: 'bg-amber-500', poor: 'bg-red-500' };
const BAND_LABEL: Record<ScoreBand, string> = { good: 'good', fair: 'needs a look', poor: 'poor' };

const SEVERITY_BADGE: Record<QualityFinding['severity'], string> = {
  error: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  warning: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  info: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
};

/**
 * The quality report of a version: a 0-100 score, a score per table, and the findings of each check (missing
 * values, duplicates, outliers, class imbalance, label issues, schema drift, PII…) with the lines they affect.
 * Checks run as a job (imports start one after the profile); "Run checks" runs them again, with a chosen label column.
 * Each line of a finding links to its row in the Rows tab, and "Show rows" lists the finding's rows together.
 */
export function QualityTab({
  dataset,
  version,
  onOpenTable,
  rowsLink,
}: {
  dataset: string;
  version: DatasetVersion;
  onOpenTable: (path: string) => void;
  /** The link (a search string) to the Rows tab at a line, or narrowed to some lines. */
  rowsLink: (target: RowsTarget) => string;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const report = useQuery({
    queryKey: queryKeys.datasetQuality(dataset, version.id),
    queryFn: () => api.call('datasets.quality', { dataset, version: version.id }),
    staleTime: Infinity,
    retry: (count, error) => !isNotFound(error) && count < 2,
  });
  // The columns of the profile are the choices of label column.
  const profile = useQuery({
    queryKey: queryKeys.datasetProfile(dataset, version.id),
    queryFn: () => api.call('datasets.profile', { dataset, version: version.id }),
    staleTime: Infinity,
    retry: false,
  });
  const columns = useMemo(() => {
    const names = new Set<string>();
    for (const t of profile.data?.tables ?? []) for (const c of t.columns) names.add(c.name);
    return [...names];
  }, [profile.data]);

  const [target, setTarget] = useState('');
  const [startedId, setStartedId] = useState<string | null>(null);
  useEffect(() => {
    setStartedId(null);
    setTarget('');
  }, [version.id]);
  // The label column of the report on screen, unless one was chosen.
  const shownTarget = report.data?.target ?? '';
  useEffect(() => {
    if (shownTarget) setTarget((t) => t || shownTarget);
  }, [shownTarget, version.id]);

  // Imports start a quality job by themselves (after the profile): follow it too while there is no report.
  const pending = useQuery({
    queryKey: queryKeys.jobsOfType(QUALITY_JOB),
    queryFn: () => api.call('jobs.list', { type: QUALITY_JOB, limit: 50 }),
    enabled: report.isError && startedId === null,
    select: (page) =>
      page.items.find((j) => !isFinished(j) && (j.payload as { versionId?: unknown } | null)?.versionId === version.id),
  });
  const jobId = startedId ?? pending.data?.id ?? null;
  const job = useJob(jobId);
  const run = useMutation({
    mutationFn: () => api.call('datasets.qualityRun', { dataset, version: version.id, ...(target ? { target } : {}) }),
    onSuccess: (started) => setStartedId(started.id),
  });
  const done = isFinished(job);
  const running = run.isPending || (jobId !== null && !done);
  useEffect(() => {
    if (done) void queryClient.invalidateQueries({ queryKey: queryKeys.datasetQuality(dataset, version.id) });
  }, [done, dataset, version.id, queryClient]);

  const controls = (
    <div className="flex flex-wrap items-center gap-2">
      <label htmlFor="quality-target" className="text-[12px] text-zinc-600 dark:text-zinc-400">
        Label column
      </label>
      <select
        id="quality-target"
        value={target}
        onChange={(e) => setTarget(e.target.value)}
        disabled={running}
        className={fieldClass({ width: 'w-auto', height: 'h-7', text: 'text-[12px]', extra: 'min-w-36' })}
      >
        <option value="">guess</option>
        {target && !columns.includes(target) && <option value={target}>{target}</option>}
        {columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <Button
        size="sm"
        variant={report.isSuccess ? 'secondary' : 'primary'}
        onClick={() => run.mutate()}
        disabled={running}
      >
        {run.isPending ? 'Starting…' : running ? 'Checking…' : 'Run checks'}
      </Button>
    </div>
  );
  const progress = (
    <>
      {run.isError && <ErrorBanner error={run.error} title="The checks did not start" />}
      {jobId && (!done || job?.status !== 'succeeded') && <JobProgress job={job} label="Quality check progress" />}
    </>
  );

  if (report.isPending) {
    return (
      <div className="flex items-center gap-2 py-6 text-zinc-500">
        <Spinner /> Loading the quality report…
      </div>
    );
  }
  if (report.isError) {
    if (!isNotFound(report.error)) return <ErrorBanner error={report.error} onRetry={() => void report.refetch()} />;
    return (
      <Card data-testid="quality-missing">
        <EmptyState title={`${versionLabel(version)} has no quality report yet`}>
          {profile.data && profile.data.tables.length === 0 ? (
            <p>The checks read the tables of a version (CSV, TSV, JSONL), and this one has none.</p>
          ) : (
            <p>
              The checks read every table of the version: missing values, duplicate and near-duplicate rows, constant
              columns, outliers, class imbalance and likely label errors (for a label column), schema drift against the
              parent version, and personal data.
            </p>
          )}
        </EmptyState>
        <div className="flex flex-col items-center gap-3 pb-4">
          {controls}
          <div className="w-full max-w-md space-y-2">{progress}</div>
        </div>
      </Card>
    );
  }

  const r = report.data;
  return (
    <div className="space-y-4" data-testid="quality-tab">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <Muted className="text-[12px]">
          Checked {formatDateTime(r.createdAt)} · label column{' '}
          {r.target ? <code className="font-mono">{r.target}</code> : 'none'}
        </Muted>
        {controls}
      </div>
      {progress}
      <ScoreCard report={r} onOpenTable={onOpenTable} />
      <Findings report={r} onOpenTable={onOpenTable} rowsLink={rowsLink} />
    </div>
  );
}

function ScoreCard({ report, onOpenTable }: { report: QualityReport; onOpenTable: (path: string) => void }) {
  const band = scoreBand(report.score);
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;
  return (
    <Card bodyClassName="p-4">
      <div className="flex flex-wrap items-start gap-x-8 gap-y-4">
        <div
          className="flex flex-col items-start"
          data-testid="quality-score"
          data-score={report.score}
          data-band={band}
        >
          <span className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            Quality score
          </span>
          <span className={cx('text-5xl leading-none font-semibold tabular-nums', BAND_TEXT[band])}>
            {formatScore(report.score)}
          </span>
          <span className={cx('mt-1 text-[12px] font-medium', BAND_TEXT[band])}>
            {BAND_LABEL[band]} <Muted className="font-normal">of 100</Muted>
          </span>
        </div>
        <div className="flex flex-col gap-1 text-[12px]" data-testid="quality-counts">
          <span className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            Findings
          </span>
          <span className="flex flex-wrap gap-1.5">
            {(['error', 'warning', 'info'] as const).map((s) => (
              <span
                key={s}
                className={cx(
                  'rounded-full px-2 py-0.5 text-[11px] font-medium ring-1 ring-inset',
                  counts[s] > 0
                    ? SEVERITY_BADGE[s]
                    : 'text-zinc-400 ring-zinc-200 dark:text-zinc-500 dark:ring-zinc-700',
                )}
              >
                {counts[s]} {s === 'info' ? 'info' : counts[s] === 1 ? s : `${s}s`}
              </span>
            ))}
          </span>
        </div>
        {report.tables.length > 0 && (
          <div className="min-w-64 flex-1">
            <span className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
              Tables
            </span>
            <ul className="mt-1 space-y-1 text-[12px]" aria-label="Scores per table">
              {report.tables.map((t) => {
                const b = scoreBand(t.score);
                return (
                  <li
                    key={t.path}
                    className="flex items-center gap-2"
                    data-testid="quality-table"
                    data-path={t.path}
                    data-score={t.score}
                  >
                    <button
                      type="button"
                      onClick={() => onOpenTable(t.path)}
                      className="w-44 shrink-0 truncate text-left font-mono text-indigo-700 hover:underline dark:text-indigo-400"
                      title={`${t.path}: view its rows`}
                    >
                      {t.path}
                    </button>
                    <span className="h-1.5 min-w-16 flex-1 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800">
                      <span
                        className={cx('block h-full rounded-full', BAND_BAR[b])}
                        style={{ width: `${Math.max(0, Math.min(100, t.score))}%` }}
                      />
                    </span>
                    <span className={cx('w-10 shrink-0 text-right font-medium tabular-nums', BAND_TEXT[b])}>
                      {formatScore(t.score)}
                    </span>
                    <Muted className="w-24 shrink-0 text-right tabular-nums">
                      {t.rows.toLocaleString('en-US')} rows
                    </Muted>
                  </li>
                );
              })}
            </ul>
          </div>
        )}
      </div>
    </Card>
  );
}

function Findings({
  report,
  onOpenTable,
  rowsLink,
}: {
  report: QualityReport;
  onOpenTable: (path: string) => void;
  rowsLink: (target: RowsTarget) => string;
}) {
  const groups = findingGroups(report.findings);
  if (groups.length === 0) {
    return (
      <Card>
        <EmptyState title="No findings">Every check passed.</EmptyState>
      </Card>
    );
  }
  return (
    <>
      {groups.map((g) => (
        <Card
          key={g.check}
          data-testid="quality-check"
          title={
            <span className="flex items-center gap-2" data-check={g.check}>
              {CHECK_LABELS[g.check]}
              <span className="font-normal text-zinc-500 tabular-nums dark:text-zinc-400">
                {g.findings.length} {g.findings.length === 1 ? 'finding' : 'findings'}
              </span>
            </span>
          }
          bodyClassName="divide-y divide-zinc-100 dark:divide-zinc-800/80"
        >
          {g.findings.map((f, i) => (
            <FindingRow
              key={`${f.table}:${f.column ?? ''}:${i}`}
              finding={f}
              onOpenTable={onOpenTable}
              rowsLink={rowsLink}
            />
          ))}
        </Card>
      ))}
    </>
  );
}

function FindingRow({
  finding: f,
  onOpenTable,
  rowsLink,
}: {
  finding: QualityFinding;
  onOpenTable: (path: string) => void;
  rowsLink: (target: RowsTarget) => string;
}) {
  const [allLines, setAllLines] = useState(false);
  const lines = allLines ? f.lines : f.lines.slice(0, LINES_SHOWN);
  return (
    <div
      className="space-y-1.5 px-4 py-3"
      data-testid="quality-finding"
      data-check={f.check}
      data-severity={f.severity}
      data-table={f.table}
    >
      <div className="flex flex-wrap items-center gap-2">
        <span
          className={cx(
            'rounded px-1.5 py-0.5 text-[10px] font-semibold uppercase ring-1 ring-inset',
            SEVERITY_BADGE[f.severity],
          )}
        >
          {f.severity}
        </span>
        <span className="font-mono text-[12px] text-zinc-700 dark:text-zinc-300">{f.table}</span>
        {f.column !== null && (
          <span className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
            {f.column}
          </span>
        )}
        <span className="ml-auto text-[12px] text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="finding-count">
          {f.count.toLocaleString('en-US')} {f.count === 1 ? 'row' : 'rows'}
        </span>
      </div>
      <p className="text-zinc-800 dark:text-zinc-200">{f.message}</p>
      {f.lines.length > 0 && (
        <div className="flex flex-wrap items-center gap-1 text-[11px]" aria-label="Affected lines">
          <Muted>{f.lines.length === 1 ? 'line' : 'lines'}</Muted>
          {lines.map((line) => (
            <Link
              key={line}
              to={rowsLink({ table: f.table, line })}
              replace
              aria-label={`Line ${line}`}
              title={`Show line ${line} among the rows of ${f.table}`}
              data-testid="finding-line"
              data-line={line}
              className="rounded bg-zinc-100 px-1 font-mono text-indigo-700 tabular-nums hover:bg-indigo-50 hover:underline dark:bg-zinc-800 dark:text-indigo-300 dark:hover:bg-indigo-950"
            >
              {line}
            </Link>
          ))}
          {f.lines.length > LINES_SHOWN && (
            <button
              type="button"
              onClick={() => setAllLines(!allLines)}
              className="text-indigo-700 hover:underline dark:text-indigo-400"
            >
              {allLines ? 'fewer' : `+${f.lines.length - LINES_SHOWN} more`}
            </button>
          )}
          {f.count > f.lines.length && (
            <Muted>
              (the first {f.lines.length} of {f.count.toLocaleString('en-US')})
            </Muted>
          )}
          <Link
            to={rowsLink({ table: f.table, lines: f.lines })}
            replace
            title={`Only the ${f.lines.length === 1 ? 'row' : `${f.lines.length} rows`} listed here`}
            className="ml-auto inline-flex h-7 shrink-0 items-center rounded-md px-2.5 text-xs font-medium whitespace-nowrap text-indigo-700 hover:bg-indigo-50 dark:text-indigo-300 dark:hover:bg-indigo-950"
          >
            Show rows
          </Link>
          <Button size="sm" variant="ghost" onClick={() => onOpenTable(f.table)} title={`All rows of ${f.table}`}>
            View rows
          </Button>
        </div>
      )}
    </div>
  );
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(1);
}
