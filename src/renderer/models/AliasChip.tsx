import type { ReactNode } from 'react';

/** An alias and the version it names ("champion → v2"), violet to stand apart from tags. */
export function AliasChip({ alias, version, children }: { alias: string; version?: number; children?: ReactNode }) {
  return (
    <span
      data-testid="alias-chip"
      data-alias={alias}
      data-version={version}
      className="inline-flex items-center gap-1 rounded-full bg-violet-50 py-0.5 pr-1.5 pl-2 text-[11px] font-medium text-violet-700 ring-1 ring-violet-200 ring-inset dark:bg-violet-950 dark:text-violet-300 dark:ring-violet-800"
    >
      @{alias}
      {version !== undefined && <span className="font-normal opacity-80">→ v{version}</span>}
      {children}
    </span>
  );
}
