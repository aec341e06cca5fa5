import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, Muted, Spinner } from '../components/ui';
import { datasetOfSource, runPath } from '../experiments/paths';
import { RunStatusBadge } from '../experiments/ui';
import { queryKeys, useApi } from '../lib/api';

function Arrow() {
  return (
    <span aria-hidden="true" className="self-center text-zinc-400 dark:text-zinc-600">
      →
    </span>
  );
}

const BOX = 'min-w-0 rounded-md border border-zinc-200 bg-zinc-50 px-3 py-2 dark:border-zinc-700 dark:bg-zinc-800/50';

/** Where a version comes from: the dataset versions its run used → the run → this version. */
export function Lineage({ name, version }: { name: string; version: number }) {
  const api = useApi();
  const lineage = useQuery({
    queryKey: [...queryKeys.model(name), 'lineage', version],
    queryFn: () => api.call('models.lineage', { name, version: String(version) }),
  });
  const data = lineage.data;
  return (
    <Card title="Lineage" data-testid="lineage">
      {lineage.isError && <ErrorBanner error={lineage.error} />}
      {!data ? (
        !lineage.isError && (
          <div className="flex items-center gap-2 text-zinc-500">
            <Spinner /> Tracing…
          </div>
        )
      ) : (
        <div className="flex flex-wrap items-stretch gap-2 text-[13px]">
          <div className={`${BOX} space-y-1`}>
            <p className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Data</p>
            {data.inputs.length === 0 ? (
              <Muted>none logged</Muted>
            ) : (
              <ul className="space-y-0.5">
                {data.inputs.map((input) => {
                  const ours = datasetOfSource(input.source);
                  return (
                    <li key={`${input.name}:${input.digest}`} data-testid="lineage-input">
                      {ours ? (
                        <Link
                          to={`/datasets/${encodeURIComponent(ours.name)}?v=${ours.version}`}
                          className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                        >
                          {ours.name} v{ours.version}
                        </Link>
                      ) : (
                        <span className="font-medium" title={input.source}>
                          {input.name}
                        </span>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
          </div>
          <Arrow />
          <div className={`${BOX} space-y-1`}>
            <p className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Run</p>
            {data.run ? (
              <p className="flex items-center gap-2">
                <Link
                  to={runPath(data.run.info.id)}
                  className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                >
                  {data.run.info.name || data.run.info.id.slice(0, 8)}
                </Link>
                <RunStatusBadge status={data.run.info.status} />
              </p>
            ) : (
              <Muted>uploaded, no run</Muted>
            )}
          </div>
          <Arrow />
          <div className={`${BOX} space-y-1`}>
            <p className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Model</p>
            <p className="font-medium">
              {name} v{data.version.version}
            </p>
          </div>
        </div>
      )}
    </Card>
  );
}
