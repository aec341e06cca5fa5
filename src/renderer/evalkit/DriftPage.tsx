import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import type { DriftCheck, FeatureDriftResult, Monitor, MonitorAlert } from '#shared/contracts/evalkit-monitoring';
import { ErrorBanner } from '../components/ErrorBanner';
import { InlineField, useTextFields } from '../components/inline-form';
import {
  Button,
  Card,
  Chip,
  cx,
  EmptyState,
  inputClass,
  inputClasses,
  Muted,
  PageHeader,
  Spinner,
} from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { useToasts } from '../lib/toasts';
import { Histogram } from './Histogram';

/** Everything on the page, refreshed together by EvalKit's live events. */
const KEY = ['evalkit', 'monitoring'] as const;

function score(v: number | undefined): string {
  return v === undefined ? '—' : v < 1e-4 && v > 0 ? v.toExponential(1) : v.toFixed(4);
}

const VERDICT: Record<FeatureDriftResult['verdict'], string> = {
  stable: 'bg-emerald-50 text-emerald-700 dark:bg-emerald-950 dark:text-emerald-300',
  warning: 'bg-amber-50 text-amber-700 dark:bg-amber-950 dark:text-amber-300',
  drift: 'bg-red-50 text-red-700 dark:bg-red-950 dark:text-red-300',
};

function Verdict({ verdict }: { verdict: FeatureDriftResult['verdict'] }) {
  return (
    <span className={cx('rounded px-1.5 py-0.5 text-[11px] font-medium', VERDICT[verdict])} data-verdict={verdict}>
      {verdict}
    </span>
  );
}

function FeatureCard({ feature, title }: { feature: FeatureDriftResult; title?: string }) {
  const test = feature.ks ? 'KS' : 'χ²';
  const p = (feature.ks ?? feature.chiSquare)?.pValue;
  return (
    <Card
      data-testid="drift-feature"
      title={
        <span className="flex items-center gap-2" data-feature={feature.name}>
          {title ?? feature.name} <Verdict verdict={feature.verdict} />
        </span>
      }
    >
      <Histogram feature={feature} />
      <dl className="mt-2 grid grid-cols-3 gap-x-3 text-[12px] tabular-nums">
        <div>
          <dt className="text-zinc-500">PSI</dt>
          <dd data-score="psi">{score(feature.psi)}</dd>
        </div>
        <div>
          <dt className="text-zinc-500">Jensen–Shannon</dt>
          <dd>{score(feature.jensenShannon)}</dd>
        </div>
        <div>
          <dt className="text-zinc-500">{test} p-value</dt>
          <dd>{score(p)}</dd>
        </div>
      </dl>
      <Muted className="mt-1 block text-[11px]">
        {feature.reason} · {feature.referenceRows} reference / {feature.currentRows} current rows
      </Muted>
    </Card>
  );
}

function AlertList({ alerts }: { alerts: MonitorAlert[] }) {
  if (alerts.length === 0) return <Muted>No alerts.</Muted>;
  return (
    <ul className="divide-y divide-zinc-100 dark:divide-zinc-800" data-testid="drift-alerts">
      {alerts.map((a) => (
        <li key={a.id} className="py-2">
          <div className="flex items-center justify-between gap-2">
            <span className="font-medium">{a.reasons.join('; ')}</span>
            <Chip>
              webhook {a.webhookStatus}
              {a.webhookAttempts > 1 ? ` after ${a.webhookAttempts} tries` : ''}
            </Chip>
          </div>
          <Muted className="text-[12px]">
            {formatDateTime(a.at)}
            {a.webhookError ? ` · last webhook error: ${a.webhookError}` : ''}
          </Muted>
        </li>
      ))}
    </ul>
  );
}

