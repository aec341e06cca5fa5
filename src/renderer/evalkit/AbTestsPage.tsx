import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import type { AbResults } from '#shared/contracts/evalkit-monitoring';
import { ErrorBanner } from '../components/ErrorBanner';
import { InlineField, useTextFields } from '../components/inline-form';
import { Button, Card, cx, EmptyState, inputClass, Muted, PageHeader, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { formatDateTime, formatPercent } from '../lib/format';

const KEY = ['evalkit', 'abtests'] as const;

function num(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '—' : String(Number(v.toFixed(digits)));
}

function Results({ results }: { results: AbResults }) {
  const { test, frequentist: f, bayesian, peeking } = results;
  const rate = test.metric === 'conversion';
  return (
    <div className="space-y-4" data-testid="ab-results">
      {!peeking.final && (
        <div
          role="status"
          data-testid="peeking-warning"
          className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2.5 text-amber-800 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
        >
          <b>Not final.</b> {peeking.warning}
          {peeking.progress !== null && ` (${formatPercent(Math.min(1, peeking.progress))} of the planned sample)`}
        </div>
      )}
      <Card title="Arms" bodyClassName="p-0">
        <table className="w-full text-left tabular-nums">
          <thead className="text-[12px] text-zinc-500">
            <tr>
              <th className="px-4 py-2 font-medium">Arm</th>
              <th className="px-4 py-2 font-medium">Deployment</th>
              <th className="px-4 py-2 font-medium">Outcomes</th>
              <th className="px-4 py-2 font-medium">{rate ? 'Conversion rate' : 'Mean'}</th>
              <th className="px-4 py-2 font-medium">{Math.round(test.confidence * 100)}% interval</th>
            </tr>
          </thead>
          <tbody>
            {results.arms.map((arm, i) => {
              const def = test.arms[i];
              return (
                <tr key={arm.name} className="border-t border-zinc-100 dark:border-zinc-800" data-arm={arm.name}>
                  <td className="px-4 py-2 font-medium">{arm.name}</td>
                  <td className="px-4 py-2">
                    {def?.deployment}
                    {def?.version ? ` v${def.version}` : ''}
                  </td>
                  <td className="px-4 py-2">{arm.n}</td>
                  <td className="px-4 py-2">
                    {rate && arm.mean !== null ? formatPercent(arm.mean, 2) : num(arm.mean)}
                  </td>
                  <td className="px-4 py-2">
                    {arm.interval
                      ? rate
                        ? `${formatPercent(arm.interval[0], 2)} … ${formatPercent(arm.interval[1], 2)}`
                        : `${num(arm.interval[0])} … ${num(arm.interval[1])}`
                      : '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      {results.reason && <Muted>{results.reason}</Muted>}
      {f && (
        <div className="grid gap-4 md:grid-cols-2">
          <Card title={`Frequentist: ${f.method}`}>
            <dl className="grid grid-cols-2 gap-2 tabular-nums" data-testid="ab-frequentist">
              <dt className="text-zinc-500">Difference (B − A)</dt>
              <dd>
                {num(f.difference)}
                {f.relativeDifference !== null ? ` (${formatPercent(f.relativeDifference, 1)} relative)` : ''}
              </dd>
              <dt className="text-zinc-500">{Math.round(f.confidence * 100)}% interval</dt>
              <dd>
                {num(f.interval[0])} … {num(f.interval[1])}
              </dd>
              <dt className="text-zinc-500">{f.df === undefined ? 'z' : `t (df ${num(f.df, 1)})`}</dt>
              <dd>{num(f.statistic)}</dd>
              <dt className="text-zinc-500">p-value</dt>
              <dd data-testid="ab-p-value">
                {num(f.pValue)} {f.significant ? '(significant)' : '(not significant)'}
              </dd>
            </dl>
          </Card>
          {bayesian && (
            <Card title="Bayesian">
              <p className="text-2xl font-semibold tabular-nums" data-testid="ab-probability">
                {formatPercent(bayesian.probabilityBBeatsA, 1)}
              </p>
              <Muted>
                probability that {test.arms[1]?.name} beats {test.arms[0]?.name} ({bayesian.method})
              </Muted>
            </Card>
          )}
        </div>
      )}
    </div>
  );
}

function SampleSizeCalculator() {
  const api = useApi();
  const { form, bind } = useTextFields({
    metric: 'conversion',
    baseline: '0.1',
    sd: '1',
    mde: '0.02',
    power: '0.8',
    alpha: '0.05',
  });
  const size = useMutation({
    mutationFn: () =>
      api.call('abTests.sampleSize', {
        metric: form.metric as 'conversion' | 'continuous',
        ...(form.metric === 'conversion' ? { baseline: Number(form.baseline) } : { sd: Number(form.sd) }),
        mde: Number(form.mde),
        power: Number(form.power),
        alpha: Number(form.alpha),
      }),
  });
  const field = (key: 'baseline' | 'sd' | 'mde' | 'power' | 'alpha', label: string) => (
    <InlineField label={label} className="w-32">
      <input className={inputClass} {...bind(key)} />
    </InlineField>
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    size.mutate();
  };
  return (
    <Card title="Sample-size calculator">
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" data-testid="sample-size">
        <InlineField label="Metric">
          <select className={inputClass} {...bind('metric')}>
            <option value="conversion">conversion</option>
            <option value="continuous">continuous</option>
          </select>
        </InlineField>
        {form.metric === 'conversion' ? field('baseline', 'Baseline rate') : field('sd', 'Standard deviation')}
        {field('mde', 'Effect (MDE)')}
        {field('power', 'Power')}
        {field('alpha', 'Alpha')}
        <Button type="submit" variant="primary">
          Calculate
        </Button>
      </form>
      {size.isError && <ErrorBanner className="mt-3" error={size.error} />}
      {size.data && (
        <p className="mt-3" data-testid="sample-size-result">
          <b>{size.data.perArm.toLocaleString()}</b> per arm ({size.data.total.toLocaleString()} in all). Read the
          result once, when both arms reach it.
        </p>
      )}
    </Card>
  );
}

function NewTest({ onCreated }: { onCreated: (name: string) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const deployments = useQuery({ queryKey: ['deployments', 'list'], queryFn: () => api.call('deployments.list') });
  const { form, bind } = useTextFields({ name: '', metric: 'conversion', a: '', b: '', planned: '' });
  const create = useMutation({
    mutationFn: () =>
      api.call('abTests.create', {
        name: form.name,
        metric: form.metric as 'conversion' | 'continuous',
        arms: [{ deployment: form.a }, { deployment: form.b }],
        plannedPerArm: form.planned ? Number(form.planned) : null,
      }),
    onSuccess: (t) => {
      void queryClient.invalidateQueries({ queryKey: KEY });
      onCreated(t.name);
    },
  });
  const names = (deployments.data?.items ?? []).map((d) => d.name);
  const pick = (key: 'a' | 'b', label: string) => (
    <InlineField label={label}>
      <select className={inputClass} {...bind(key)}>
        <option value="">Choose…</option>
        {names.map((n) => (
          <option key={n}>{n}</option>
        ))}
      </select>
    </InlineField>
  );
  return (
    <Card title="New A/B test" className="mb-4">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <InlineField label="Name">
          <input className={inputClass} {...bind('name')} />
        </InlineField>
        <InlineField label="Metric">
          <select className={inputClass} {...bind('metric')}>
            <option value="conversion">conversion (0/1)</option>
            <option value="continuous">continuous</option>
          </select>
        </InlineField>
        {pick('a', 'Arm A (control)')}
        {pick('b', 'Arm B')}
        <InlineField label="Planned per arm">
          <input className={inputClass} {...bind('planned')} />
        </InlineField>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create
        </Button>
      </form>
      {create.isError && <ErrorBanner className="mt-3" error={create.error} />}
    </Card>
  );
}

/** A/B tests of deployments: arms, results (frequentist and Bayesian), the peeking warning and a sample-size calculator. */
export function AbTestsPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const tests = useQuery({ queryKey: [...KEY, 'list'], queryFn: () => api.call('abTests.list') });
  const items = tests.data?.items ?? [];
  const selected = items.find((t) => t.name === params.get('test')) ?? items[0];
  const results = useQuery({
    queryKey: [...KEY, 'results', selected?.id],
    queryFn: () => api.call('abTests.results', { test: selected!.id }),
    enabled: selected !== undefined,
    refetchInterval: 5000,
  });
  return (
    <div data-testid="abtests-page">
      <PageHeader
        title="A/B tests"
        description="Two deployments or model versions compared on logged outcomes."
        actions={
          <Button variant="primary" onClick={() => setCreating((c) => !c)}>
            {creating ? 'Close' : 'New test'}
          </Button>
        }
      />
      {creating && (
        <NewTest
          onCreated={(name) => {
            setCreating(false);
            setParams({ test: name });
          }}
        />
      )}
      {tests.isError && <ErrorBanner error={tests.error} onRetry={() => void tests.refetch()} />}
      {tests.isPending && <Spinner />}
      <div className="flex items-start gap-4">
        {items.length > 0 && (
          <nav className="w-56 shrink-0" aria-label="A/B tests">
            <ul className="space-y-0.5">
              {items.map((t) => (
                <li key={t.id}>
                  <button
                    type="button"
                    onClick={() => setParams({ test: t.name })}
                    aria-current={t.id === selected?.id ? 'page' : undefined}
                    className={cx(
                      'w-full rounded px-2 py-1 text-left',
                      t.id === selected?.id
                        ? 'bg-zinc-100 font-medium dark:bg-zinc-800'
                        : 'hover:bg-zinc-50 dark:hover:bg-zinc-900',
                    )}
                  >
                    {t.name}
                    <Muted className="block text-[11px]">
                      {t.metric} · {formatDateTime(t.createdAt)}
                    </Muted>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="min-w-0 flex-1 space-y-4">
          {tests.data && items.length === 0 && (
            <EmptyState title="No A/B tests">
              Create one, then post outcomes per arm or per logged request to POST
              /api/v1/abtests/&lt;name&gt;/outcomes.
            </EmptyState>
          )}
          {results.isError && <ErrorBanner error={results.error} />}
          {results.data && <Results results={results.data} />}
          <SampleSizeCalculator />
        </div>
      </div>
    </div>
  );
}
