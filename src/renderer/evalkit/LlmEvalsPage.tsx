import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { LlmCell, LlmRun, LlmRunSummary } from '#shared/contracts/evalkit-llm';
import { ErrorBanner } from '../components/ErrorBanner';
import { Icon, PlusIcon, type IconProps } from '../components/icons';
import {
  Button,
  Card,
  cx,
  EmptyState,
  inputClass,
  inputClasses,
  Muted,
  PageHeader,
  ProgressBar,
  Spinner,
} from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { useApi } from '../lib/api';
import { formatDateTime, formatDuration, shortId } from '../lib/format';
import { NEW_SUITE, formOf, inputOf, type SuiteForm } from './suite-form';

/** The sidebar's icon for LLM evals: a checked speech bubble. */
export const LlmEvalsIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M4 5h16v11H9l-5 4z" />
    <path d="m8.5 10.5 2.5 2.5 4.5-5" />
  </Icon>
);

const keys = {
  all: ['evalkit', 'llm'] as const,
  suites: ['evalkit', 'llm', 'suites'] as const,
  suite: (name: string) => ['evalkit', 'llm', 'suites', name] as const,
  runs: (suite: string) => ['evalkit', 'llm', 'runs', suite] as const,
  run: (id: string) => ['evalkit', 'llm', 'run', id] as const,
};

const PAGE = '/llm-evals';
const textareaClass = inputClasses({ multiline: true, mono: true });

/** Suites, one suite's editor and runs (`?suite=<name>`, `?suite=` for a new one), or one run (`?run=<id>`). */
export function LlmEvalsPage() {
  const [params] = useSearchParams();
  const runId = params.get('run');
  const suite = params.get('suite');
  // Runs are refetched as their cells arrive.
  const queryClient = useQueryClient();
  useLiveEvents(
    (name) => name === 'evalkit.llm-run.updated',
    () => void queryClient.invalidateQueries({ queryKey: keys.all }),
  );
  if (runId) return <RunView key={runId} id={runId} />;
  if (suite !== null) return <SuiteView key={suite} name={suite} />;
  return <SuiteList />;
}

