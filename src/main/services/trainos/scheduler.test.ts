import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  plan,
  type GpuReservation,
  type JobResources,
  type Machine,
  type MachineGpu,
  type PendingJob,
  type Plan,
  type RunningJob,
  type SchedulerState,
} from './scheduler';

const gpu = (index: number, memoryTotalMb = 24_000, memoryExternalMb = 0): MachineGpu => ({
  index,
  memoryTotalMb,
  memoryExternalMb,
});

const machine = (gpus: MachineGpu[], cpuThreads = 16, ramMb = 64_000): Machine => ({ gpus, cpuThreads, ramMb });

const resources = (asked: Partial<JobResources>): JobResources => ({ gpus: 0, cpuThreads: 1, ramMb: 1000, ...asked });

const pendingJob = (
  id: string,
  asked: Partial<JobResources>,
  { priority = 0, submittedAt = 0 }: { priority?: number; submittedAt?: number } = {},
): PendingJob => ({ id, priority, submittedAt, resources: resources(asked) });

const runningJob = (
  id: string,
  asked: Partial<JobResources>,
  gpus: GpuReservation[],
  {
    priority = 0,
    checkpointedAt = null,
    preemptible,
  }: { priority?: number; checkpointedAt?: number | null; preemptible?: boolean } = {},
): RunningJob => ({
  id,
  priority,
  resources: resources(asked),
  gpus,
  checkpointedAt,
  ...(preemptible === undefined ? {} : { preemptible }),
});

const onGpu = (index: number, memoryMb = 24_000): GpuReservation[] => [{ index, memoryMb }];

const planFor = (m: Machine, pending: PendingJob[], running: RunningJob[] = []): Plan =>
  plan({ machine: m, running, pending });

const startedIds = (p: Plan): string[] => p.start.map((s) => s.jobId);
const waitingIds = (p: Plan): string[] => p.waiting.map((w) => w.jobId);
const reasonOf = (p: Plan, id: string): string | undefined =>
  [...p.waiting, ...p.impossible].find((w) => w.jobId === id)?.reason;
const gpusOf = (p: Plan, id: string): number[] | undefined =>
  p.start.find((s) => s.jobId === id)?.gpus.map((g) => g.index);

describe('queue order', () => {
  it('starts jobs of one priority in submission order (FIFO)', () => {
    const p = planFor(machine([gpu(0)]), [
      pendingJob('second', { gpus: 1 }, { submittedAt: 2 }),
      pendingJob('first', { gpus: 1 }, { submittedAt: 1 }),
      pendingJob('third', { gpus: 1 }, { submittedAt: 3 }),
    ]);
    expect(startedIds(p)).toEqual(['first']);
    expect(waitingIds(p)).toEqual(['second', 'third']);
  });

  it('starts a higher-priority job before an earlier lower-priority one', () => {
    const p = planFor(machine([gpu(0)]), [
      pendingJob('early-low', { gpus: 1 }, { priority: 0, submittedAt: 1 }),
      pendingJob('late-high', { gpus: 1 }, { priority: 5, submittedAt: 9 }),
    ]);
    expect(startedIds(p)).toEqual(['late-high']);
    expect(waitingIds(p)).toEqual(['early-low']);
  });

  it('gives the same plan whatever the order of its input, breaking ties by id', () => {
    const pending = [
      pendingJob('b', { gpus: 1, gpuMemoryMb: 10_000 }),
      pendingJob('a', { gpus: 1, gpuMemoryMb: 10_000 }),
      pendingJob('c', { gpus: 'any', cpuThreads: 4 }),
      pendingJob('d', { gpus: 2 }, { priority: 1 }),
    ];
    const running = [runningJob('r1', { gpus: 1 }, onGpu(1)), runningJob('r2', { cpuThreads: 2 }, [])];
    const m = machine([gpu(0), gpu(1), gpu(2), gpu(3)]);
    const p = planFor(m, pending, running);
    expect(planFor(m, [...pending].reverse(), [...running].reverse())).toEqual(p);
    expect(p.start.map((s) => [s.jobId, s.cudaVisibleDevices])).toEqual([
      ['d', '0,2'],
      ['a', '3'],
      ['b', '3'],
      ['c', ''],
    ]);
  });
});

