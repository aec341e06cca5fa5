import { describe, expect, it } from 'vitest';
import type { VramGpu, VramHolder } from '#shared/contracts/trainos';
import { formatCelsius, formatMib, formatWatts, heldByKind, memorySegments } from './board';

const holder = (id: string, kind: VramHolder['kind'], mb: number, since: number): VramHolder => ({
  id,
  owner: kind === 'model' ? 'deploy' : 'trainos',
  kind,
  label: id,
  mb,
  since,
  lastUsedAt: since,
  parkable: kind === 'model',
});

const gpu = (over: Partial<VramGpu>): VramGpu => ({
  index: 0,
  totalMb: 24_000,
  reservedMb: 0,
  externalMb: 0,
  freeMb: 24_000,
  holders: [],
  waiting: [],
  ...over,
});

describe('memorySegments', () => {
  it('puts served models first, then training jobs (oldest first), then outside use and free memory', () => {
    const segments = memorySegments(
      gpu({
        reservedMb: 12_000,
        externalMb: 2_000,
        freeMb: 10_000,
        holders: [
          holder('job-a', 'job', 6_000, 1),
          holder('llm-2', 'model', 4_000, 3),
          holder('llm-1', 'model', 2_000, 2),
        ],
      }),
    );
    expect(segments.map((s) => [s.key, s.kind, s.fraction])).toEqual([
      ['llm-1', 'model', 2_000 / 24_000],
      ['llm-2', 'model', 4_000 / 24_000],
      ['job-a', 'job', 6_000 / 24_000],
      ['external', 'external', 2_000 / 24_000],
      ['free', 'free', 10_000 / 24_000],
    ]);
  });

  it('leaves out empty parts and spans what is accounted for when a reading lags a reservation', () => {
    const segments = memorySegments(
      gpu({ totalMb: 8_000, reservedMb: 10_000, freeMb: 0, holders: [holder('job-a', 'job', 10_000, 1)] }),
    );
    expect(segments).toEqual([{ key: 'job-a', kind: 'job', label: 'job-a', mb: 10_000, fraction: 1 }]);
  });

  it('draws nothing on a GPU whose memory size is unknown', () => {
    expect(memorySegments(gpu({ totalMb: 0, freeMb: 0 }))).toEqual([]);
  });
});

describe('board figures', () => {
  it('sums the memory held by served models and by training jobs', () => {
    expect(heldByKind([holder('a', 'model', 100, 1), holder('b', 'job', 50, 1), holder('c', 'model', 25, 1)])).toEqual({
      model: 125,
      job: 50,
    });
  });

  it('shows GPU memory in MiB, and in GiB from 1,024 MiB', () => {
    expect([formatMib(0), formatMib(512), formatMib(1200), formatMib(24_564)]).toEqual([
      '0 MiB',
      '512 MiB',
      '1.2 GiB',
      '24.0 GiB',
    ]);
  });

  it('shows watts to one decimal at most and a dash when a reading is unknown', () => {
    expect([formatWatts(80.5), formatWatts(450), formatWatts(61.27), formatWatts(null)]).toEqual([
      '80.5 W',
      '450 W',
      '61.3 W',
      '—',
    ]);
    expect([formatCelsius(51), formatCelsius(null)]).toEqual(['51 °C', '—']);
  });
});
