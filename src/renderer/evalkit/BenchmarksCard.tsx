import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ErrorBanner } from '../components/ErrorBanner';
import { deployKeys } from '../deploy/queries';
import { Button, Card, cx, inputClass, Muted } from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';

const KEY = ['evalkit', 'benchmarks'] as const;

function ms(v: number | undefined): string {
  return v === undefined ? '—' : `${Number(v.toPrecision(3))} ms`;
}

/** Load benchmarks of deployments: start one, and compare them (each with the model version it served). */
export function BenchmarksCard() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ deployment: '', concurrency: '4', durationSeconds: '10' });
  const list = useQuery({ queryKey: [...KEY, 'list'], queryFn: () => api.call('benchmarks.list', {}) });
  // Offered as suggestions: the field still takes any name (a deployment made since this page loaded).
  const deployments = useQuery({ queryKey: deployKeys.list, queryFn: () => api.call('deployments.list') });
  useLiveEvents(
    (name) => name === 'evalkit.benchmark.updated',
    () => void queryClient.invalidateQueries({ queryKey: KEY }),
  );
  const create = useMutation({
    mutationFn: () =>
      api.call('benchmarks.create', {
        deployment: form.deployment.trim(),
        concurrency: Number(form.concurrency),
        durationSeconds: Number(form.durationSeconds),
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: KEY }),
  });
  const items = list.data?.items ?? [];
  return (
    <Card title="Load benchmarks" bodyClassName="p-0" data-testid="benchmarks">
      <form
        className="flex flex-wrap items-end gap-2 px-4 py-3"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        {(
          [
            ['deployment', 'Deployment', 'w-44'],
            ['concurrency', 'Concurrency', 'w-24'],
            ['durationSeconds', 'Seconds', 'w-20'],
          ] as const
        ).map(([name, label, width]) => (
          <label key={name} className={cx('flex flex-col gap-1', width)}>
            <span className="text-[12px] text-zinc-500">{label}</span>
            <input
              className={inputClass}
              name={name}
              value={form[name]}
              onChange={(e) => setForm({ ...form, [name]: e.target.value })}
              {...(name === 'deployment' ? { list: 'benchmark-deployments', autoComplete: 'off' } : {})}
            />
          </label>
        ))}
        <datalist id="benchmark-deployments">
          {(deployments.data?.items ?? []).map((d) => (
            <option key={d.id} value={d.name}>
              {d.runtime}
            </option>
          ))}
        </datalist>
        <Button type="submit" disabled={create.isPending}>
          Run benchmark
        </Button>
        <Muted>over HTTP as clients call it: KServe v2 infer (ONNX), chat completions (GGUF)</Muted>
      </form>
      {create.error && <ErrorBanner className="mx-4 mb-3" error={create.error} />}
      {list.error && <ErrorBanner className="mx-4 mb-3" error={list.error} />}
      {items.length > 0 && (
        <table className="w-full text-left tabular-nums" data-testid="benchmarks-list">
          <thead className="text-[12px] text-zinc-500">
            <tr>
              <th className="px-4 py-2 font-medium">Deployment</th>
              <th className="px-4 py-2 font-medium">Model</th>
              <th className="px-4 py-2 font-medium">Load</th>
              <th className="px-4 py-2 font-medium">State</th>
              <th className="px-4 py-2 font-medium">Throughput</th>
              <th className="px-4 py-2 font-medium">p50 / p95 / p99</th>
              <th className="px-4 py-2 font-medium">Errors</th>
              <th className="px-4 py-2 font-medium">Created</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => (
              <tr key={b.id} data-benchmark={b.id} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="px-4 py-1.5 font-medium">{b.deployment}</td>
                <td className="px-4 py-1.5">{b.model === null ? 'file' : `${b.model} v${b.modelVersion}`}</td>
                <td className="px-4 py-1.5">
                  {b.concurrency} × {b.durationSeconds} s
                </td>
                <td className="px-4 py-1.5" title={b.reason ?? undefined} data-state>
                  {b.state}
                </td>
                <td className="px-4 py-1.5" data-throughput>
                  {b.throughput === null ? '—' : `${Number(b.throughput.toPrecision(3))} req/s`}
                </td>
                <td className="px-4 py-1.5">
                  {b.latencyMs ? `${ms(b.latencyMs.p50)} / ${ms(b.latencyMs.p95)} / ${ms(b.latencyMs.p99)}` : '—'}
                </td>
                <td className="px-4 py-1.5" title={b.firstError ?? undefined}>
                  {b.errors ?? '—'}
                </td>
                <td className="px-4 py-1.5 text-zinc-500">{formatDateTime(b.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