describe('reservations and backfill', () => {
  it('keeps a GPU that a waiting higher-priority job needs away from lower-priority jobs', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('big', { gpus: 2 }, { priority: 5 }), pendingJob('small', { gpus: 1 }, { priority: 1 })],
      [runningJob('busy', { gpus: 1 }, onGpu(0))],
    );
    expect(p.start).toEqual([]);
    expect(p.waiting).toEqual([
      { jobId: 'big', reason: 'waiting for 2 free GPUs (1 free)', reservedGpus: [0, 1] },
      { jobId: 'small', reason: 'a higher-priority job (big) is waiting for the same GPUs', reservedGpus: [] },
    ]);
  });

  it('holds the reservation for an earlier job of the same priority too', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('big', { gpus: 2 }, { submittedAt: 1 }), pendingJob('small', { gpus: 1 }, { submittedAt: 2 })],
      [runningJob('busy', { gpus: 1 }, onGpu(0))],
    );
    expect(reasonOf(p, 'small')).toBe('an earlier job of the same priority (big) is waiting for the same GPUs');
  });

  it('lets lower-priority CPU-only jobs and "any" jobs run on the CPU while a GPU job waits', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [
        pendingJob('big', { gpus: 2, cpuThreads: 4 }, { priority: 5 }),
        pendingJob('cpu', { gpus: 0, cpuThreads: 4 }),
        pendingJob('flexible', { gpus: 'any', cpuThreads: 4 }),
      ],
      [runningJob('busy', { gpus: 1 }, onGpu(0))],
    );
    expect(startedIds(p)).toEqual(['cpu', 'flexible']);
    expect(p.start[1]).toMatchObject({ jobId: 'flexible', cpuOnly: true, gpus: [] });
  });

  it('lets a lower-priority job use a GPU the waiting job would not fit on', () => {
    const p = planFor(
      machine([gpu(0, 24_000), gpu(1, 8000)]),
      [
        pendingJob('large', { gpus: 1, gpuMemoryMb: 20_000 }, { priority: 5 }),
        pendingJob('small', { gpus: 1, gpuMemoryMb: 6000 }),
      ],
      [runningJob('busy', { gpus: 1, gpuMemoryMb: 16_000 }, onGpu(0, 16_000))],
    );
    expect(p.waiting).toEqual([
      { jobId: 'large', reason: 'needs 20000 MB of GPU memory, at most 8000 free on one GPU', reservedGpus: [0] },
    ]);
    expect(gpusOf(p, 'small')).toEqual([1]);
  });

  it('reserves the GPU closest to free for a waiting whole-GPU job and lets small jobs pack onto the others', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [
        pendingJob('whole', { gpus: 1 }, { priority: 5 }),
        pendingJob('fits-elsewhere', { gpus: 1, gpuMemoryMb: 8000 }, { submittedAt: 1 }),
        pendingJob('only-fits-reserved', { gpus: 1, gpuMemoryMb: 8000 }, { submittedAt: 2 }),
      ],
      [
        runningJob('light', { gpus: 1, gpuMemoryMb: 4000 }, onGpu(0, 4000)),
        runningJob('heavy', { gpus: 1, gpuMemoryMb: 12_000 }, onGpu(1, 12_000)),
      ],
    );
    expect(p.waiting[0]).toEqual({ jobId: 'whole', reason: 'waiting for 1 free GPU (0 free)', reservedGpus: [0] });
    expect(gpusOf(p, 'fits-elsewhere')).toEqual([1]);
    expect(reasonOf(p, 'only-fits-reserved')).toBe('a higher-priority job (whole) is waiting for the same GPUs');
  });

  it('holds free CPU threads and RAM for a waiting job', () => {
    const m = machine([], 8, 32_000);
    const threads = planFor(
      m,
      [pendingJob('big', { cpuThreads: 8 }, { priority: 5 }), pendingJob('small', { cpuThreads: 2 })],
      [runningJob('busy', { cpuThreads: 4 }, [])],
    );
    expect(reasonOf(threads, 'big')).toBe('waiting for 8 CPU threads (4 free)');
    expect(reasonOf(threads, 'small')).toBe('a higher-priority job (big) is waiting for the same CPU threads');

    const ram = planFor(
      m,
      [pendingJob('big', { ramMb: 32_000 }, { priority: 5 }), pendingJob('small', { ramMb: 8000 })],
      [runningJob('busy', { ramMb: 16_000 }, [])],
    );
    expect(reasonOf(ram, 'big')).toBe('waiting for 32000 MB of RAM (16000 MB free)');
    expect(reasonOf(ram, 'small')).toBe('a higher-priority job (big) is waiting for the same RAM');
  });

  it('lets a lower-priority job use the CPU threads a waiting job does not need', () => {
    const p = planFor(
      machine([gpu(0)], 8),
      [pendingJob('gpu-job', { gpus: 1, cpuThreads: 2 }, { priority: 5 }), pendingJob('cpu-job', { cpuThreads: 5 })],
      [runningJob('busy', { gpus: 1, cpuThreads: 1 }, onGpu(0))],
    );
    expect(waitingIds(p)).toEqual(['gpu-job']);
    expect(startedIds(p)).toEqual(['cpu-job']);
  });
});