function SuiteList() {
  const api = useApi();
  const suites = useQuery({ queryKey: keys.suites, queryFn: () => api.call('llmSuites.list', {}) });
  return (
    <div data-testid="llm-evals-page">
      <PageHeader
        title="LLM evals"
        description="Suites of prompt templates and cases, checked by assertions, run over a matrix of prompts × deployed chat models."
        actions={
          <Link to={`${PAGE}?suite=`}>
            <Button variant="primary">
              <PlusIcon width={14} height={14} /> New suite
            </Button>
          </Link>
        }
      />
      {suites.isError && <ErrorBanner className="mb-3" error={suites.error} onRetry={() => void suites.refetch()} />}
      <Card bodyClassName="p-0">
        {suites.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading suites…
          </div>
        ) : !suites.data?.items.length ? (
          <EmptyState title="No suites yet">
            Create one with “New suite”: prompts with {'{{variables}}'}, cases and assertions.
          </EmptyState>
        ) : (
          <table className="w-full text-left" aria-label="Suites">
            <thead className="text-[11px] tracking-wide text-zinc-500 uppercase">
              <tr className="border-b border-zinc-200 dark:border-zinc-800">
                <th className="px-4 py-2 font-medium">Suite</th>
                <th className="px-4 py-2 font-medium">Prompts</th>
                <th className="px-4 py-2 font-medium">Cases</th>
                <th className="px-4 py-2 font-medium">Updated</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {suites.data.items.map((s) => (
                <tr key={s.id} data-testid="llm-suite-row">
                  <td className="px-4 py-2.5">
                    <Link
                      to={`${PAGE}?suite=${encodeURIComponent(s.name)}`}
                      className="font-medium text-zinc-900 hover:text-indigo-600 hover:underline dark:text-zinc-100"
                    >
                      {s.name}
                    </Link>
                    {s.description && <p className="text-[12px] text-zinc-500">{s.description}</p>}
                  </td>
                  <td className="px-4 py-2.5 tabular-nums">{s.prompts}</td>
                  <td className="px-4 py-2.5 tabular-nums">{s.cases}</td>
                  <td className="px-4 py-2.5 whitespace-nowrap">{formatDateTime(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

function Field({ label, children, className }: { label: string; children: ReactNode; className?: string }) {
  return (
    <label className={cx('block', className)}>
      <span className="mb-1 block text-[12px] font-medium text-zinc-600 dark:text-zinc-400">{label}</span>
      {children}
    </label>
  );
}

/** One suite's editor (a new one when `name` is empty), with its run launcher and past runs. */
function SuiteView({ name }: { name: string }) {
  const api = useApi();
  const suite = useQuery({
    queryKey: keys.suite(name),
    queryFn: () => api.call('llmSuites.get', { suite: name }),
    enabled: name !== '',
  });
  if (name !== '' && suite.isPending)
    return (
      <div className="flex items-center gap-2 p-6 text-zinc-500">
        <Spinner /> Loading suite…
      </div>
    );
  if (suite.isError) return <ErrorBanner error={suite.error} onRetry={() => void suite.refetch()} />;
  return (
    <div data-testid="llm-suite-page">
      <PageHeader
        title={name || 'New LLM eval suite'}
        description={
          <Link to={PAGE} className="hover:underline">
            ← All suites
          </Link>
        }
      />
      <div className="grid items-start gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <SuiteEditor initial={suite.data ? formOf(suite.data) : NEW_SUITE} existing={name || null} />
        {name && (
          <div className="space-y-4">
            <RunLauncher suite={name} />
            <RunList suite={name} />
          </div>
        )}
      </div>
    </div>
  );
}

function SuiteEditor({ initial, existing }: { initial: SuiteForm; existing: string | null }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState(initial);
  const save = useMutation({
    mutationFn: async () => {
      const input = inputOf(form);
      return existing
        ? api.call('llmSuites.update', { ...input, suite: existing })
        : api.call('llmSuites.create', input);
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.all });
      if (saved.name !== existing) void navigate(`${PAGE}?suite=${encodeURIComponent(saved.name)}`);
    },
  });
  const set = (patch: Partial<SuiteForm>) => setForm((f) => ({ ...f, ...patch }));
  const setPrompt = (i: number, patch: Partial<SuiteForm['prompts'][number]>) =>
    set({ prompts: form.prompts.map((p, j) => (i === j ? { ...p, ...patch } : p)) });
  const setCase = (i: number, patch: Partial<SuiteForm['cases'][number]>) =>
    set({ cases: form.cases.map((c, j) => (i === j ? { ...c, ...patch } : c)) });

  return (
    <Card
      title="Suite"
      actions={
        <Button variant="primary" size="sm" onClick={() => save.mutate()} disabled={save.isPending}>
          {save.isPending ? 'Saving…' : existing ? 'Save' : 'Create suite'}
        </Button>
      }
    >
      <form className="space-y-4" onSubmit={(e) => e.preventDefault()} aria-label="Suite editor">
        {save.isError && <ErrorBanner error={save.error} title="Not saved" />}
        {save.isSuccess && <p className="text-[12px] text-emerald-700 dark:text-emerald-400">Saved.</p>}
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Name">
            <input className={inputClass} value={form.name} onChange={(e) => set({ name: e.target.value })} />
          </Field>
          <Field label="Description">
            <input
              className={inputClass}
              value={form.description}
              onChange={(e) => set({ description: e.target.value })}
            />
          </Field>
        </div>
        <div className="grid gap-3 sm:grid-cols-3">
          <Field label="Temperature">
            <input
              className={inputClass}
              value={form.temperature}
              onChange={(e) => set({ temperature: e.target.value })}
            />
          </Field>
          <Field label="Seed (optional)">
            <input className={inputClass} value={form.seed} onChange={(e) => set({ seed: e.target.value })} />
          </Field>
          <Field label="Max tokens">
            <input className={inputClass} value={form.maxTokens} onChange={(e) => set({ maxTokens: e.target.value })} />
          </Field>
        </div>

        <Section
          title="Prompts"
          hint="Templates: {{name}} is replaced by the case's variable."
          onAdd={() =>
            set({ prompts: [...form.prompts, { name: `prompt-${form.prompts.length + 1}`, system: '', user: '' }] })
          }
        >
          {form.prompts.map((p, i) => (
            <Item
              key={i}
              onRemove={
                form.prompts.length > 1 ? () => set({ prompts: form.prompts.filter((_, j) => j !== i) }) : undefined
              }
            >
              <Field label="Prompt name">
                <input className={inputClass} value={p.name} onChange={(e) => setPrompt(i, { name: e.target.value })} />
              </Field>
              <Field label="System message">
                <textarea
                  rows={2}
                  className={textareaClass}
                  value={p.system}
                  onChange={(e) => setPrompt(i, { system: e.target.value })}
                />
              </Field>
              <Field label="User message">
                <textarea
                  rows={2}
                  className={textareaClass}
                  value={p.user}
                  onChange={(e) => setPrompt(i, { user: e.target.value })}
                />
              </Field>
            </Item>
          ))}
        </Section>

        <Section
          title="Cases"
          hint="Variables as a JSON object; assertions as a JSON list, checked besides the suite's."
          onAdd={() => set({ cases: [...form.cases, { name: '', vars: '{}', expected: '', assertions: '[]' }] })}
        >
          {form.cases.map((c, i) => (
            <Item
              key={i}
              onRemove={form.cases.length > 1 ? () => set({ cases: form.cases.filter((_, j) => j !== i) }) : undefined}
            >
              <div className="grid gap-3 sm:grid-cols-2">
                <Field label="Case name">
                  <input className={inputClass} value={c.name} onChange={(e) => setCase(i, { name: e.target.value })} />
                </Field>
                <Field label="Expected output">
                  <input
                    className={inputClass}
                    value={c.expected}
                    onChange={(e) => setCase(i, { expected: e.target.value })}
                  />
                </Field>
              </div>
              <div className="grid gap-3 sm:grid-cols-2">
                <Field label="Variables">
                  <textarea
                    rows={3}
                    className={textareaClass}
                    value={c.vars}
                    onChange={(e) => setCase(i, { vars: e.target.value })}
                  />
                </Field>
                <Field label="Case assertions">
                  <textarea
                    rows={3}
                    className={textareaClass}
                    value={c.assertions}
                    onChange={(e) => setCase(i, { assertions: e.target.value })}
                  />
                </Field>
              </div>
            </Item>
          ))}
        </Section>

        <Field label="Assertions on every case (JSON)">
          <textarea
            rows={5}
            className={textareaClass}
            value={form.assertions}
            onChange={(e) => set({ assertions: e.target.value })}
          />
          <Muted className="mt-1 block text-[11px]">
            Types: equals, contains, not-contains, regex, is-json, json-schema, similarity (embedder, threshold), length
            (min, max), latency (maxMs), rubric (grader, rubric). See docs/evalkit.md.
          </Muted>
        </Field>
      </form>
    </Card>
  );
}

function Section({
  title,
  hint,
  onAdd,
  children,
}: {
  title: string;
  hint: string;
  onAdd: () => void;
  children: ReactNode;
}) {
  return (
    <fieldset className="space-y-2">
      <div className="flex items-center justify-between">
        <legend className="text-[13px] font-semibold text-zinc-800 dark:text-zinc-200">
          {title} <Muted className="ml-1 text-[12px] font-normal">{hint}</Muted>
        </legend>
        <Button size="sm" variant="ghost" onClick={onAdd}>
          <PlusIcon width={12} height={12} /> Add
        </Button>
      </div>
      {children}
    </fieldset>
  );
}

function Item({ onRemove, children }: { onRemove: (() => void) | undefined; children: ReactNode }) {
  return (
    <div className="space-y-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
      {children}
      {onRemove && (
        <Button size="sm" variant="ghost" onClick={onRemove}>
          Remove
        </Button>
      )}
    </div>
  );
}

/** Picks chat deployments and starts a run. */
function RunLauncher({ suite }: { suite: string }) {
  const api = useApi();
  const navigate = useNavigate();
  const deployments = useQuery({ queryKey: ['deploy', 'list'], queryFn: () => api.call('deployments.list', {}) });
  const chats = (deployments.data?.items ?? []).filter((d) => d.runtime === 'gguf' && d.modelKind === 'generation');
  const [picked, setPicked] = useState<string[]>([]);
  const start = useMutation({
    mutationFn: () => api.call('llmRuns.create', { suite, models: picked }),
    onSuccess: (run) => void navigate(`${PAGE}?run=${run.id}`),
  });
  return (
    <Card title="Run the matrix">
      {start.isError && <ErrorBanner className="mb-3" error={start.error} title="Not started" />}
      {chats.length === 0 ? (
        <Muted>No GGUF chat model is deployed: deploy one on the Deployments page.</Muted>
      ) : (
        <div className="space-y-1.5" role="group" aria-label="Models">
          {chats.map((d) => (
            <label key={d.id} className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={picked.includes(d.name)}
                onChange={(e) => setPicked(e.target.checked ? [...picked, d.name] : picked.filter((n) => n !== d.name))}
              />
              <span className="font-mono text-[12px]">{d.name}</span>
              <Muted className="text-[11px]">{d.state}</Muted>
            </label>
          ))}
        </div>
      )}
      <Button
        className="mt-3"
        variant="primary"
        disabled={picked.length === 0 || start.isPending}
        onClick={() => start.mutate()}
      >
        Run {picked.length > 0 ? `on ${picked.length} model${picked.length > 1 ? 's' : ''}` : ''}
      </Button>
    </Card>
  );
}

function RunList({ suite }: { suite: string }) {
  const api = useApi();
  const runs = useQuery({ queryKey: keys.runs(suite), queryFn: () => api.call('llmRuns.list', { suite, limit: 20 }) });
  return (
    <Card title="Runs" bodyClassName="p-0">
      {runs.isError && <ErrorBanner error={runs.error} />}
      {!runs.data?.items.length ? (
        <EmptyState title="No runs yet" />
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
          {runs.data.items.map((r) => (
            <li key={r.id} className="flex items-center justify-between gap-2 px-4 py-2">
              <Link to={`${PAGE}?run=${r.id}`} className="font-mono text-[12px] hover:underline">
                {shortId(r.id)}
              </Link>
              <span className="text-[12px] text-zinc-500">{r.models.join(', ')}</span>
              <RunState run={r} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function RunState({ run }: { run: LlmRunSummary }) {
  const tone =
    run.state === 'failed'
      ? 'text-red-700 dark:text-red-400'
      : run.state === 'succeeded'
        ? 'text-emerald-700 dark:text-emerald-400'
        : 'text-sky-700 dark:text-sky-400';
  return (
    <span className={cx('text-[12px] font-medium tabular-nums', tone)} data-testid="llm-run-state">
      {run.state} · {run.passed}/{run.cellCount} passed
    </span>
  );
}

function cellKey(c: { prompt: string; model: string; case: number }): string {
  return `${c.prompt}\u0000${c.model}\u0000${c.case}`;
}

/** The results: totals per prompt × model, a pass/fail matrix (cases × columns), and a clicked cell's details. */
function RunView({ id }: { id: string }) {
  const api = useApi();
  const run = useQuery({ queryKey: keys.run(id), queryFn: () => api.call('llmRuns.get', { id }) });
  const [selected, setSelected] = useState<string | null>(null);
  if (run.isPending)
    return (
      <div className="flex items-center gap-2 p-6 text-zinc-500">
        <Spinner /> Loading run…
      </div>
    );
  if (run.isError) return <ErrorBanner error={run.error} onRetry={() => void run.refetch()} />;
  const r = run.data;
  const columns = r.prompts.flatMap((p) => r.models.map((model) => ({ prompt: p.name, model })));
  const cells = new Map(r.cells.map((c) => [cellKey(c), c]));
  const chosen = selected ? cells.get(selected) : undefined;
  return (
    <div data-testid="llm-run-page">
      <PageHeader
        title={`Run ${shortId(r.id)} of ${r.suite}`}
        description={
          <Link to={`${PAGE}?suite=${encodeURIComponent(r.suite)}`} className="hover:underline">
            ← Suite {r.suite}
          </Link>
        }
        actions={<RunState run={r} />}
      />
      {r.reason && <ErrorBanner className="mb-3" error={new Error(r.reason)} title="The run failed" />}
      {r.state !== 'succeeded' && r.state !== 'failed' && (
        <ProgressBar value={r.cellCount ? r.done / r.cellCount : null} tone="sky" label="Cells done" className="mb-3" />
      )}
      <Card title="Totals" className="mb-4" bodyClassName="p-0">
        <table className="w-full text-left" aria-label="Totals">
          <thead className="text-[11px] tracking-wide text-zinc-500 uppercase">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">Prompt</th>
              <th className="px-4 py-2 font-medium">Model</th>
              <th className="px-4 py-2 font-medium">Passed</th>
              <th className="px-4 py-2 font-medium">Failed</th>
              <th className="px-4 py-2 font-medium">Errors</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 tabular-nums dark:divide-zinc-800/80">
            {r.totals.map((t) => (
              <tr key={`${t.prompt}/${t.model}`} data-testid="llm-total">
                <td className="px-4 py-2">{t.prompt}</td>
                <td className="px-4 py-2 font-mono text-[12px]">{t.model}</td>
                <td className="px-4 py-2 text-emerald-700 dark:text-emerald-400">{t.passed}</td>
                <td className="px-4 py-2 text-red-700 dark:text-red-400">{t.failed}</td>
                <td className="px-4 py-2">{t.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <div className="grid items-start gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card title="Results" bodyClassName="overflow-x-auto p-0">
          <table className="w-full text-left" aria-label="Results">
            <thead className="text-[11px] text-zinc-500">
              <tr className="border-b border-zinc-200 dark:border-zinc-800">
                <th className="px-3 py-2 font-medium uppercase">Case</th>
                {columns.map((c) => (
                  <th key={`${c.prompt}/${c.model}`} className="px-3 py-2 font-medium">
                    {c.prompt}
                    <span className="block font-mono text-zinc-400">{c.model}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {r.cases.map((testCase, k) => (
                <tr key={k}>
                  <td className="px-3 py-2 font-medium">{testCase.name ?? `case ${k + 1}`}</td>
                  {columns.map((c) => {
                    const key = cellKey({ ...c, case: k });
                    const cell = cells.get(key);
                    return (
                      <td key={key} className="px-3 py-1.5">
                        <CellButton cell={cell} active={selected === key} onClick={() => setSelected(key)} />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Cell" data-testid="llm-cell-detail">
          {chosen ? (
            <CellDetail cell={chosen} run={r} />
          ) : (
            <Muted>Click a cell to see its output, diff and assertions.</Muted>
          )}
        </Card>
      </div>
    </div>
  );
}

function CellButton({ cell, active, onClick }: { cell: LlmCell | undefined; active: boolean; onClick: () => void }) {
  if (!cell) return <Muted className="text-[12px]">…</Muted>;
  const verdict = cell.error ? 'error' : cell.passed ? 'pass' : 'fail';
  return (
    <button
      type="button"
      onClick={onClick}
      data-testid="llm-cell"
      data-verdict={verdict}
      className={cx(
        'w-full rounded px-2 py-1 text-left text-[12px] font-semibold uppercase',
        verdict === 'pass' && 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300',
        verdict === 'fail' && 'bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300',
        verdict === 'error' && 'bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300',
        active && 'ring-2 ring-indigo-500',
      )}
    >
      {verdict}
      {cell.latencyMs !== null && (
        <span className="ml-1.5 font-normal normal-case opacity-70">{formatDuration(cell.latencyMs)}</span>
      )}
    </button>
  );
}

function CellDetail({ cell, run }: { cell: LlmCell; run: LlmRun }) {
  const testCase = run.cases[cell.case];
  return (
    <div className="space-y-3 text-[13px]">
      <p>
        <span className="font-medium">{testCase?.name ?? `case ${cell.case + 1}`}</span>
        <Muted>
          {' '}
          · {cell.prompt} · {cell.model}
          {cell.completionTokens !== null && ` · ${cell.promptTokens ?? '?'} → ${cell.completionTokens} tokens`}
        </Muted>
      </p>
      {cell.error && (
        <p className="text-red-700 dark:text-red-400" data-testid="llm-cell-error">
          {cell.error}
        </p>
      )}
      {cell.output !== null && (
        <div>
          <p className="mb-1 text-[12px] font-medium text-zinc-500">Output</p>
          <pre
            className="rounded bg-zinc-50 p-2 font-mono text-[12px] whitespace-pre-wrap dark:bg-zinc-950"
            data-testid="llm-cell-output"
          >
            {cell.output}
          </pre>
        </div>
      )}
      {cell.diff && (
        <div>
          <p className="mb-1 text-[12px] font-medium text-zinc-500">Diff against the expected output</p>
          <pre
            className="rounded bg-zinc-50 p-2 font-mono text-[12px] whitespace-pre-wrap dark:bg-zinc-950"
            data-testid="llm-cell-diff"
          >
            {cell.diff.map((part, i) => (
              <span
                key={i}
                className={cx(
                  part.op !== 'same' && 'mx-px rounded-sm px-0.5',
                  part.op === 'added' && 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900/50 dark:text-emerald-200',
                  part.op === 'removed' && 'bg-red-100 text-red-900 line-through dark:bg-red-900/50 dark:text-red-200',
                )}
              >
                {part.text}
              </span>
            ))}
          </pre>
        </div>
      )}
      {cell.assertions.length > 0 && (
        <ul className="space-y-1" aria-label="Assertions">
          {cell.assertions.map((a, i) => (
            <li key={i} className="flex gap-2" data-testid="llm-assertion">
              <span
                className={cx(
                  'w-10 shrink-0 text-[11px] font-semibold uppercase',
                  a.passed ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400',
                )}
              >
                {a.passed ? 'pass' : 'fail'}
              </span>
              <span className="w-24 shrink-0 font-mono text-[12px]">{a.type}</span>
              <span className="text-zinc-600 dark:text-zinc-400">{a.reason}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
