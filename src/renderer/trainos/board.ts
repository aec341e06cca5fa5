import type { VramGpu, VramHolder, VramHolderKind } from '#shared/contracts/trainos';
import { formatMb } from '../lib/format';

/** What a stretch of a GPU's memory bar stands for: one holder's reservation, memory used outside the app, or free. */
export type SegmentKind = VramHolderKind | 'external' | 'free';

export interface MemorySegment {
  /** Unique within the bar: the holder's id, or the kind for the external and free parts. */
  key: string;
  kind: SegmentKind;
  label: string;
  mb: number;
  /** Its share of the bar, 0..1. */
  fraction: number;
}

export const KIND_LABEL: Record<VramHolderKind, string> = { model: 'Served model', job: 'Training job' };

/**
 * The stretches of a GPU's memory bar, left to right: served models, then training jobs (each holder on its own,
 * oldest first), then memory used outside the app, then free memory. Empty stretches are left out. The bar spans
 * the GPU's memory, or what is accounted for when that is more (a reading that lags a reservation).
 */
export function memorySegments(vram: VramGpu): MemorySegment[] {
  const holders = [...vram.holders].sort(
    (a, b) => kindOrder(a.kind) - kindOrder(b.kind) || a.since - b.since || a.id.localeCompare(b.id),
  );
  const parts: Omit<MemorySegment, 'fraction'>[] = [
    ...holders.map((h) => ({ key: h.id, kind: h.kind, label: h.label, mb: h.mb })),
    { key: 'external', kind: 'external', label: 'Used outside the app', mb: vram.externalMb },
    { key: 'free', kind: 'free', label: 'Free', mb: vram.freeMb },
  ];
  const accounted = parts.reduce((sum, part) => sum + part.mb, 0);
  const scale = Math.max(vram.totalMb, accounted);
  return parts.filter((part) => part.mb > 0).map((part) => ({ ...part, fraction: scale > 0 ? part.mb / scale : 0 }));
}

function kindOrder(kind: VramHolderKind): number {
  return kind === 'model' ? 0 : 1;
}

/** The memory held by each kind of holder, in MiB. */
export function heldByKind(holders: readonly VramHolder[]): Record<VramHolderKind, number> {
  const held: Record<VramHolderKind, number> = { model: 0, job: 0 };
  for (const holder of holders) held[holder.kind] += holder.mb;
  return held;
}

/**
 * GPU memory in MiB as the driver counts it, GiB from 1,024 MiB ("0 MiB", "512 MiB", "24.0 GiB"): formatMb would
 * call an empty GPU's memory "0 B".
 */
export function formatMib(mb: number): string {
  return mb < 1024 ? `${Math.round(mb)} MiB` : formatMb(mb);
}

/** Watts to one decimal at most ("80.5 W", "450 W"); "—" when unknown. */
export function formatWatts(watts: number | null): string {
  return watts === null ? '—' : `${Number(watts.toFixed(1))} W`;
}

export function formatCelsius(celsius: number | null): string {
  return celsius === null ? '—' : `${Math.round(celsius)} °C`;
}