describe('GPU sharing', () => {
  it('packs small jobs onto one GPU while their memory fits', () => {
    const p = planFor(machine([gpu(0)]), [
      pendingJob('a', { gpus: 1, gpuMemoryMb: 8000 }),
      pendingJob('b', { gpus: 1, gpuMemoryMb: 8000 }),
      pendingJob('c', { gpus: 1, gpuMemoryMb: 8000 }),
      pendingJob('d', { gpus: 1, gpuMemoryMb: 8000 }),
    ]);
    expect(p.start.map((s) => [s.jobId, s.gpus])).toEqual([
      ['a', [{ index: 0, memoryMb: 8000 }]],
      ['b', [{ index: 0, memoryMb: 8000 }]],
      ['c', [{ index: 0, memoryMb: 8000 }]],
    ]);
    expect(reasonOf(p, 'd')).toBe('needs 8000 MB of GPU memory, at most 0 free on one GPU');
  });

  it('puts a small job on the GPU with the least free memory that still fits (best fit)', () => {
    const p = planFor(
      machine([gpu(0), gpu(1), gpu(2)]),
      [pendingJob('a', { gpus: 1, gpuMemoryMb: 6000 }), pendingJob('b', { gpus: 1, gpuMemoryMb: 6000 })],
      [
        runningJob('half', { gpus: 1, gpuMemoryMb: 12_000 }, onGpu(1, 12_000)),
        runningJob('most', { gpus: 1, gpuMemoryMb: 20_000 }, onGpu(2, 20_000)),
      ],
    );
    // GPU 2 has 4000 MB free, too little; GPU 1 has 12000 then 6000; GPU 0 stays whole.
    expect(gpusOf(p, 'a')).toEqual([1]);
    expect(gpusOf(p, 'b')).toEqual([1]);
  });

  it('counts the memory used outside the scheduler, such as served models', () => {
    const p = planFor(machine([gpu(0, 24_000), gpu(1, 24_000, 20_000)]), [
      pendingJob('fits-beside-model', { gpus: 1, gpuMemoryMb: 4000 }),
      pendingJob('too-big-beside-model', { gpus: 1, gpuMemoryMb: 6000 }),
    ]);
    expect(gpusOf(p, 'fits-beside-model')).toEqual([1]);
    expect(gpusOf(p, 'too-big-beside-model')).toEqual([0]);
  });

  it('never puts a whole-GPU job on a shared GPU or a shared job on a whole GPU', () => {
    const wholeAfterShared = planFor(
      machine([gpu(0)]),
      [pendingJob('whole', { gpus: 1 })],
      [runningJob('shared', { gpus: 1, gpuMemoryMb: 1000 }, onGpu(0, 1000))],
    );
    expect(reasonOf(wholeAfterShared, 'whole')).toBe('waiting for 1 free GPU (0 free)');

    const sharedAfterWhole = planFor(
      machine([gpu(0)]),
      [pendingJob('shared', { gpus: 1, gpuMemoryMb: 1000 })],
      [runningJob('whole', { gpus: 1 }, onGpu(0))],
    );
    expect(reasonOf(sharedAfterWhole, 'shared')).toBe('needs 1000 MB of GPU memory, at most 0 free on one GPU');
  });

  it('gives a whole GPU with all its free memory, preferring the GPUs with the most', () => {
    const p = planFor(machine([gpu(0, 24_000, 4000), gpu(1, 80_000), gpu(2, 24_000)]), [
      pendingJob('two', { gpus: 2 }, { submittedAt: 1 }),
      pendingJob('one', { gpus: 1 }, { submittedAt: 2 }),
    ]);
    expect(p.start[0]?.gpus).toEqual([
      { index: 1, memoryMb: 80_000 },
      { index: 2, memoryMb: 24_000 },
    ]);
    expect(p.start[1]?.gpus).toEqual([{ index: 0, memoryMb: 20_000 }]);
  });

  it('asks each whole GPU of a multi-GPU job for its memory amount', () => {
    const m = machine([gpu(0, 8000), gpu(1), gpu(2)]);
    const p = planFor(m, [pendingJob('pair', { gpus: 2, gpuMemoryMb: 16_000 })]);
    expect(gpusOf(p, 'pair')).toEqual([1, 2]);

    const busy = planFor(
      m,
      [pendingJob('pair', { gpus: 2, gpuMemoryMb: 16_000 })],
      [runningJob('busy', { gpus: 1 }, onGpu(2))],
    );
    expect(reasonOf(busy, 'pair')).toBe('waiting for 2 free GPUs with 16000 MB each (1 free)');
  });
});

