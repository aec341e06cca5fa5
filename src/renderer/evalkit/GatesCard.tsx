import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { EVALUATION_METRICS, type EvaluationMetric, type GateOp } from '#shared/contracts/evalkit-evaluations';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, inputClass, Muted } from '../components/ui';
import { useApi } from '../lib/api';

const KEY = ['evalkit', 'gates'] as const;

/**
 * A model's gates (metric thresholds a version's latest evaluation must meet before a gated alias moves to it),
 * editable, with the chosen version's result against each.
 */
export function GatesCard({ model, version }: { model: string; version: number }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    alias: 'champion',
    metric: 'accuracy' as EvaluationMetric,
    op: '>=' as GateOp,
    value: '0.9',
  });
  const status = useQuery({
    queryKey: [...KEY, model, version],
    queryFn: () => api.call('evaluationGates.status', { model, version }),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: KEY });
  const set = useMutation({
    mutationFn: () =>
      api.call('evaluationGates.set', {
        model,
        ...(form.alias.trim() ? { alias: form.alias.trim() } : {}),
        metric: form.metric,
        op: form.op,
        value: Number(form.value),
      }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.call('evaluationGates.delete', { id }),
    onSuccess: refresh,
  });
  const checks = status.data?.checks ?? [];
  return (
    <Card title="Gates" data-testid="gates">
      {status.error && <ErrorBanner error={status.error} />}
      {checks.length === 0 ? (
        <Muted>No gates: any alias may point at any version.</Muted>
      ) : (
        <ul className="space-y-1.5">
          {checks.map((c) => (
            <li key={c.gate.id} className="flex flex-wrap items-center gap-x-3 gap-y-1" data-gate={c.gate.metric}>
              <span
                className={cx(
                  'rounded px-1.5 text-[12px] font-medium whitespace-nowrap',
                  c.passed
                    ? 'bg-emerald-50 text-emerald-700 dark:bg-emerald-950 dark:text-emerald-300'
                    : 'bg-red-50 text-red-700 dark:bg-red-950 dark:text-red-300',
                )}
              >
                v{version} {c.passed ? 'passed' : 'not passed'}
              </span>
              <span className="whitespace-nowrap">
                <b>{c.gate.alias ?? 'every alias'}</b>: {c.gate.metric} {c.gate.op} {c.gate.value}
              </span>
              <Muted className="min-w-0 flex-1 truncate">
                {c.actual === null ? (c.reason ?? '') : `latest evaluation: ${Number(c.actual.toPrecision(4))}`}
              </Muted>
              <Button size="sm" onClick={() => remove.mutate(c.gate.id)}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="mt-3 grid grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)_4.5rem_5rem_auto] items-center gap-2"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          set.mutate();
        }}
      >
        <input
          className={inputClass}
          aria-label="Alias"
          placeholder="every alias"
          value={form.alias}
          onChange={(e) => setForm({ ...form, alias: e.target.value })}
        />
        <select
          className={inputClass}
          aria-label="Metric"
          value={form.metric}
          onChange={(e) => setForm({ ...form, metric: e.target.value as EvaluationMetric })}
        >
          {EVALUATION_METRICS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <select
          className={inputClass}
          aria-label="Comparison"
          value={form.op}
          onChange={(e) => setForm({ ...form, op: e.target.value as GateOp })}
        >
          {(['>=', '>', '<=', '<'] as const).map((op) => (
            <option key={op}>{op}</option>
          ))}
        </select>
        <input
          className={inputClass}
          aria-label="Threshold"
          value={form.value}
          onChange={(e) => setForm({ ...form, value: e.target.value })}
        />
        <Button type="submit" disabled={set.isPending}>
          Set gate
        </Button>
      </form>
      {(set.error ?? remove.error) && <ErrorBanner className="mt-2" error={set.error ?? remove.error} />}
    </Card>
  );
}
