/**
 * TrainOS placement: which waiting training jobs start now and where, and which running jobs to preempt.
 * `plan` is a pure function of a snapshot (the machine, the running jobs, the waiting jobs); the service calls it
 * again whenever the snapshot changes (a job submitted, finished or stopped, a served model loaded or parked).
 *
 * Policy
 * - Queue order: priority descending, then submission time (FIFO within a priority), then id. The same input
 *   always gives the same plan.
 * - Each job, in that order, starts if it fits in what is left. If it does not, it holds a reservation on what it
 *   waits for: as many GPUs as it needs, those closest to being usable by it, and the part of its CPU threads and
 *   RAM that is free. Jobs behind it cannot use reserved resources, so it cannot be starved; they may backfill
 *   onto anything else (the CPU while it waits for a GPU, a GPU it would not fit on or is not waiting for).
 * - GPUs: `gpus: n` without a memory amount takes n whole GPUs that hold no other job (exclusive). `gpus: 1` with
 *   `gpuMemoryMb` shares a GPU with other such jobs while the sum fits, on the GPU with the least free memory that
 *   still fits (best fit, which keeps whole GPUs free for big jobs); no job can join an exclusively held GPU.
 *   With `gpus` ≥ 2, `gpuMemoryMb` is the free memory each whole GPU must have. `'any'` takes one GPU (whole, or a
 *   share with `gpuMemoryMb`) if one is available now, and otherwise runs on the CPU. A GPU's free memory is its
 *   total, less what is used outside the scheduler (served models, from the VRAM arbiter), less jobs' shares.
 * - Preemption: a job that does not fit may preempt running jobs of strictly lower priority that have a checkpoint
 *   (and are not marked non-preemptible), only when that makes it fit now. It takes jobs of the lowest priorities
 *   that suffice, then as few as possible. It starts on a later plan, once they have stopped; until then it holds a
 *   reservation on what it will use. Asking a job that is already stopping to stop again must be harmless, since
 *   the plan asks again while it still appears as running.
 * - Requests the machine can never satisfy (more GPUs, CPU threads or RAM than it has, more GPU memory than its
 *   largest GPU, or malformed) are reported as impossible, not waited for, so the caller can fail them. On a machine
 *   without GPUs, `gpus: 0` and `'any'` jobs run on the CPU; jobs asking for GPUs are impossible.
 */

/** What a job asks for. */
export interface JobResources {
  /** Whole GPUs (0: the CPU only), or 'any': one GPU if one is available now, else the CPU. */
  gpus: number | 'any';
  /** GPU memory needed. With `gpus: 1` or 'any' the job shares a GPU; with more GPUs it is needed free on each. */
  gpuMemoryMb?: number;
  cpuThreads: number;
  ramMb: number;
}

export interface PendingJob {
  id: string;
  /** Higher runs first. */
  priority: number;
  /** Epoch ms; earlier runs first within a priority. */
  submittedAt: number;
  resources: JobResources;
}

/** A GPU given to a job and the memory held for it there (the whole free memory for an exclusive GPU). */
export interface GpuReservation {
  index: number;
  memoryMb: number;
}

export interface RunningJob {
  id: string;
  priority: number;
  resources: JobResources;
  /** The GPUs it was given (empty when it runs on the CPU). */
  gpus: readonly GpuReservation[];
  /** When its last checkpoint was written, null before the first: only checkpointed jobs can be preempted. */
  checkpointedAt: number | null;
  /** False: never preempted. Defaults to true. */
  preemptible?: boolean;
}

export interface MachineGpu {
  /** The index nvidia-smi shows; run jobs with CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers GPUs alike. */
  index: number;
  memoryTotalMb: number;
  /** Memory used outside the scheduler (served models), as the VRAM arbiter reports it. */
  memoryExternalMb: number;
}

export interface Machine {
  gpus: readonly MachineGpu[];
  cpuThreads: number;
  ramMb: number;
}

export interface SchedulerState {
  machine: Machine;
  running: readonly RunningJob[];
  pending: readonly PendingJob[];
}

export interface JobStart {
  jobId: string;
  /** Ascending by index; empty when the job runs on the CPU. */
  gpus: GpuReservation[];
  /** The value of CUDA_VISIBLE_DEVICES for the job's process: '0,2', or '' (no GPU) when it runs on the CPU. */
  cudaVisibleDevices: string;
  cpuOnly: boolean;
  cpuThreads: number;
  ramMb: number;
}