describe("'any' GPU", () => {
  it('takes a free GPU when there is one and runs on the CPU otherwise', () => {
    const p = planFor(machine([gpu(0)]), [pendingJob('a', { gpus: 'any' }), pendingJob('b', { gpus: 'any' })]);
    expect(p.start).toEqual([
      {
        jobId: 'a',
        gpus: [{ index: 0, memoryMb: 24_000 }],
        cudaVisibleDevices: '0',
        cpuOnly: false,
        cpuThreads: 1,
        ramMb: 1000,
      },
      { jobId: 'b', gpus: [], cudaVisibleDevices: '', cpuOnly: true, cpuThreads: 1, ramMb: 1000 },
    ]);
  });

  it('shares a GPU when it gives a memory amount, and falls back to the CPU when none fits', () => {
    const p = planFor(machine([gpu(0, 16_000)]), [
      pendingJob('a', { gpus: 'any', gpuMemoryMb: 10_000 }),
      pendingJob('b', { gpus: 'any', gpuMemoryMb: 6000 }),
      pendingJob('c', { gpus: 'any', gpuMemoryMb: 6000 }),
    ]);
    expect(p.start.map((s) => [s.jobId, s.cudaVisibleDevices, s.cpuOnly])).toEqual([
      ['a', '0', false],
      ['b', '0', false],
      ['c', '', true],
    ]);
  });

  it('runs on the CPU rather than take a GPU reserved for a higher-priority job', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('pair', { gpus: 2 }, { priority: 5 }), pendingJob('flexible', { gpus: 'any' })],
      [runningJob('busy', { gpus: 1 }, onGpu(0))],
    );
    expect(p.start).toMatchObject([{ jobId: 'flexible', cpuOnly: true }]);
  });

  it("runs gpus: 0 and 'any' jobs on a machine without GPUs and rejects jobs that ask for GPUs", () => {
    const p = planFor(machine([]), [
      pendingJob('cpu', { gpus: 0 }),
      pendingJob('flexible', { gpus: 'any', gpuMemoryMb: 4000 }),
      pendingJob('gpu', { gpus: 1 }),
    ]);
    expect(p.start.map((s) => [s.jobId, s.cpuOnly])).toEqual([
      ['cpu', true],
      ['flexible', true],
    ]);
    expect(p.impossible).toEqual([{ jobId: 'gpu', reason: 'asks for 1 GPU; the machine has none' }]);
  });
});

describe('impossible requests', () => {
  it('reports requests larger than the machine instead of waiting for them, and schedules the rest', () => {
    const m = machine([gpu(0, 24_000), gpu(1, 48_000)], 16, 64_000);
    const p = planFor(m, [
      pendingJob('gpus', { gpus: 5 }, { priority: 9 }),
      pendingJob('memory', { gpus: 1, gpuMemoryMb: 90_000 }, { priority: 9 }),
      pendingJob('pair-memory', { gpus: 2, gpuMemoryMb: 40_000 }, { priority: 9 }),
      pendingJob('threads', { cpuThreads: 32 }, { priority: 9 }),
      pendingJob('ram', { ramMb: 100_000 }, { priority: 9 }),
      pendingJob('fine', { gpus: 2 }),
    ]);
    expect(p.impossible).toEqual([
      { jobId: 'gpus', reason: 'asks for 5 GPUs; the machine has 2' },
      { jobId: 'memory', reason: 'needs 90000 MB of GPU memory; the largest GPU has 48000 MB' },
      { jobId: 'pair-memory', reason: 'needs 2 GPUs with 40000 MB each; the machine has 1' },
      { jobId: 'ram', reason: 'asks for 100000 MB of RAM; the machine has 64000 MB' },
      { jobId: 'threads', reason: 'asks for 32 CPU threads; the machine has 16' },
    ]);
    expect(startedIds(p)).toEqual(['fine']);
  });

  it('waits, rather than fail, while memory used outside the scheduler is in the way, leaving that GPU to jobs that fit', () => {
    const p = planFor(machine([gpu(0, 24_000, 20_000)]), [
      pendingJob('large', { gpus: 1, gpuMemoryMb: 16_000 }, { priority: 5 }),
      pendingJob('small', { gpus: 1, gpuMemoryMb: 4000 }),
    ]);
    expect(p.waiting).toEqual([
      { jobId: 'large', reason: 'needs 16000 MB of GPU memory, at most 4000 free on one GPU', reservedGpus: [] },
    ]);
    expect(gpusOf(p, 'small')).toEqual([0]);
  });

  it('rejects malformed requests', () => {
    const p = planFor(machine([gpu(0)]), [
      pendingJob('fraction', { gpus: 1.5 }),
      pendingJob('negative', { gpus: -1 }),
      pendingJob('no-threads', { cpuThreads: 0 }),
      pendingJob('memory-without-gpu', { gpus: 0, gpuMemoryMb: 1000 }),
      pendingJob('zero-memory', { gpus: 1, gpuMemoryMb: 0 }),
      pendingJob('nan-ram', { ramMb: Number.NaN }),
    ]);
    expect(Object.fromEntries(p.impossible.map((i) => [i.jobId, i.reason]))).toEqual({
      fraction: "invalid request: gpus must be a whole number ≥ 0 or 'any'",
      negative: "invalid request: gpus must be a whole number ≥ 0 or 'any'",
      'no-threads': 'invalid request: cpuThreads must be a whole number ≥ 1',
      'memory-without-gpu': "invalid request: gpuMemoryMb needs gpus ≥ 1 or 'any'",
      'zero-memory': 'invalid request: gpuMemoryMb must be a positive number',
      'nan-ram': 'invalid request: ramMb must be a number ≥ 0',
    });
  });
});