function Report({ monitor }: { monitor: Monitor }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const checks = useQuery({
    queryKey: [...KEY, 'checks', monitor.id],
    queryFn: () => api.call('monitors.checks', { monitor: monitor.id, limit: 20 }),
  });
  const alerts = useQuery({
    queryKey: [...KEY, 'alerts', monitor.id],
    queryFn: () => api.call('monitors.alerts', { monitor: monitor.id, limit: 20 }),
  });
  const checkNow = useMutation({
    mutationFn: () => api.call('monitors.check', { monitor: monitor.id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: KEY }),
  });
  const [picked, setPicked] = useState<string | null>(null);
  const history = checks.data?.items ?? [];
  const check: DriftCheck | undefined = history.find((c) => c.id === picked) ?? history[0];
  const schedule = [
    monitor.everyRequests === null ? null : `every ${monitor.everyRequests} requests`,
    monitor.everyMinutes === null ? null : `every ${monitor.everyMinutes} min`,
  ].filter(Boolean);

  return (
    <div className="min-w-0 flex-1 space-y-4" data-testid="drift-report">
      <Card
        title={`${monitor.name} on ${monitor.deployment}`}
        actions={
          <Button
            size="sm"
            variant="primary"
            disabled={checkNow.isPending || monitor.pendingJobId !== null}
            onClick={() => checkNow.mutate()}
          >
            {monitor.pendingJobId !== null || checkNow.isPending ? 'Checking…' : 'Check now'}
          </Button>
        }
      >
        <p>
          Reference <b>{monitor.reference.dataset}</b> v{monitor.reference.version} ({monitor.reference.path})
          {monitor.target ? `, target ${monitor.target}` : ''}; the newest {monitor.windowRows} logged rows; checked{' '}
          {schedule.length ? schedule.join(' and ') : 'on demand'}.
        </p>
        {checkNow.isError && <ErrorBanner className="mt-2" error={checkNow.error} />}
        {monitor.lastFailure && monitor.pendingJobId === null && (
          <ErrorBanner
            className="mt-2"
            title={`The last check failed (${formatDateTime(monitor.lastFailure.at)})`}
            error={new Error(monitor.lastFailure.message)}
            onRetry={() => checkNow.mutate()}
          />
        )}
        {history.length > 1 && (
          <label className="mt-2 flex items-center gap-2 text-[12px]">
            Check
            <select
              className={inputClasses({ width: 'w-auto' })}
              value={check?.id}
              onChange={(e) => setPicked(e.target.value)}
              aria-label="Check"
            >
              {history.map((c) => (
                <option key={c.id} value={c.id}>
                  {formatDateTime(c.at)} · {c.drifted.length} drifted
                </option>
              ))}
            </select>
          </label>
        )}
      </Card>
      {checks.isError && <ErrorBanner error={checks.error} />}
      {checks.isPending && <Spinner />}
      {checks.data && !check && (
        <EmptyState title="No checks yet">
          Checks run {schedule.length ? schedule.join(' and ') : 'when you press Check now'}, once the deployment has
          logged predictions.
        </EmptyState>
      )}
      {check && (
        <>
          <div
            data-testid="drift-summary"
            className={cx(
              'rounded-md border px-3 py-2.5',
              check.drifted.length
                ? 'border-red-200 bg-red-50 text-red-800 dark:border-red-900 dark:bg-red-950/50 dark:text-red-200'
                : 'border-emerald-200 bg-emerald-50 text-emerald-800 dark:border-emerald-900 dark:bg-emerald-950/50 dark:text-emerald-200',
            )}
          >
            <b>
              {check.drifted.length} of {check.features.length} features drifted
            </b>
            {check.drifted.length ? `: ${check.drifted.join(', ')}` : ''}
            {check.datasetDrift ? ' — dataset drift' : ''}. {check.rows} rows of {check.requests} requests, checked{' '}
            {formatDateTime(check.at)} ({check.trigger}).
            {check.performance && (
              <span>
                {' '}
                {check.performance.accuracy !== undefined
                  ? `Accuracy ${score(check.performance.accuracy)}`
                  : `MAE ${score(check.performance.mae)}`}{' '}
                on {check.performance.labelledRows} labelled rows.
              </span>
            )}
          </div>
          <div className="flex items-center gap-3 text-[12px] text-zinc-500">
            <span className="inline-flex items-center gap-1">
              <span className="inline-block size-2.5 bg-zinc-400" /> reference
            </span>
            <span className="inline-flex items-center gap-1">
              <span className="inline-block size-2.5 bg-indigo-500" /> current
            </span>
            <span className="inline-flex items-center gap-1">
              <span className="inline-block size-2.5 bg-red-500" /> current (drifted)
            </span>
          </div>
          <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            {check.features.map((f) => (
              <FeatureCard key={f.name} feature={f} />
            ))}
            {check.prediction && (
              <FeatureCard
                feature={check.prediction}
                title={`Prediction (vs ${check.predictionReference === 'target' ? 'the target' : 'the first window'})`}
              />
            )}
          </div>
        </>
      )}
      <Card title="Alerts">
        {alerts.isError ? <ErrorBanner error={alerts.error} /> : <AlertList alerts={alerts.data?.items ?? []} />}
      </Card>
    </div>
  );
}

