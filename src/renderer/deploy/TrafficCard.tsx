import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Deployment, DeploymentStats, DeploymentUpdate } from '#shared/contracts/deploy';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, inputClasses, Muted } from '../components/ui';
import { useApi } from '../lib/api';
import { deployKeys } from './queries';
import { formatCount, formatMs, sourceLabel } from './stats';
import { trafficForm, trafficInput, trafficLabel, versionName, type TrafficForm } from './traffic';

const ROLE_CLASS: Record<string, string> = {
  main: 'bg-indigo-50 text-indigo-700 dark:bg-indigo-500/10 dark:text-indigo-300',
  canary: 'bg-amber-50 text-amber-700 dark:bg-amber-500/10 dark:text-amber-300',
  shadow: 'bg-sky-50 text-sky-700 dark:bg-sky-500/10 dark:text-sky-300',
  retired: 'bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400',
};

/**
 * A deployment's traffic between model versions: the canary or shadow setting (editable: set, promote, clear) and
 * each version's requests, errors, latency and tokens since the app started. Keyed by the stored setting where it
 * is used, so that the form starts again from a changed setting.
 */
export function TrafficCard({ deployment: d, stats }: { deployment: Deployment; stats: DeploymentStats | undefined }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<TrafficForm>(() => trafficForm(d));
  const change = useMutation({
    mutationFn: (what: 'set' | 'clear' | 'promote') => {
      if (what === 'promote') return api.call('deployments.promote', { deployment: d.name });
      const traffic: DeploymentUpdate['traffic'] = what === 'clear' ? null : trafficInput(form);
      return api.call('deployments.update', { deployment: d.name, traffic });
    },
    onSuccess: (out) => {
      setConfirmingPromote(false);
      queryClient.setQueryData(deployKeys.one(d.name), out);
      void queryClient.invalidateQueries({ queryKey: deployKeys.stats(d.name) });
    },
  });
  const busy = change.isPending ? change.variables : null;
  const versions = stats?.versions ?? [];
  const [confirmingPromote, setConfirmingPromote] = useState(false);
  const second = d.traffic ? versions.find((v) => v.role === d.traffic?.mode) : undefined;
  const llm = d.runtime === 'gguf';
  return (
    <Card title="Traffic" data-testid="deployment-traffic">
      <Dialog
        open={confirmingPromote}
        onClose={() => setConfirmingPromote(false)}
        title={`Promote ${d.traffic ? sourceLabel(d.traffic.source) : ''} to main?`}
        testId="confirm-promote"
        footer={
          <>
            <Button onClick={() => setConfirmingPromote(false)}>Cancel</Button>
            <Button variant="primary" disabled={busy !== null} onClick={() => change.mutate('promote')}>
              {busy === 'promote' ? 'Promoting…' : 'Promote'}
            </Button>
          </>
        }
      >
        <p>It answers every request from then on; {sourceLabel(d.source)} becomes what Roll back returns to.</p>
        {second && (
          <p
            className={cx('mt-2', second.requests.errors > 0 && 'font-medium text-red-700 dark:text-red-400')}
            data-testid="promote-errors"
          >
            {second.requests.total === 0
              ? `As ${d.traffic?.mode}, it has not answered a request yet.`
              : `As ${d.traffic?.mode}, it failed ${formatCount(second.requests.errors)} of ${formatCount(second.requests.total)} requests.`}
          </p>
        )}
        {change.error && change.variables === 'promote' && <ErrorBanner error={change.error} title="Not promoted" />}
      </Dialog>
      <p className="mb-3 flex flex-wrap items-center gap-2" data-testid="traffic-setting">
        <span className="font-medium text-zinc-900 dark:text-zinc-100">{trafficLabel(d)}</span>
        {d.traffic && (
          <>
            <Button size="sm" disabled={busy !== null} onClick={() => setConfirmingPromote(true)}>
              {busy === 'promote' ? 'Promoting…' : 'Promote to main…'}
            </Button>
            <Button size="sm" variant="ghost" disabled={busy !== null} onClick={() => change.mutate('clear')}>
              {busy === 'clear' ? 'Clearing…' : 'Clear'}
            </Button>
          </>
        )}
      </p>
      {d.source.kind === 'file' ? (
        <Muted>A file deployment has no versions to split traffic between; deploy a registered model.</Muted>
      ) : (
        <form
          className="mb-3 flex flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            change.mutate('set');
          }}
        >
          <label className="flex flex-col gap-1 text-[12px] text-zinc-600 dark:text-zinc-400">
            Mode
            <select
              className={inputClasses({ width: 'w-28' })}
              value={form.mode}
              onChange={(e) => setForm({ ...form, mode: e.target.value as TrafficForm['mode'] })}
              data-testid="traffic-mode"
            >
              <option value="canary">canary</option>
              <option value="shadow">shadow</option>
            </select>
          </label>
          <label className="flex flex-col gap-1 text-[12px] text-zinc-600 dark:text-zinc-400">
            Version of {d.source.model}
            <input
              className={inputClasses({ width: 'w-32' })}
              value={form.version}
              placeholder="2 or @alias"
              onChange={(e) => setForm({ ...form, version: e.target.value })}
              data-testid="traffic-version"
            />
          </label>
          {form.mode === 'canary' && (
            <label className="flex flex-col gap-1 text-[12px] text-zinc-600 dark:text-zinc-400">
              Share of requests (%)
              <input
                className={inputClasses({ width: 'w-24' })}
                type="number"
                min={0}
                max={100}
                value={form.percent}
                onChange={(e) => setForm({ ...form, percent: e.target.value })}
                data-testid="traffic-percent"
              />
            </label>
          )}
          <Button type="submit" variant="primary" disabled={busy !== null || form.version.trim() === ''}>
            {busy === 'set' ? 'Loading the version…' : 'Apply'}
          </Button>
        </form>
      )}
      {change.error ? (
        <div className="mb-3">
          <ErrorBanner error={change.error} title="The traffic was not changed" />
        </div>
      ) : null}
      <table className="w-full text-left text-[13px] tabular-nums" data-testid="version-stats">
        <thead className="text-[11px] tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
          <tr>
            <th className="py-1 pr-3 font-medium">Version</th>
            <th className="py-1 pr-3 font-medium">Role</th>
            <th className="py-1 pr-3 text-right font-medium">Replicas</th>
            <th className="py-1 pr-3 text-right font-medium">Requests</th>
            <th className="py-1 pr-3 text-right font-medium">Errors</th>
            <th className="py-1 pr-3 text-right font-medium">p50</th>
            <th className="py-1 pr-3 text-right font-medium">p95</th>
            <th className="py-1 pr-3 text-right font-medium">p99</th>
            {llm && <th className="py-1 text-right font-medium">Tokens out</th>}
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr
              key={versionName(v)}
              className="border-t border-zinc-100 dark:border-zinc-800"
              data-testid={`version-row-${versionName(v)}`}
            >
              <td className="py-1.5 pr-3">
                <Chip>{versionName(v)}</Chip>
              </td>
              <td className="py-1.5 pr-3">
                <span className={`rounded px-1.5 py-0.5 text-[11px] font-medium ${ROLE_CLASS[v.role] ?? ''}`}>
                  {v.role}
                </span>
              </td>
              <td className="py-1.5 pr-3 text-right" data-testid="version-replicas">
                {v.role === 'retired' ? '–' : v.replicas}
              </td>
              <td className="py-1.5 pr-3 text-right" data-testid="version-requests">
                {formatCount(v.requests.total)}
              </td>
              <td className="py-1.5 pr-3 text-right">{formatCount(v.requests.errors)}</td>
              <td className="py-1.5 pr-3 text-right">{formatMs(v.latencyMs.p50)}</td>
              <td className="py-1.5 pr-3 text-right">{formatMs(v.latencyMs.p95)}</td>
              <td className="py-1.5 pr-3 text-right">{formatMs(v.latencyMs.p99)}</td>
              {llm && <td className="py-1.5 text-right">{formatCount(v.tokens.completion)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