describe('preemption', () => {
  const oneGpu = machine([gpu(0)]);

  it('preempts a checkpointed lower-priority job when that lets a waiting job start, and starts it next', () => {
    const low = runningJob('low', { gpus: 1 }, onGpu(0), { checkpointedAt: 100 });
    const pending = [pendingJob('high', { gpus: 1 }, { priority: 5 }), pendingJob('other', { gpus: 1 })];
    const p = planFor(oneGpu, pending, [low]);
    expect(p.preempt).toEqual([{ jobId: 'low', forJobId: 'high' }]);
    expect(p.start).toEqual([]);
    expect(p.waiting).toEqual([
      { jobId: 'high', reason: 'waiting for preempted job low to stop', reservedGpus: [0] },
      { jobId: 'other', reason: 'waiting for 1 free GPU (0 free)', reservedGpus: [] },
    ]);
    expect(startedIds(planFor(oneGpu, pending, []))).toEqual(['high']);
  });

  it('never preempts for a job of equal or lower priority', () => {
    for (const priority of [5, 6]) {
      const p = planFor(
        oneGpu,
        [pendingJob('waiting', { gpus: 1 }, { priority: 5 })],
        [runningJob('running', { gpus: 1 }, onGpu(0), { priority, checkpointedAt: 100 })],
      );
      expect(p.preempt).toEqual([]);
    }
  });

  it('never preempts a job without a checkpoint or one marked non-preemptible', () => {
    for (const options of [{ checkpointedAt: null }, { checkpointedAt: 100, preemptible: false }]) {
      const p = planFor(
        oneGpu,
        [pendingJob('high', { gpus: 1 }, { priority: 5 })],
        [runningJob('low', { gpus: 1 }, onGpu(0), options)],
      );
      expect(p.preempt).toEqual([]);
      expect(reasonOf(p, 'high')).toBe('waiting for 1 free GPU (0 free)');
    }
  });

  it('does not preempt when that would not let the job start', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('pair', { gpus: 2 }, { priority: 5 })],
      [
        runningJob('low', { gpus: 1 }, onGpu(0), { checkpointedAt: 100 }),
        runningJob('higher', { gpus: 1 }, onGpu(1), { priority: 9, checkpointedAt: 100 }),
      ],
    );
    expect(p.preempt).toEqual([]);
    expect(reasonOf(p, 'pair')).toBe('waiting for 2 free GPUs (0 free)');
  });

  it('preempts the lowest-priority job that suffices', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('high', { gpus: 1 }, { priority: 5 })],
      [
        runningJob('three', { gpus: 1 }, onGpu(0), { priority: 3, checkpointedAt: 100 }),
        runningJob('one', { gpus: 1 }, onGpu(1), { priority: 1, checkpointedAt: 100 }),
      ],
    );
    expect(p.preempt).toEqual([{ jobId: 'one', forJobId: 'high' }]);
    expect(p.waiting[0]?.reservedGpus).toEqual([1]);
  });

  it('preempts as few jobs as it can among those of the same priority', () => {
    const running = (wholePriority: number) => [
      runningJob('shared-a', { gpus: 1, gpuMemoryMb: 8000 }, onGpu(0, 8000), { checkpointedAt: 100 }),
      runningJob('shared-b', { gpus: 1, gpuMemoryMb: 8000 }, onGpu(0, 8000), { checkpointedAt: 100 }),
      runningJob('whole', { gpus: 1 }, onGpu(1), { priority: wholePriority, checkpointedAt: 100 }),
    ];
    const pending = [pendingJob('high', { gpus: 1 }, { priority: 5 })];
    expect(planFor(machine([gpu(0), gpu(1)]), pending, running(0)).preempt).toEqual([
      { jobId: 'whole', forJobId: 'high' },
    ]);
    // Two jobs of a lower priority are preempted before one of a higher priority.
    expect(planFor(machine([gpu(0), gpu(1)]), pending, running(1)).preempt).toEqual([
      { jobId: 'shared-a', forJobId: 'high' },
      { jobId: 'shared-b', forJobId: 'high' },
    ]);
  });

  it('frees only the memory a shared job needs', () => {
    const p = planFor(
      machine([gpu(0)]),
      [pendingJob('high', { gpus: 1, gpuMemoryMb: 10_000 }, { priority: 5 })],
      [
        runningJob('small', { gpus: 1, gpuMemoryMb: 4000 }, onGpu(0, 4000), { checkpointedAt: 100 }),
        runningJob('large', { gpus: 1, gpuMemoryMb: 12_000 }, onGpu(0, 12_000), { checkpointedAt: 100 }),
        runningJob('medium', { gpus: 1, gpuMemoryMb: 8000 }, onGpu(0, 8000), { checkpointedAt: 100 }),
      ],
    );
    expect(p.preempt).toEqual([{ jobId: 'large', forJobId: 'high' }]);
  });

  it('among equals, preempts the job with the latest checkpoint, which loses the least work', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('high', { gpus: 1 }, { priority: 5 })],
      [
        runningJob('old-checkpoint', { gpus: 1 }, onGpu(0), { checkpointedAt: 100 }),
        runningJob('new-checkpoint', { gpus: 1 }, onGpu(1), { checkpointedAt: 200 }),
      ],
    );
    expect(p.preempt).toEqual([{ jobId: 'new-checkpoint', forJobId: 'high' }]);
  });

  it('preempts each running job for one waiting job at most', () => {
    const p = planFor(
      machine([gpu(0), gpu(1)]),
      [pendingJob('first', { gpus: 1 }, { priority: 5 }), pendingJob('second', { gpus: 1 }, { priority: 4 })],
      [
        runningJob('low-a', { gpus: 1 }, onGpu(0), { checkpointedAt: 100 }),
        runningJob('low-b', { gpus: 1 }, onGpu(1), { checkpointedAt: 200 }),
      ],
    );
    expect(p.preempt).toEqual([
      { jobId: 'low-b', forJobId: 'first' },
      { jobId: 'low-a', forJobId: 'second' },
    ]);
    expect(p.waiting.map((w) => w.reservedGpus)).toEqual([[1], [0]]);
  });

  it('preempts for CPU threads, keeping the lowest priorities when there are too many combinations to try', () => {
    const running = Array.from({ length: 24 }, (_, i) =>
      runningJob(`r${String(i).padStart(2, '0')}`, { cpuThreads: 1 }, [], { priority: i % 3, checkpointedAt: i }),
    );
    const p = planFor(machine([], 24), [pendingJob('high', { cpuThreads: 20 }, { priority: 5 })], running);
    const victims = running.filter((r) => p.preempt.some((x) => x.jobId === r.id));
    expect(victims).toHaveLength(20);
    expect(victims.filter((v) => v.priority < 2)).toHaveLength(16);
    // The priority-2 jobs kept running are those with the oldest checkpoints.
    expect(running.filter((r) => !victims.includes(r)).map((r) => r.id)).toEqual(['r02', 'r05', 'r08', 'r11']);
  });
});