/** Stop running job `jobId` (it has a checkpoint to resume from) so that waiting job `forJobId` can start. */
export interface Preemption {
  jobId: string;
  forJobId: string;
}

export interface WaitingJob {
  jobId: string;
  /** Why it is not starting, for people: "waiting for 2 free GPUs (1 free)". */
  reason: string;
  /** The GPUs held for it: jobs behind it in the queue cannot start on them. */
  reservedGpus: number[];
}

export interface ImpossibleJob {
  jobId: string;
  reason: string;
}

/** Every pending job is in exactly one of `start`, `waiting` and `impossible`, each list in queue order. */
export interface Plan {
  start: JobStart[];
  preempt: Preemption[];
  waiting: WaitingJob[];
  impossible: ImpossibleJob[];
}

/** A combination search for the fewest jobs to preempt stops after this many checks and prunes greedily instead. */
const MAX_PREEMPTION_CHECKS = 2000;

interface Holder {
  jobId: string;
  memoryMb: number;
  exclusive: boolean;
}

interface GpuSlot {
  index: number;
  /** Total memory less what is used outside the scheduler. */
  capacityMb: number;
  holders: Holder[];
  /** The first job ahead in the queue that reserved this GPU. */
  reservedFor: PendingJob | null;
}

/** CPU threads or RAM: `free` is the total less running and started jobs (negative if the input over-commits). */
interface Pool {
  free: number;
  claims: { job: PendingJob; amount: number }[];
}

/** What is held and reserved while the plan walks the queue. */
interface Ledger {
  gpus: GpuSlot[];
  threads: Pool;
  ramMb: Pool;
}

export function plan(state: SchedulerState): Plan {
  const ledger = buildLedger(state.machine, state.running);
  const result: Plan = { start: [], preempt: [], waiting: [], impossible: [] };
  const beingPreempted = new Set<string>();
  for (const job of [...state.pending].sort(queueOrder)) {
    const impossible = impossibleReason(job.resources, state.machine);
    if (impossible !== null) {
      result.impossible.push({ jobId: job.id, reason: impossible });
      continue;
    }
    const gpus = findPlacement(ledger, job.resources);
    if (gpus !== null) {
      occupy(ledger, job.id, job.resources, gpus);
      result.start.push(toStart(job, gpus));
      continue;
    }
    const preemption = choosePreemption(ledger, job, state.running, beingPreempted);
    if (preemption !== null) {
      for (const victim of preemption.victims) {
        beingPreempted.add(victim.id);
        result.preempt.push({ jobId: victim.id, forJobId: job.id });
      }
      const reservedGpus = preemption.gpus.map((g) => g.index);
      reserve(ledger, job, reservedGpus);
      const ids = preemption.victims.map((v) => v.id).join(', ');
      const reason = `waiting for preempted ${preemption.victims.length === 1 ? 'job' : 'jobs'} ${ids} to stop`;
      result.waiting.push({ jobId: job.id, reason, reservedGpus });
      continue;
    }
    const reason = waitingReason(ledger, job);
    const reservedGpus = gpusToReserve(ledger, job.resources);
    reserve(ledger, job, reservedGpus);
    result.waiting.push({ jobId: job.id, reason, reservedGpus });
  }
  return result;
}

function queueOrder(a: PendingJob, b: PendingJob): number {
  return b.priority - a.priority || a.submittedAt - b.submittedAt || compareIds(a.id, b.id);
}

/** By code unit, not locale, so that the order is the same everywhere. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The memory a job needs on the one GPU it shares, or null when it takes whole GPUs (or none). */
function sharedNeedMb(resources: JobResources): number | null {
  const { gpus, gpuMemoryMb } = resources;
  return gpuMemoryMb !== undefined && (gpus === 1 || gpus === 'any') ? gpuMemoryMb : null;
}

function invalidRequest(resources: JobResources): string | null {
  const { gpus, gpuMemoryMb, cpuThreads, ramMb } = resources;
  if (gpus !== 'any' && !(Number.isInteger(gpus) && gpus >= 0)) return "gpus must be a whole number ≥ 0 or 'any'";
  if (gpuMemoryMb !== undefined && !(Number.isFinite(gpuMemoryMb) && gpuMemoryMb > 0)) {
    return 'gpuMemoryMb must be a positive number';
  }
  if (gpuMemoryMb !== undefined && gpus === 0) return "gpuMemoryMb needs gpus ≥ 1 or 'any'";
  if (!(Number.isInteger(cpuThreads) && cpuThreads >= 1)) return 'cpuThreads must be a whole number ≥ 1';
  if (!(Number.isFinite(ramMb) && ramMb >= 0)) return 'ramMb must be a number ≥ 0';
  return null;
}

