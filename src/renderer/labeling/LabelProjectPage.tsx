import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Chip, cx, PageHeader, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { AgreementPanel } from './AgreementPanel';
import { EditLabelsDialog } from './EditLabelsDialog';
import { LabelExportDialog } from './LabelExportDialog';
import { describeSource } from './model';
import { ProjectProgress } from './ProjectProgress';
import { labelingKeys, useLabelingLiveRefresh } from './queries';
import { ReviewView } from './ReviewView';
import { Workspace } from './Workspace';

const MODES = ['annotate', 'review', 'agreement'] as const;
type Mode = (typeof MODES)[number];
const MODE_LABELS: Record<Mode, string> = { annotate: 'Annotate', review: 'Review', agreement: 'Agreement' };

/** One labeling project: annotate (the workspace), review, agreement; export and label editing from the header. */
export function LabelProjectPage() {
  const params = useParams();
  const dataset = params.name ?? '';
  const name = params.project ?? '';
  const api = useApi();
  const [search, setSearch] = useSearchParams();
  const [exporting, setExporting] = useState(false);
  const [editing, setEditing] = useState(false);
  useLabelingLiveRefresh();
  const project = useQuery({
    queryKey: labelingKeys.project(dataset, name),
    queryFn: () => api.call('labeling.get', { dataset, project: name }),
  });
  const raw = search.get('mode');
  const mode: Mode = (MODES as readonly string[]).includes(raw ?? '') ? (raw as Mode) : 'annotate';
  const setMode = (m: Mode) => setSearch(m === 'annotate' ? {} : { mode: m }, { replace: true });
  const p = project.data;

  return (
    <div data-testid="label-project-page" data-name={name}>
      <nav aria-label="Breadcrumb" className="mb-1 text-[12px] text-zinc-500 dark:text-zinc-400">
        <Link to="/datasets" className="hover:text-zinc-900 hover:underline dark:hover:text-zinc-100">
          Datasets
        </Link>
        <span className="mx-1.5">/</span>
        <Link
          to={`/datasets/${encodeURIComponent(dataset)}?tab=labeling`}
          className="hover:text-zinc-900 hover:underline dark:hover:text-zinc-100"
        >
          {dataset}
        </Link>
        <span className="mx-1.5">/</span>
        <span className="text-zinc-700 dark:text-zinc-300">labeling</span>
      </nav>
      {project.isError ? (
        <ErrorBanner
          error={project.error}
          title={`Cannot open labeling project ${name}`}
          onRetry={() => void project.refetch()}
        />
      ) : !p ? (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Loading {name}…
        </div>
      ) : (
        <>
          <PageHeader
            title={p.name}
            description={
              <span className="flex flex-wrap items-center gap-x-2">
                <Chip>{p.kind}</Chip>
                <span>
                  v{p.versionNumber} · {describeSource(p.source)} · {p.overlap} {p.overlap === 1 ? 'answer' : 'answers'}{' '}
                  per task{p.review ? ' · review step' : ''}
                </span>
              </span>
            }
            actions={
              <>
                <Button onClick={() => setEditing(true)}>Edit labels…</Button>
                <Button variant="primary" onClick={() => setExporting(true)}>
                  Export labels…
                </Button>
              </>
            }
          />
          <ProjectProgress stats={p.stats} className="mb-4 max-w-3xl" />
          <div
            role="tablist"
            aria-label="Project views"
            className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800"
          >
            {MODES.map((m) => (
              <button
                key={m}
                type="button"
                role="tab"
                aria-selected={mode === m}
                onClick={() => setMode(m)}
                className={cx(
                  '-mb-px border-b-2 px-3 py-2 text-[13px] font-medium transition-colors',
                  mode === m
                    ? 'border-indigo-500 text-zinc-900 dark:text-zinc-50'
                    : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:text-zinc-400 dark:hover:text-zinc-200',
                )}
              >
                {MODE_LABELS[m]}
              </button>
            ))}
          </div>
          <div role="tabpanel" aria-label={MODE_LABELS[mode]}>
            {mode === 'annotate' && <Workspace project={p} />}
            {mode === 'review' && <ReviewView project={p} focus={search.get('task')} />}
            {mode === 'agreement' && <AgreementPanel project={p} />}
          </div>
          <LabelExportDialog open={exporting} onClose={() => setExporting(false)} project={p} />
          <EditLabelsDialog open={editing} onClose={() => setEditing(false)} project={p} />
        </>
      )}
    </div>
  );
}