describe('CUDA_VISIBLE_DEVICES', () => {
  it('lists the GPU indices in ascending order, and is empty for CPU-only jobs', () => {
    const p = planFor(
      machine([gpu(3), gpu(0), gpu(2), gpu(1)]),
      [pendingJob('three', { gpus: 3 }, { submittedAt: 1 }), pendingJob('cpu', { gpus: 0 }, { submittedAt: 2 })],
      [runningJob('busy', { gpus: 1 }, onGpu(1))],
    );
    expect(p.start.map((s) => [s.jobId, s.cudaVisibleDevices, s.cpuOnly])).toEqual([
      ['three', '0,2,3', false],
      ['cpu', '', true],
    ]);
  });
});

// A randomized simulation: jobs arrive over time, start, checkpoint, are preempted and finish, over many plans.

interface SimJob {
  id: string;
  priority: number;
  /** The round it arrives in. */
  submittedAt: number;
  resources: JobResources;
  checkpoints: boolean;
  preemptible: boolean;
}

const machineArb: fc.Arbitrary<Machine> = fc
  .record({
    gpus: fc.array(
      fc.record({
        memoryTotalMb: fc.constantFrom(8000, 16_000, 24_000),
        memoryExternalMb: fc.constantFrom(0, 0, 0, 4000),
      }),
      { maxLength: 3 },
    ),
    cpuThreads: fc.integer({ min: 1, max: 16 }),
    ramMb: fc.constantFrom(16_000, 32_000, 64_000),
  })
  .map((m) => ({ ...m, gpus: m.gpus.map((g, index) => ({ index, ...g })) }));