function impossibleReason(resources: JobResources, machine: Machine): string | null {
  const invalid = invalidRequest(resources);
  if (invalid !== null) return `invalid request: ${invalid}`;
  const { gpus, gpuMemoryMb, cpuThreads, ramMb } = resources;
  if (gpus !== 'any' && gpus > 0) {
    const have = machine.gpus.length;
    if (have < gpus) return `asks for ${plural(gpus, 'GPU')}; the machine has ${have === 0 ? 'none' : have}`;
    const bigEnough = machine.gpus.filter((g) => g.memoryTotalMb >= (gpuMemoryMb ?? 0));
    if (bigEnough.length < gpus) {
      const largest = Math.max(...machine.gpus.map((g) => g.memoryTotalMb));
      return gpus === 1
        ? `needs ${gpuMemoryMb} MB of GPU memory; the largest GPU has ${largest} MB`
        : `needs ${gpus} GPUs with ${gpuMemoryMb} MB each; the machine has ${bigEnough.length}`;
    }
  }
  if (cpuThreads > machine.cpuThreads) {
    return `asks for ${cpuThreads} CPU threads; the machine has ${machine.cpuThreads}`;
  }
  if (ramMb > machine.ramMb) return `asks for ${ramMb} MB of RAM; the machine has ${machine.ramMb} MB`;
  return null;
}

function buildLedger(machine: Machine, running: readonly RunningJob[]): Ledger {
  const gpus = [...machine.gpus]
    .sort((a, b) => a.index - b.index)
    .map((g) => ({
      index: g.index,
      capacityMb: Math.max(0, g.memoryTotalMb - g.memoryExternalMb),
      holders: [] as Holder[],
      reservedFor: null,
    }));
  const ledger: Ledger = {
    gpus,
    threads: { free: machine.cpuThreads, claims: [] },
    ramMb: { free: machine.ramMb, claims: [] },
  };
  for (const job of running) occupy(ledger, job.id, job.resources, job.gpus);
  return ledger;
}

function cloneLedger(ledger: Ledger): Ledger {
  return {
    gpus: ledger.gpus.map((slot) => ({ ...slot, holders: [...slot.holders] })),
    threads: { ...ledger.threads, claims: [...ledger.threads.claims] },
    ramMb: { ...ledger.ramMb, claims: [...ledger.ramMb.claims] },
  };
}

function occupy(ledger: Ledger, jobId: string, resources: JobResources, gpus: readonly GpuReservation[]): void {
  const exclusive = sharedNeedMb(resources) === null;
  for (const gpu of gpus) {
    // A GPU the machine no longer reports (unplugged) has nothing left to hold.
    ledger.gpus.find((slot) => slot.index === gpu.index)?.holders.push({ jobId, memoryMb: gpu.memoryMb, exclusive });
  }
  ledger.threads.free -= resources.cpuThreads;
  ledger.ramMb.free -= resources.ramMb;
}

function release(ledger: Ledger, job: RunningJob): void {
  for (const slot of ledger.gpus) slot.holders = slot.holders.filter((h) => h.jobId !== job.id);
  ledger.threads.free += job.resources.cpuThreads;
  ledger.ramMb.free += job.resources.ramMb;
}

function available(pool: Pool): number {
  return pool.free - pool.claims.reduce((sum, claim) => sum + claim.amount, 0);
}

function heldMb(slot: GpuSlot): number {
  return slot.holders.reduce((sum, h) => sum + h.memoryMb, 0);
}

function freeMb(slot: GpuSlot): number {
  return slot.holders.some((h) => h.exclusive) ? 0 : Math.max(0, slot.capacityMb - heldMb(slot));
}

/**
 * The GPUs a job would get now: [] for the CPU, null when its GPU request cannot be met. With
 * `respectReservations` false it ignores what is held for jobs ahead (to tell a reservation from a shortage).
 */
