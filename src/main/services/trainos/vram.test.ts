import { afterEach, describe, expect, it } from 'vitest';
import type { EventName } from '#shared/contracts/index';
import type { EventEnvelope, Gpu } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import { estimateModelMb, MODEL_RUNTIME_OVERHEAD_MB, VramArbiter, type VramRequest } from './vram';

function gpu(index: number, totalMb: number | null, usedMb: number | null = 0): Gpu {
  return {
    index,
    uuid: `GPU-${index}`,
    name: `Test GPU ${index}`,
    vendor: 'NVIDIA',
    memoryTotalMb: totalMb,
    memoryUsedMb: usedMb,
    utilizationPercent: 0,
    temperatureC: 40,
    powerW: 20,
    powerLimitW: 300,
  };
}

interface Harness {
  arbiter: VramArbiter;
  events: { name: EventName; data: unknown }[];
  /** Replaces the inventory, as a fresh nvidia-smi reading would. */
  setGpus(gpus: Gpu[]): void;
  /** Moves the arbiter's clock (for least-recently-used order). */
  advance(ms: number): void;
}

const arbiters: VramArbiter[] = [];
afterEach(() => arbiters.splice(0).forEach((a) => a.close()));

function harness(gpus: Gpu[], waitTimeoutMs = 5_000): Harness {
  let inventory = gpus;
  let clock = 1_000_000;
  const events: Harness['events'] = [];
  const arbiter = new VramArbiter({
    readGpus: () => Promise.resolve(inventory),
    events: {
      emit: (name: EventName, data: unknown): EventEnvelope => {
        events.push({ name, data });
        return { id: String(events.length), name, at: clock, data };
      },
    },
    waitTimeoutMs,
    now: () => clock,
  });
  arbiters.push(arbiter);
  return {
    arbiter,
    events,
    setGpus: (next) => (inventory = next),
    advance: (ms) => (clock += ms),
  };
}

function model(id: string, mb: number, extra: Partial<VramRequest> = {}): VramRequest {
  return { id, owner: 'deploy', kind: 'model', label: id, mb, parkable: true, allowParking: false, ...extra };
}

