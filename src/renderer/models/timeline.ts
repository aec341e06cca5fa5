import type { AliasMove } from '#shared/contracts/modelhub';

/**
 * A model's alias timeline from its history of moves: for each alias, the spans during which a version held it,
 * who gave it that version, and who took it away (by moving it on or removing it).
 */
export interface AliasSpan {
  alias: string;
  version: number;
  from: number;
  /** When the version stopped holding the alias; null while it still does. */
  to: number | null;
  /** Who pointed the alias at this version. */
  movedBy: string;
  /** Who moved it on or removed it; null while current. */
  endedBy: string | null;
}

/**
 * The spans of every alias (not stages), grouped by alias in the order each alias first appeared, each alias's
 * spans oldest first. `moves` is the history as `models.history` gives it, oldest first.
 */
export function aliasTimeline(moves: readonly AliasMove[]): Map<string, AliasSpan[]> {
  const byAlias = new Map<string, AliasSpan[]>();
  const ordered = moves
    .map((move, i) => ({ move, i }))
    .filter(({ move }) => move.kind === 'alias')
    .sort((a, b) => a.move.at - b.move.at || a.i - b.i);
  for (const { move } of ordered) {
    const spans = byAlias.get(move.name) ?? [];
    byAlias.set(move.name, spans);
    const open = spans.at(-1);
    if (open && open.to === null) {
      open.to = move.at;
      open.endedBy = move.actor;
    }
    if (move.version !== null) {
      spans.push({
        alias: move.name,
        version: move.version,
        from: move.at,
        to: null,
        movedBy: move.actor,
        endedBy: null,
      });
    }
  }
  return byAlias;
}

/** The moves newest first, each described in words for a list ("champion: v1 → v2"). */
export function describeMove(move: AliasMove): string {
  const from = move.previousVersion === null ? null : `v${move.previousVersion}`;
  const to = move.version === null ? null : `v${move.version}`;
  if (to === null) return `${move.name} removed${from ? ` from ${from}` : ''}`;
  if (from === null) return `${move.name} set to ${to}`;
  return `${move.name} moved ${from} → ${to}`;
}

/** Span geometry for a drawn timeline: left and width as fractions of [start, end]. */
export function spanBox(span: AliasSpan, start: number, end: number): { left: number; width: number } {
  const total = Math.max(1, end - start);
  const from = Math.max(span.from, start);
  const to = Math.min(span.to ?? end, end);
  return { left: (from - start) / total, width: Math.max(0, to - from) / total };
}