function findGpus(ledger: Ledger, resources: JobResources, respectReservations: boolean): GpuReservation[] | null {
  const { gpus, gpuMemoryMb } = resources;
  if (gpus === 0) return [];
  const open = ledger.gpus.filter((slot) => !respectReservations || slot.reservedFor === null);
  const shared = sharedNeedMb(resources);
  if (shared !== null) {
    const bestFit = open
      .filter((slot) => freeMb(slot) >= shared)
      .sort((a, b) => freeMb(a) - freeMb(b) || a.index - b.index)[0];
    if (bestFit) return [{ index: bestFit.index, memoryMb: shared }];
    return gpus === 'any' ? [] : null;
  }
  const count = gpus === 'any' ? 1 : gpus;
  const idle = open
    .filter((slot) => slot.holders.length === 0 && slot.capacityMb >= (gpuMemoryMb ?? 0))
    .sort((a, b) => b.capacityMb - a.capacityMb || a.index - b.index);
  if (idle.length >= count) {
    return idle
      .slice(0, count)
      .map((slot) => ({ index: slot.index, memoryMb: slot.capacityMb }))
      .sort((a, b) => a.index - b.index);
  }
  return gpus === 'any' ? [] : null;
}

/** The GPUs a job can start on now, or null when anything it needs is not available. */
function findPlacement(ledger: Ledger, resources: JobResources): GpuReservation[] | null {
  if (available(ledger.threads) < resources.cpuThreads || available(ledger.ramMb) < resources.ramMb) return null;
  return findGpus(ledger, resources, true);
}

function toStart(job: PendingJob, gpus: GpuReservation[]): JobStart {
  return {
    jobId: job.id,
    gpus,
    cudaVisibleDevices: gpus.map((g) => g.index).join(','),
    cpuOnly: gpus.length === 0,
    cpuThreads: job.resources.cpuThreads,
    ramMb: job.resources.ramMb,
  };
}

/** The GPUs a blocked job waits for: those closest to usable by it, as many as it needs, none reserved already. */
function gpusToReserve(ledger: Ledger, resources: JobResources): number[] {
  const { gpus, gpuMemoryMb } = resources;
  // 'any' never waits for a GPU: it runs on the CPU instead.
  if (gpus === 0 || gpus === 'any') return [];
  const open = ledger.gpus.filter((slot) => slot.reservedFor === null);
  const shared = sharedNeedMb(resources);
  if (shared !== null) {
    const closest = open
      .filter((slot) => slot.capacityMb >= shared)
      .sort((a, b) => freeMb(b) - freeMb(a) || a.index - b.index)[0];
    return closest ? [closest.index] : [];
  }
  return open
    .filter((slot) => slot.capacityMb >= (gpuMemoryMb ?? 0))
    .sort((a, b) => heldMb(a) - heldMb(b) || b.capacityMb - a.capacityMb || a.index - b.index)
    .slice(0, gpus)
    .map((slot) => slot.index)
    .sort((a, b) => a - b);
}

/** Holds GPUs, and whatever part of its CPU threads and RAM is free, for a job that waits. */
function reserve(ledger: Ledger, job: PendingJob, gpuIndices: readonly number[]): void {
  for (const slot of ledger.gpus) {
    if (gpuIndices.includes(slot.index)) slot.reservedFor = job;
  }
  for (const [pool, need] of [
    [ledger.threads, job.resources.cpuThreads],
    [ledger.ramMb, job.resources.ramMb],
  ] as const) {
    const amount = Math.min(need, Math.max(0, available(pool)));
    if (amount > 0) pool.claims.push({ job, amount });
  }
}

function ahead(job: PendingJob, blocker: PendingJob): string {
  return blocker.priority > job.priority
    ? `a higher-priority job (${blocker.id})`
    : `an earlier job of the same priority (${blocker.id})`;
}

function waitingReason(ledger: Ledger, job: PendingJob): string {
  const { resources } = job;
  const { gpus } = resources;
  // 'any' never waits for a GPU: it runs on the CPU instead.
  if (gpus !== 'any' && findGpus(ledger, resources, true) === null) {
    const ignoringReservations = findGpus(ledger, resources, false);
    const blocker = ignoringReservations
      ?.map((gpu) => ledger.gpus.find((slot) => slot.index === gpu.index)?.reservedFor)
      .find((reservedFor) => reservedFor);
    if (blocker) return `${ahead(job, blocker)} is waiting for the same GPUs`;
    const shared = sharedNeedMb(resources);
    if (shared !== null) {
      const mostFree = Math.max(0, ...ledger.gpus.map(freeMb));
      return `needs ${shared} MB of GPU memory, at most ${mostFree} free on one GPU`;
    }
    const minimumMb = resources.gpuMemoryMb ?? 0;
    const idle = ledger.gpus.filter((slot) => slot.holders.length === 0 && slot.capacityMb >= minimumMb).length;
    const each = resources.gpuMemoryMb === undefined ? '' : ` with ${resources.gpuMemoryMb} MB each`;
    return `waiting for ${plural(gpus, 'free GPU')}${each} (${idle} free)`;
  }
  for (const [pool, need, what] of [
    [ledger.threads, resources.cpuThreads, 'CPU threads'],
    [ledger.ramMb, resources.ramMb, 'RAM'],
  ] as const) {
    if (available(pool) >= need) continue;
    const blocker = pool.claims[0]?.job;
    if (pool.free >= need && blocker) return `${ahead(job, blocker)} is waiting for the same ${what}`;
    const free = Math.max(0, available(pool));
    return what === 'RAM'
      ? `waiting for ${need} MB of RAM (${free} MB free)`
      : `waiting for ${need} CPU threads (${free} free)`;
  }
  throw new Error(`job ${job.id} fits: it has no reason to wait`);
}

