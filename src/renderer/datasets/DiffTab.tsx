import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { DatasetVersion, ManifestEntry } from '#shared/contracts/dataforge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { fieldClass } from './field';
import { formatBytes } from '../lib/format';
import { versionLabel } from './model';

const SHOWN = 300;

/** Files added, removed and changed between two versions; by default the selected one against the one before. */
export function DiffTab({
  dataset,
  versions,
  selected,
  from,
  to,
  onChange,
}: {
  dataset: string;
  versions: DatasetVersion[];
  selected: DatasetVersion;
  from: string | null;
  to: string | null;
  onChange: (from: string, to: string) => void;
}) {
  const api = useApi();
  const { fromNumber, toNumber } = pickPair(
    versions.map((v) => v.number),
    selected.number,
    from && /^\d+$/.test(from) ? Number(from) : null,
    to && /^\d+$/.test(to) ? Number(to) : null,
  );

  const diff = useQuery({
    queryKey: queryKeys.datasetDiff(dataset, String(fromNumber), String(toNumber)),
    queryFn: () => api.call('datasets.diff', { dataset, from: String(fromNumber), to: String(toNumber) }),
    enabled: fromNumber !== null,
    staleTime: Infinity,
  });

  if (versions.length < 2) {
    return (
      <Card>
        <EmptyState title="Nothing to compare yet">
          This dataset has one version. Import the folder again after a change to get a diff.
        </EmptyState>
      </Card>
    );
  }

  const pick = (id: string, label: string, value: number | null, set: (n: number) => void) => (
    <div className="flex items-center gap-2">
      <label htmlFor={id} className="font-medium">
        {label}
      </label>
      <select
        id={id}
        value={value ?? ''}
        onChange={(e) => set(Number(e.target.value))}
        className={fieldClass({ width: 'w-auto', extra: 'min-w-24' })}
      >
        {value === null && <option value="">—</option>}
        {versions.map((v) => (
          <option key={v.id} value={v.number}>
            {versionLabel(v)}
            {v.tags.length ? ` (${v.tags.join(', ')})` : ''}
          </option>
        ))}
      </select>
    </div>
  );

  const d = diff.data;
  return (
    <div className="space-y-3" data-testid="diff-tab">
      <div className="flex flex-wrap items-center gap-3">
        {pick('diff-from', 'From', fromNumber, (n) => onChange(String(n), String(toNumber)))}
        <Button
          size="sm"
          variant="ghost"
          aria-label="Swap versions"
          title="Swap"
          disabled={fromNumber === null}
          onClick={() => fromNumber !== null && onChange(String(toNumber), String(fromNumber))}
        >
          ⇄
        </Button>
        {pick('diff-to', 'To', toNumber, (n) => onChange(String(fromNumber ?? ''), String(n)))}
        {d && (
          <div className="ml-auto flex flex-wrap items-center gap-2 text-[12px]" data-testid="diff-summary">
            <Count tone="added" n={d.added.length} label="added" />
            <Count tone="removed" n={d.removed.length} label="removed" />
            <Count tone="changed" n={d.changed.length} label="changed" />
            <Muted className="tabular-nums">{d.unchanged} unchanged</Muted>
          </div>
        )}
      </div>
      {fromNumber === null && <Muted>Pick a version to compare {versionLabel({ number: toNumber })} with.</Muted>}
      {diff.isError && <ErrorBanner error={diff.error} onRetry={() => void diff.refetch()} />}
      {diff.isPending && fromNumber !== null && (
        <div className="flex items-center gap-2 py-6 text-zinc-500">
          <Spinner /> Comparing…
        </div>
      )}
      {d && d.added.length + d.removed.length + d.changed.length === 0 && (
        <Card>
          <EmptyState title="The same files">
            {versionLabel(d.from)} and {versionLabel(d.to)} hold identical content ({d.unchanged} files).
          </EmptyState>
        </Card>
      )}
      {d && d.added.length > 0 && (
        <Section title="Added" tone="added" count={d.added.length} testId="diff-added">
          {d.added.map((e) => (
            <EntryRow key={e.path} sign="+" tone="added" entry={e} />
          ))}
        </Section>
      )}
      {d && d.removed.length > 0 && (
        <Section title="Removed" tone="removed" count={d.removed.length} testId="diff-removed">
          {d.removed.map((e) => (
            <EntryRow key={e.path} sign="−" tone="removed" entry={e} />
          ))}
        </Section>
      )}
      {d && d.changed.length > 0 && (
        <Section title="Changed" tone="changed" count={d.changed.length} testId="diff-changed">
          {d.changed.map((c) => (
            <tr key={c.path} data-testid="diff-entry" data-path={c.path}>
              <td className={cx('w-6 px-3 py-1 text-center font-mono', TONE_TEXT.changed)}>~</td>
              <td className="px-3 py-1 font-mono text-[12px] break-all">{c.path}</td>
              <td className="px-3 py-1 text-right whitespace-nowrap tabular-nums">
                {formatBytes(c.before.size)} → {formatBytes(c.after.size)}
                <Delta bytes={c.after.size - c.before.size} />
              </td>
              <td
                className="px-3 py-1 font-mono text-[11px] whitespace-nowrap text-zinc-500 dark:text-zinc-400"
                title={`${c.before.sha256} → ${c.after.sha256}`}
              >
                {c.before.sha256.slice(0, 8)} → {c.after.sha256.slice(0, 8)}
              </td>
            </tr>
          ))}
        </Section>
      )}
    </div>
  );
}