function NewMonitor({ onCreated }: { onCreated: (m: Monitor) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const deployments = useQuery({ queryKey: ['deployments', 'list'], queryFn: () => api.call('deployments.list') });
  const { form, bind } = useTextFields({ deployment: '', psi: '0.2', everyRequests: '100', webhookUrl: '' });
  const create = useMutation({
    mutationFn: () =>
      api.call('monitors.create', {
        deployment: form.deployment,
        alerts: form.psi ? { psi: Number(form.psi) } : {},
        everyRequests: form.everyRequests ? Number(form.everyRequests) : null,
        webhookUrl: form.webhookUrl || null,
      }),
    onSuccess: (m) => {
      void queryClient.invalidateQueries({ queryKey: KEY });
      onCreated(m);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const onnx = (deployments.data?.items ?? []).filter((d) => d.runtime === 'onnx');
  return (
    <Card title="New drift monitor" className="mb-4">
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
        <InlineField label="Deployment">
          <select className={inputClass} {...bind('deployment')} required>
            <option value="">Choose…</option>
            {onnx.map((d) => (
              <option key={d.id}>{d.name}</option>
            ))}
          </select>
        </InlineField>
        <InlineField label="Alert when a feature’s PSI exceeds">
          <input className={inputClass} {...bind('psi')} />
        </InlineField>
        <InlineField label="Check every N requests">
          <input className={inputClass} {...bind('everyRequests')} />
        </InlineField>
        <InlineField label="Webhook URL (optional)" className="min-w-64 flex-1">
          <input className={inputClass} {...bind('webhookUrl')} placeholder="https://…" />
        </InlineField>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          Create
        </Button>
      </form>
      {create.isError && <ErrorBanner className="mt-3" error={create.error} />}
    </Card>
  );
}

/** Drift monitors per deployment, a selected monitor's drift report (per-feature charts and scores) and its alerts. */
export function DriftPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const monitors = useQuery({ queryKey: [...KEY, 'list'], queryFn: () => api.call('monitors.list', {}) });
  useLiveEvents(
    (name) => name.startsWith('evalkit.') || name.startsWith('job.'),
    (event) => {
      void queryClient.invalidateQueries({ queryKey: KEY });
      if (event.name === 'evalkit.alert.raised') {
        const { alert } = event.data as { alert: MonitorAlert };
        push({ tone: 'error', title: `Drift alert: ${alert.monitor}`, message: alert.reasons.join('; ') });
      }
    },
  );
  const items = monitors.data?.items ?? [];
  const selected = items.find((m) => m.name === params.get('monitor')) ?? items[0];
  const byDeployment = new Map<string, Monitor[]>();
  for (const m of items) byDeployment.set(m.deployment, [...(byDeployment.get(m.deployment) ?? []), m]);

  return (
    <div data-testid="drift-page">
      <PageHeader
        title="Drift"
        description="Deployments’ request logs compared with their training data, feature by feature, with alerts."
        actions={
          <Button variant="primary" onClick={() => setCreating((c) => !c)}>
            {creating ? 'Close' : 'New monitor'}
          </Button>
        }
      />
      {creating && (
        <NewMonitor
          onCreated={(m) => {
            setCreating(false);
            setParams({ monitor: m.name });
          }}
        />
      )}
      {monitors.isError && <ErrorBanner error={monitors.error} onRetry={() => void monitors.refetch()} />}
      {monitors.isPending && <Spinner />}
      {monitors.data && items.length === 0 && (
        <EmptyState title="No drift monitors">
          Create one on a tabular ONNX deployment: its logged predictions are compared with the dataset version its
          model was trained on.
        </EmptyState>
      )}
      {selected && (
        <div className="flex items-start gap-4">
          <nav className="w-56 shrink-0 space-y-3" aria-label="Monitors">
            {[...byDeployment].map(([deployment, list]) => (
              <div key={deployment}>
                <Muted className="text-[11px] font-medium tracking-wide uppercase">{deployment}</Muted>
                <ul className="mt-1 space-y-0.5">
                  {list.map((m) => (
                    <li key={m.id}>
                      <button
                        type="button"
                        onClick={() => setParams({ monitor: m.name })}
                        aria-current={m.id === selected.id ? 'page' : undefined}
                        className={cx(
                          'w-full rounded px-2 py-1 text-left',
                          m.id === selected.id
                            ? 'bg-zinc-100 font-medium dark:bg-zinc-800'
                            : 'hover:bg-zinc-50 dark:hover:bg-zinc-900',
                        )}
                      >
                        {m.name}
                        <Muted className="block text-[11px]">
                          {m.lastCheckAt ? `checked ${formatDateTime(m.lastCheckAt)}` : 'not checked yet'}
                        </Muted>
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
          <Report key={selected.id} monitor={selected} />
        </div>
      )}
    </div>
  );
}