/** Lowest priority first; among equals the latest checkpoint first, as stopping it loses the least work. */
function victimOrder(a: RunningJob, b: RunningJob): number {
  return a.priority - b.priority || (b.checkpointedAt ?? 0) - (a.checkpointedAt ?? 0) || compareIds(a.id, b.id);
}

/**
 * The running jobs to stop so that `job` fits, and the GPUs it will then get; null when preemption cannot help.
 * Only jobs of the lowest priorities that suffice are taken; among them as few as possible (lowest priority sum,
 * then `victimOrder`), by a bounded combination search that falls back to greedy pruning.
 */
function choosePreemption(
  ledger: Ledger,
  job: PendingJob,
  running: readonly RunningJob[],
  beingPreempted: ReadonlySet<string>,
): { victims: RunningJob[]; gpus: GpuReservation[] } | null {
  const candidates = running
    .filter(
      (r) =>
        r.priority < job.priority && r.preemptible !== false && r.checkpointedAt !== null && !beingPreempted.has(r.id),
    )
    .sort(victimOrder);
  const placementWithout = (victims: readonly RunningJob[]): GpuReservation[] | null => {
    const after = cloneLedger(ledger);
    for (const victim of victims) release(after, victim);
    return findPlacement(after, job.resources);
  };
  if (candidates.length === 0 || placementWithout(candidates) === null) return null;
  for (const level of [...new Set(candidates.map((c) => c.priority))]) {
    const pool = candidates.filter((c) => c.priority <= level);
    if (placementWithout(pool) === null) continue;
    const victims = fewestVictims(pool, (subset) => placementWithout(subset) !== null);
    const gpus = placementWithout(victims);
    if (gpus !== null) return { victims, gpus };
  }
  return null;
}

/** The smallest subset of `pool` (which suffices) that still suffices; see `choosePreemption`. */
function fewestVictims(pool: RunningJob[], suffices: (subset: readonly RunningJob[]) => boolean): RunningJob[] {
  const prioritySum = (jobs: readonly RunningJob[]) => jobs.reduce((sum, j) => sum + j.priority, 0);
  let checks = 0;
  for (let size = 1; size < pool.length; size++) {
    let best: RunningJob[] | null = null;
    for (const subset of combinations(pool, size)) {
      if (++checks > MAX_PREEMPTION_CHECKS) return pruneGreedily(pool, suffices);
      if (suffices(subset) && (best === null || prioritySum(subset) < prioritySum(best))) best = subset;
    }
    if (best !== null) return best;
  }
  return pool;
}

/** Drops jobs from the end of `pool` (highest priority first) while the rest still suffices. */
function pruneGreedily(pool: RunningJob[], suffices: (subset: readonly RunningJob[]) => boolean): RunningJob[] {
  let kept = pool;
  for (let i = pool.length - 1; i >= 0; i--) {
    const without = kept.filter((j) => j !== pool[i]);
    if (suffices(without)) kept = without;
  }
  return kept;
}

/** Subsets of `size` items, in lexicographic order of their positions. */
function* combinations<T>(items: readonly T[], size: number): Generator<T[]> {
  const positions = Array.from({ length: size }, (_, i) => i);
  for (;;) {
    yield positions.map((p) => items[p] as T);
    let i = size - 1;
    while (i >= 0 && positions[i] === items.length - size + i) i--;
    if (i < 0) return;
    positions[i] = (positions[i] as number) + 1;
    for (let j = i + 1; j < size; j++) positions[j] = (positions[j - 1] as number) + 1;
  }
}