const resourcesArb: fc.Arbitrary<JobResources> = fc
  .record({
    gpus: fc.constantFrom<number | 'any'>(0, 1, 1, 2, 3, 'any'),
    gpuMemoryMb: fc.option(fc.constantFrom(2000, 6000, 12_000, 20_000), { nil: undefined }),
    cpuThreads: fc.integer({ min: 1, max: 8 }),
    ramMb: fc.constantFrom(0, 2000, 8000, 16_000),
  })
  .map(({ gpuMemoryMb, ...r }) => (gpuMemoryMb === undefined || r.gpus === 0 ? r : { ...r, gpuMemoryMb }));

const jobsArb: fc.Arbitrary<SimJob[]> = fc
  .array(
    fc.record({
      priority: fc.integer({ min: 0, max: 3 }),
      submittedAt: fc.integer({ min: 0, max: 8 }),
      resources: resourcesArb,
      checkpoints: fc.constantFrom(true, true, false),
      preemptible: fc.constantFrom(true, true, false),
    }),
    { minLength: 1, maxLength: 15 },
  )
  .map((jobs) => jobs.map((j, i) => ({ ...j, id: `j${i}` })));

const LAST_ARRIVAL = 8;

const asPending = ({ id, priority, submittedAt, resources: r }: SimJob): PendingJob => ({
  id,
  priority,
  submittedAt,
  resources: r,
});

function queueOrder(a: PendingJob, b: PendingJob): number {
  return b.priority - a.priority || a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : 1);
}

function expectNoOverCommit(state: SchedulerState, p: Plan): void {
  const { machine: m } = state;
  const holders = [
    ...state.running.map((r) => ({ resources: r.resources, gpus: r.gpus })),
    ...p.start.map((s) => ({
      resources: (state.pending.find((j) => j.id === s.jobId) as PendingJob).resources,
      gpus: s.gpus,
    })),
  ];
  expect(holders.reduce((sum, h) => sum + h.resources.cpuThreads, 0)).toBeLessThanOrEqual(m.cpuThreads);
  expect(holders.reduce((sum, h) => sum + h.resources.ramMb, 0)).toBeLessThanOrEqual(m.ramMb);
  for (const g of m.gpus) {
    const onThis = holders.filter((h) => h.gpus.some((r) => r.index === g.index));
    const exclusive = onThis.filter(
      ({ resources: r }) => r.gpuMemoryMb === undefined || (r.gpus !== 1 && r.gpus !== 'any'),
    );
    expect(exclusive.length === 0 || onThis.length === 1).toBe(true);
    const reserved = onThis.reduce((sum, h) => sum + (h.gpus.find((r) => r.index === g.index)?.memoryMb ?? 0), 0);
    expect(reserved).toBeLessThanOrEqual(g.memoryTotalMb - g.memoryExternalMb);
  }
}

function expectGpuCountsMatchRequests(state: SchedulerState, p: Plan): void {
  for (const s of p.start) {
    const { gpus, gpuMemoryMb } = (state.pending.find((j) => j.id === s.jobId) as PendingJob).resources;
    if (gpus === 'any') expect(s.gpus.length).toBeLessThanOrEqual(1);
    else expect(s.gpus).toHaveLength(gpus);
    if (gpuMemoryMb !== undefined && s.gpus.length === 1) {
      expect(s.gpus[0]?.memoryMb).toBeGreaterThanOrEqual(gpuMemoryMb);
    }
    expect(s.cpuOnly).toBe(s.gpus.length === 0);
    expect(s.cudaVisibleDevices).toBe(s.gpus.map((g) => g.index).join(','));
  }
}

function expectFairPreemption(state: SchedulerState, p: Plan): void {
  expect(new Set(p.preempt.map((x) => x.jobId)).size).toBe(p.preempt.length);
  for (const { jobId, forJobId } of p.preempt) {
    const victim = state.running.find((r) => r.id === jobId) as RunningJob;
    const beneficiary = state.pending.find((j) => j.id === forJobId) as PendingJob;
    expect(victim.priority).toBeLessThan(beneficiary.priority);
    expect(victim.checkpointedAt).not.toBeNull();
    expect(victim.preemptible).not.toBe(false);
    expect(waitingIds(p)).toContain(forJobId);
  }
}