function job(id: string, mb: number, extra: Partial<VramRequest> = {}): VramRequest {
  return { id, owner: 'trainos', kind: 'job', label: id, mb, parkable: false, allowParking: true, ...extra };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Lets pending promise callbacks run, so a test can see that a reservation has not resolved yet. */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('VRAM arbiter', () => {
  it('grants memory that fits, announces it, and shows it in the snapshot', async () => {
    const h = harness([gpu(0, 24_000)]);
    const grant = await h.arbiter.reserve(model('llama', 6_000));
    expect(grant).toEqual({ id: 'llama', gpu: 0, mb: 6_000, parkRequested: [], waitedMs: 0 });
    expect(h.events).toEqual([
      {
        name: 'vram.reserved',
        data: { id: 'llama', owner: 'deploy', kind: 'model', label: 'llama', gpu: 0, mb: 6_000, waitedMs: 0 },
      },
    ]);
    const [gpu0] = await h.arbiter.snapshot();
    expect(gpu0).toMatchObject({ index: 0, totalMb: 24_000, reservedMb: 6_000, externalMb: 0, freeMb: 18_000 });
    expect(gpu0?.holders.map((x) => [x.id, x.owner, x.kind, x.mb, x.parkable])).toEqual([
      ['llama', 'deploy', 'model', 6_000, true],
    ]);
  });

  it('puts a reservation on the GPU with the most free memory, or on the one asked for', async () => {
    const h = harness([gpu(0, 24_000), gpu(1, 16_000)]);
    await h.arbiter.reserve(model('big', 12_000));
    expect((await h.arbiter.reserve(model('next', 4_000))).gpu).toBe(1); // 16,000 free beats 12,000
    expect((await h.arbiter.reserve(model('pinned', 2_000, { gpu: 1 }))).gpu).toBe(1);
    const snapshot = await h.arbiter.snapshot();
    expect(snapshot.map((g) => g.freeMb)).toEqual([12_000, 10_000]);
  });

  it('refuses what cannot fit, naming the shortfall in MB', async () => {
    const h = harness([gpu(0, 24_000), gpu(1, 16_000)]);
    const tooBig = await refusal(h.arbiter.reserve(model('huge', 30_000)));
    expect(tooBig.code).toBe('RESOURCE_EXHAUSTED');
    // A 503 saying it is memory, not a 429: clients would take that for a rate limit.
    expect([tooBig.httpStatus, (tooBig.details as { code?: string }).code]).toEqual([503, 'insufficient_memory']);
    expect(tooBig.message).toBe(
      "'huge' needs 30000 MB of GPU memory; the most free is 24000 MB on GPU 0: short by 6000 MB",
    );
    expect(tooBig.details).toMatchObject({ shortfallMb: 6_000, gpu: 0 });

    await h.arbiter.reserve(model('a', 10_000, { gpu: 1 }));
    const pinned = await refusal(h.arbiter.reserve(model('b', 7_000, { gpu: 1 })));
    expect(pinned.message).toMatch(/GPU 1 has 6000 MB free: short by 1000 MB$/);
    expect(h.events.map((e) => e.name)).toEqual(['vram.reserved']);
  });

  it('refuses on a machine without GPUs, and names a GPU that does not exist', async () => {
    const cpuOnly = await refusal(harness([]).arbiter.reserve(job('train', 1_000)));
    expect(cpuOnly.code).toBe('RESOURCE_EXHAUSTED');
    expect(cpuOnly.message).toMatch(/^no GPU: 'train' needs 1000 MB .* CPU only$/);

    const h = harness([gpu(0, 8_000), gpu(1, 8_000)]);
    const missing = await refusal(h.arbiter.reserve(model('x', 1_000, { gpu: 3 })));
    expect(missing.code).toBe('INVALID_ARGUMENT');
    expect(missing.message).toBe('gpu: GPU 3 does not exist (GPUs here: 0, 1)');
    const badSize = await refusal(h.arbiter.reserve(model('x', -5)));
    expect(badSize.details).toEqual({ field: 'mb' });
  });

  it('refuses a second reservation under an id that already holds memory', async () => {
    const h = harness([gpu(0, 8_000)]);
    await h.arbiter.reserve(model('m', 1_000));
    expect((await refusal(h.arbiter.reserve(model('m', 1_000)))).code).toBe('CONFLICT');
  });

  it('counts memory used by other processes as taken, without counting its own reservations twice', async () => {
    const h = harness([gpu(0, 24_000, 20_000)]); // someone else's process holds 20 GB
    const refused = await refusal(h.arbiter.reserve(model('m', 8_000)));
    expect(refused.message).toMatch(/short by 4000 MB$/);
    await h.arbiter.reserve(model('small', 3_000));
    // The next reading includes the app's own 3,000 MB once the model has loaded.
    h.setGpus([gpu(0, 24_000, 23_000)]);
    expect(await h.arbiter.snapshot()).toMatchObject([
      { totalMb: 24_000, reservedMb: 3_000, externalMb: 20_000, freeMb: 1_000 },
    ]);
    // A reading below what the app reserved (models still loading) never makes external usage negative.
    h.setGpus([gpu(0, 24_000, 1_000)]);
    expect(await h.arbiter.snapshot()).toMatchObject([{ externalMb: 0, freeMb: 21_000 }]);
  });

  it('places nothing on a GPU whose memory size is unknown', async () => {
    const h = harness([gpu(0, null, null)]);
    expect((await refusal(h.arbiter.reserve(model('m', 100)))).message).toMatch(/short by 100 MB$/);
  });

  it('asks the least recently used parkable models to park, only as many as make room', async () => {
    const h = harness([gpu(0, 24_000)]);
    await h.arbiter.reserve(model('a', 8_000));
    h.advance(1_000);
    await h.arbiter.reserve(model('b', 6_000));
    h.advance(1_000);
    await h.arbiter.reserve(model('c', 6_000));
    await h.arbiter.reserve(model('pinned', 2_000, { parkable: false }));
    h.advance(1_000);
    h.arbiter.touch('a'); // used just now: a goes from oldest to newest
    h.events.length = 0;

    // 2,000 MB free; the job needs 12,000, so 10,000 must go: b then c (a was used most recently).
    const pending = h.arbiter.reserve(job('train', 12_000));
    await settle();
    expect(h.events).toEqual([
      {
        name: 'vram.park-requested',
        data: {
          requestId: 'train',
          owner: 'trainos',
          label: 'train',
          gpu: 0,
          mb: 12_000,
          shortfallMb: 10_000,
          holders: [
            { id: 'b', owner: 'deploy', kind: 'model', label: 'b', mb: 6_000, lastUsedAt: 1_001_000 },
            { id: 'c', owner: 'deploy', kind: 'model', label: 'c', mb: 6_000, lastUsedAt: 1_002_000 },
          ],
        },
      },
    ]);
    const [waiting] = await h.arbiter.snapshot();
    expect(waiting?.waiting).toMatchObject([{ id: 'train', mb: 12_000, waitingFor: ['b', 'c'] }]);
    h.arbiter.release('b');
    h.arbiter.release('c');
    expect((await pending).parkRequested).toEqual(['b', 'c']);
  });

  it('keeps a waiting reservation pending until the parked models are released, then grants it', async () => {
    const h = harness([gpu(0, 16_000)]);
    await h.arbiter.reserve(model('a', 6_000));
    await h.arbiter.reserve(model('b', 6_000));
    let granted = false;
    // 4,000 MB free; 12,000 needed: both models must go.
    const pending = h.arbiter.reserve(job('train', 12_000)).then((g) => {
      granted = true;
      return g;
    });
    await settle();
    h.advance(2_500);
    h.arbiter.release('a');
    await settle();
    expect(granted).toBe(false); // 10,000 free is not yet enough
    h.arbiter.release('b');
    const grant = await pending;
    expect(grant).toEqual({ id: 'train', gpu: 0, mb: 12_000, parkRequested: ['a', 'b'], waitedMs: 2_500 });
    expect(h.events.map((e) => e.name)).toEqual([
      'vram.reserved',
      'vram.reserved',
      'vram.park-requested',
      'vram.released',
      'vram.released',
      'vram.reserved',
    ]);
    expect(await h.arbiter.snapshot()).toMatchObject([{ reservedMb: 12_000, freeMb: 4_000, waiting: [] }]);
  });

  it('does not give a later reservation the memory promised to a waiting one', async () => {
    const h = harness([gpu(0, 16_000)]);
    await h.arbiter.reserve(model('a', 10_000));
    const first = h.arbiter.reserve(job('first', 14_000)); // 6,000 free + a's 10,000
    await settle();
    // 2,000 MB is spare even after the first is served; 3,000 is not.
    expect((await h.arbiter.reserve(model('fits', 2_000, { parkable: false }))).gpu).toBe(0);
    const refused = await refusal(h.arbiter.reserve(model('late', 1_000, { parkable: false })));
    expect(refused.message).toMatch(/short by 1000 MB$/);
    h.arbiter.release('a');
    expect((await first).gpu).toBe(0);
  });

  it('fails a waiting reservation whose parked models are not released in time', async () => {
    const h = harness([gpu(0, 16_000)]);
    await h.arbiter.reserve(model('busy', 12_000));
    const error = await refusal(h.arbiter.reserve(job('train', 8_000, { timeoutMs: 30 })));
    expect(error.code).toBe('RESOURCE_EXHAUSTED');
    expect(error.message).toBe(
      "'train' needs 8000 MB on GPU 0: timed out after 30 ms waiting for busy to park; short by 4000 MB",
    );
    expect(await h.arbiter.snapshot()).toMatchObject([{ reservedMb: 12_000, waiting: [] }]);
  });

  it('refuses to wait when even parking every idle model would not make room', async () => {
    const h = harness([gpu(0, 16_000)]);
    await h.arbiter.reserve(model('idle', 4_000));
    await h.arbiter.reserve(job('running', 10_000));
    const error = await refusal(h.arbiter.reserve(job('train', 8_000)));
    expect(error.message).toBe(
      "'train' needs 8000 MB of GPU memory; the most free or held by idle models is 6000 MB on GPU 0: short by 2000 MB",
    );
    expect(h.events.some((e) => e.name === 'vram.park-requested')).toBe(false);
  });

  it('treats releasing or touching an unknown id as a no-op', async () => {
    const h = harness([gpu(0, 8_000)]);
    await h.arbiter.reserve(model('m', 1_000));
    h.events.length = 0;
    expect(h.arbiter.release('nope')).toBe(false);
    expect(h.arbiter.touch('nope')).toBe(false);
    expect(h.events).toEqual([]);
    expect(await h.arbiter.snapshot()).toMatchObject([{ reservedMb: 1_000 }]);
  });

  it('announces a release with how long the memory was held, and frees it', async () => {
    const h = harness([gpu(0, 8_000)]);
    await h.arbiter.reserve(job('j', 3_000));
    h.advance(60_000);
    expect(h.arbiter.release('j')).toBe(true);
    expect(h.events.at(-1)).toEqual({
      name: 'vram.released',
      data: { id: 'j', owner: 'trainos', kind: 'job', label: 'j', gpu: 0, mb: 3_000, heldMs: 60_000 },
    });
    expect(await h.arbiter.snapshot()).toMatchObject([{ reservedMb: 0, freeMb: 8_000, holders: [] }]);
  });

  it('withdraws a waiting reservation when its id is released', async () => {
    const h = harness([gpu(0, 8_000)]);
    await h.arbiter.reserve(model('m', 6_000));
    const pending = refusal(h.arbiter.reserve(job('j', 4_000)));
    await settle();
    expect(h.arbiter.release('j')).toBe(true);
    expect((await pending).message).toMatch(/withdrawn/);
    expect(await h.arbiter.snapshot()).toMatchObject([{ waiting: [], reservedMb: 6_000 }]);
  });
});

describe('estimateModelMb', () => {
  it('adds weights, the KV cache and the runtime overhead', () => {
    // Llama 3 8B at Q4_K_M with an 8k context in fp16: 32 layers, 8 KV heads of 128.
    const weightsBytes = 4_920_705_024; // 4,692.75 MiB
    const kvCacheBytes = 2 * 32 * 8_192 * 8 * 128 * 2; // exactly 1 GiB
    expect(kvCacheBytes).toBe(1024 ** 3);
    expect(
      estimateModelMb({ weightsBytes, contextTokens: 8_192, layers: 32, kvHeads: 8, headDim: 128, bytesPerValue: 2 }),
    ).toBe(4_693 + 1_024 + MODEL_RUNTIME_OVERHEAD_MB);
    // A q8 cache halves the KV part.
    expect(
      estimateModelMb({ weightsBytes, contextTokens: 8_192, layers: 32, kvHeads: 8, headDim: 128, bytesPerValue: 1 }),
    ).toBe(Math.ceil(4_692.75 + 512) + MODEL_RUNTIME_OVERHEAD_MB);
  });

  it('names a field that is not a number', () => {
    expect(() =>
      estimateModelMb({
        weightsBytes: 1,
        contextTokens: Number.NaN,
        layers: 1,
        kvHeads: 1,
        headDim: 1,
        bytesPerValue: 2,
      }),
    ).toThrow('contextTokens: must be a non-negative number');
  });
});