/**
 * The versions to compare: those in the URL, else the selected one against the one before it, else (for the
 * first version) against the one after it.
 */
function pickPair(
  numbers: number[],
  selected: number,
  from: number | null,
  to: number | null,
): { fromNumber: number | null; toNumber: number } {
  if (from !== null && to !== null) return { fromNumber: from, toNumber: to };
  const target = to ?? selected;
  const older = numbers.filter((n) => n < target);
  if (from !== null || older.length > 0) return { fromNumber: from ?? Math.max(...older), toNumber: target };
  const newer = numbers.filter((n) => n > target);
  return newer.length > 0 && to === null
    ? { fromNumber: target, toNumber: Math.min(...newer) }
    : { fromNumber: null, toNumber: target };
}

type DiffTone = 'added' | 'removed' | 'changed';
const TONE_TEXT: Record<DiffTone, string> = {
  added: 'text-emerald-700 dark:text-emerald-400',
  removed: 'text-red-700 dark:text-red-400',
  changed: 'text-amber-700 dark:text-amber-400',
};
const TONE_BADGE: Record<DiffTone, string> = {
  added:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  removed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  changed: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
};

function Count({ tone, n, label }: { tone: DiffTone; n: number; label: string }) {
  return (
    <span
      className={cx(
        'rounded-full px-2 py-0.5 font-medium tabular-nums ring-1 ring-inset',
        n > 0
          ? TONE_BADGE[tone]
          : 'bg-zinc-50 text-zinc-500 ring-zinc-200 dark:bg-zinc-900 dark:text-zinc-400 dark:ring-zinc-800',
      )}
      data-testid={`diff-count-${tone}`}
    >
      {n} {label}
    </span>
  );
}

function Section({
  title,
  tone,
  count,
  testId,
  children,
}: {
  title: string;
  tone: DiffTone;
  count: number;
  testId: string;
  children: ReactNode[];
}) {
  const [all, setAll] = useState(false);
  const shown = all ? children : children.slice(0, SHOWN);
  return (
    <Card
      data-testid={testId}
      title={
        <span className={TONE_TEXT[tone]}>
          {title} <span className="font-normal tabular-nums">({count})</span>
        </span>
      }
      bodyClassName="overflow-x-auto p-0"
    >
      <table className="w-full text-left" aria-label={`${title} files`}>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">{shown}</tbody>
      </table>
      {children.length > shown.length && (
        <div className="flex justify-center border-t border-zinc-200 py-2 dark:border-zinc-800">
          <Button size="sm" onClick={() => setAll(true)}>
            Show all {count}
          </Button>
        </div>
      )}
    </Card>
  );
}

function EntryRow({ sign, tone, entry }: { sign: string; tone: DiffTone; entry: ManifestEntry }) {
  return (
    <tr data-testid="diff-entry" data-path={entry.path}>
      <td className={cx('w-6 px-3 py-1 text-center font-mono', TONE_TEXT[tone])}>{sign}</td>
      <td className="px-3 py-1 font-mono text-[12px] break-all">{entry.path}</td>
      <td className="px-3 py-1 text-right whitespace-nowrap tabular-nums">{formatBytes(entry.size)}</td>
      <td
        className="px-3 py-1 font-mono text-[11px] whitespace-nowrap text-zinc-500 dark:text-zinc-400"
        title={entry.sha256}
      >
        {entry.sha256.slice(0, 8)}
      </td>
    </tr>
  );
}

function Delta({ bytes }: { bytes: number }) {
  if (bytes === 0) return <Muted className="ml-1.5 text-[11px]">(same size)</Muted>;
  return (
    <span className={cx('ml-1.5 text-[11px]', bytes > 0 ? TONE_TEXT.added : TONE_TEXT.removed)}>
      ({bytes > 0 ? '+' : '−'}
      {formatBytes(Math.abs(bytes))})
    </span>
  );
}