/** No job starts on a GPU held for a job ahead of it, and jobs ahead are unaffected by those behind them. */
function expectLowerJobsNeverGetInTheWay(state: SchedulerState, p: Plan, cut: number): void {
  const order = [...state.pending].sort(queueOrder).map((j) => j.id);
  for (const w of p.waiting) {
    for (const s of p.start) {
      if (order.indexOf(s.jobId) > order.indexOf(w.jobId)) {
        expect(s.gpus.filter((g) => w.reservedGpus.includes(g.index))).toEqual([]);
      }
    }
  }
  const reservedGpus = p.waiting.flatMap((w) => w.reservedGpus);
  expect(new Set(reservedGpus).size).toBe(reservedGpus.length);

  // Jobs behind the first waiting job leave it the CPU threads and RAM it needs, as far as they are free.
  const firstWaiting = order.findIndex((id) => p.waiting.some((w) => w.jobId === id));
  if (firstWaiting >= 0) {
    const asked = (id: string) => (state.pending.find((j) => j.id === id) as PendingJob).resources;
    for (const [total, amount] of [
      [state.machine.cpuThreads, (r: JobResources) => r.cpuThreads],
      [state.machine.ramMb, (r: JobResources) => r.ramMb],
    ] as const) {
      const startedSum = (ahead: boolean) =>
        p.start
          .filter((s) => order.indexOf(s.jobId) < firstWaiting === ahead)
          .reduce((sum, s) => sum + amount(asked(s.jobId)), 0);
      const free = total - state.running.reduce((sum, r) => sum + amount(r.resources), 0) - startedSum(true);
      const need = amount(asked(order[firstWaiting] as string));
      expect(startedSum(false)).toBeLessThanOrEqual(free - Math.min(need, Math.max(0, free)));
    }
  }

  const ahead = new Set(order.slice(0, cut % (order.length + 1)));
  const prefix = plan({ ...state, pending: state.pending.filter((j) => ahead.has(j.id)) });
  expect(prefix).toEqual({
    start: p.start.filter((s) => ahead.has(s.jobId)),
    preempt: p.preempt.filter((x) => ahead.has(x.forJobId)),
    waiting: p.waiting.filter((w) => ahead.has(w.jobId)),
    impossible: p.impossible.filter((i) => ahead.has(i.jobId)),
  });
}

describe('properties', () => {
  // 300 random machines and queues: a second or two alone, far longer on a loaded machine.
  it(
    'never over-commits, never lets lower-priority jobs get in the way, and runs every possible job',
    { timeout: 60_000 },
    () => {
      let preemptions = 0;
      fc.assert(
        fc.property(machineArb, jobsArb, fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (m, jobs, picks) => {
          const spec = new Map(jobs.map((j) => [j.id, j]));
          const noExternalMemory = m.gpus.every((g) => g.memoryExternalMb === 0);
          let pending: PendingJob[] = [];
          let running: RunningJob[] = [];
          let drained = false;
          for (let round = 0; round < 300; round++) {
            pending.push(...jobs.filter((j) => j.submittedAt === round).map(asPending));
            const pick = picks[round % picks.length] as number;
            const state: SchedulerState = { machine: m, running, pending };
            const p = plan(state);

            const accounted = [...startedIds(p), ...waitingIds(p), ...p.impossible.map((i) => i.jobId)];
            expect(accounted.sort()).toEqual(pending.map((j) => j.id).sort());
            expectNoOverCommit(state, p);
            expectGpuCountsMatchRequests(state, p);
            expectFairPreemption(state, p);
            expectLowerJobsNeverGetInTheWay(state, p, pick);
            expect(plan({ machine: m, running: [...running].reverse(), pending: [...pending].reverse() })).toEqual(p);
            if (running.length === 0 && noExternalMemory) {
              const first = [...pending].sort(queueOrder).find((j) => !p.impossible.some((i) => i.jobId === j.id));
              if (first) expect(startedIds(p)).toContain(first.id);
            }
            if (round >= LAST_ARRIVAL && p.start.length === 0 && running.length === 0) {
              drained = p.waiting.length === 0;
              break;
            }

            preemptions += p.preempt.length;
            const preempted = new Set(p.preempt.map((x) => x.jobId));
            const started = new Set(startedIds(p));
            running = running
              .filter((r) => !preempted.has(r.id))
              .map((r) => (spec.get(r.id)?.checkpoints ? { ...r, checkpointedAt: round } : r));
            running.push(
              ...p.start.map((s) => {
                const { id, priority, resources: r, preemptible } = spec.get(s.jobId) as SimJob;
                return { id, priority, resources: r, gpus: s.gpus, checkpointedAt: null, preemptible };
              }),
            );
            pending = [
              ...pending.filter((j) => !started.has(j.id)),
              ...jobs.filter((j) => preempted.has(j.id)).map(asPending),
            ];
            // Jobs run for a few rounds: every third round, one of them finishes.
            if (round % 3 === 2) running = running.filter((r) => r !== running[pick % running.length]);
          }
          // Served models may hold GPU memory for ever; without them every possible job runs in the end.
          if (noExternalMemory) expect(drained).toBe(true);
        }),
        { numRuns: 300 },
      );
      expect(preemptions).toBeGreaterThan(0);
    },
  );
});
