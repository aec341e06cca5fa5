import type { EventBus } from '#platform/events';
import type { Gpu } from '#shared/contracts/system';
import type { VramGpu, VramHolder, VramHolderKind, VramOwner, VramWaiting } from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';

const MIB = 1024 * 1024;
const DEFAULT_WAIT_TIMEOUT_MS = 120_000;

/** What asks for GPU memory. `id` is the holder's own id (deployment, job) and names it in `release`/`touch`. */
export interface VramRequest {
  id: string;
  owner: VramOwner;
  kind: VramHolderKind;
  label: string;
  /** MiB, as nvidia-smi counts them. */
  mb: number;
  /** This GPU only; else the one with the most free memory that fits. */
  gpu?: number;
  /** May be asked to give the memory back later (an idle served model). */
  parkable: boolean;
  /** When nothing fits, ask idle parkable holders to make room and wait for them. */
  allowParking: boolean;
  /** How long to wait for parked holders; default the arbiter's. */
  timeoutMs?: number;
}

export interface VramGrant {
  id: string;
  gpu: number;
  mb: number;
  /** The holders that were asked to park for it (empty when it fit at once). */
  parkRequested: string[];
  waitedMs: number;
}

export interface VramArbiterOptions {
  /** The GPU inventory; the platform's `SystemInfo.gpus` (cached, so repeated reads are cheap). */
  readGpus: () => Promise<readonly Gpu[]>;
  events: Pick<EventBus, 'emit'>;
  /** Default wait for parked holders before a reservation fails (2 minutes). */
  waitTimeoutMs?: number;
  now?: () => number;
}

interface Holding extends VramHolder {
  gpu: number;
}

interface Waiter {
  request: VramRequest;
  gpu: number;
  since: number;
  waitingFor: string[];
  resolve: (grant: VramGrant) => void;
  reject: (error: AppError) => void;
  timer: NodeJS.Timeout;
}

interface GpuAccount {
  index: number;
  totalMb: number;
  reservedMb: number;
  externalMb: number;
  freeMb: number;
}

/**
 * The one VRAM arbiter of the app (issue 5): DeployEngine registers loaded models with it and TrainOS reserves
 * memory for jobs, so inference and training never both count on the same memory. It keeps reservations in
 * memory only: after a restart nothing is loaded and nothing runs, so there is nothing to remember.
 *
 * Accounting per GPU: free = total − reserved by the app − used by other processes. Other processes' usage is
 * the GPU's used memory beyond what the app had reserved when that reading was taken, so a release frees its
 * memory at once rather than when the next reading shows it.
 *
 * A reservation that does not fit may ask parkable holders to make room (`vram.park-requested`, least recently
 * used first, all on one GPU) and waits for their release; waiting reservations are served in order on their
 * GPU and never overtaken there by later ones.
 */
export class VramArbiter {
  private readonly holders = new Map<string, Holding>();
  private readonly waiters: Waiter[] = [];
  private gpus: readonly Gpu[] = [];
  /** The app's reservations per GPU when `gpus` was read: what its `memoryUsedMb` already includes. */
  private reservedAtReading = new Map<number, number>();
  private readonly waitTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: VramArbiterOptions) {
    this.waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Reserves memory: resolves at once when it fits; else, with `allowParking`, once the parked holders are
   * released. Fails with RESOURCE_EXHAUSTED naming the shortfall when it cannot fit or the wait times out.
   */
  async reserve(request: VramRequest): Promise<VramGrant> {
    validate(request);
    await this.readInventory();
    if (this.holders.has(request.id) || this.waiters.some((w) => w.request.id === request.id)) {
      throw new AppError('CONFLICT', `'${request.id}' already holds or awaits GPU memory; release it first`, {
        id: request.id,
      });
    }
    const accounts = this.accounts();
    if (accounts.length === 0) {
      throw AppError.insufficientMemory(
        `no GPU: '${request.label}' needs ${request.mb} MB of GPU memory and this machine runs on the CPU only`,
        { neededMb: request.mb, shortfallMb: request.mb },
      );
    }
    const candidates = request.gpu === undefined ? accounts : accounts.filter((a) => a.index === request.gpu);
    if (candidates.length === 0) {
      throw AppError.invalid(
        'gpu',
        `GPU ${request.gpu} does not exist (GPUs here: ${accounts.map((a) => a.index).join(', ')})`,
      );
    }

    const fitting = candidates
      .map((a) => ({ index: a.index, available: this.availableNow(a) }))
      .filter((c) => c.available >= request.mb)
      .sort((x, y) => y.available - x.available || x.index - y.index)[0];
    if (fitting) return this.grant(request, fitting.index, [], this.now());

    const plan = request.allowParking ? this.planParking(request, candidates) : undefined;
    if (!plan) throw this.shortfallError(request, candidates);
    return this.wait(request, plan.gpu, plan.park);
  }

  /** Gives a holder's memory back, or withdraws a waiting reservation. Unknown ids are ignored (false). */
  release(id: string): boolean {
    const holder = this.holders.get(id);
    if (holder) {
      this.holders.delete(id);
      const { gpu, owner, kind, label, mb } = holder;
      this.options.events.emit('vram.released', {
        id,
        owner,
        kind,
        label,
        gpu,
        mb,
        heldMs: Math.max(0, this.now() - holder.since),
      });
      this.serveWaiters();
      return true;
    }
    const waiter = this.waiters.find((w) => w.request.id === id);
    if (!waiter) return false;
    this.dropWaiter(waiter);
    waiter.reject(new AppError('FAILED_PRECONDITION', `reservation '${id}' was withdrawn before memory was free`));
    this.serveWaiters();
    return true;
  }

  /** Marks a holder as used now, so it is among the last to be asked to park. Unknown ids are ignored. */
  touch(id: string): boolean {
    const holder = this.holders.get(id);
    if (holder) holder.lastUsedAt = this.now();
    return holder !== undefined;
  }

  /** Each GPU of a fresh reading: its memory, who holds what, and who waits. */
  async snapshot(): Promise<VramGpu[]> {
    await this.readInventory();
    return this.accounts().map((a) => ({
      ...a,
      holders: [...this.holders.values()]
        .filter((h) => h.gpu === a.index)
        .sort((x, y) => x.since - y.since)
        .map(holderView),
      waiting: this.waiters
        .filter((w) => w.gpu === a.index)
        .map((w): VramWaiting => ({
          id: w.request.id,
          owner: w.request.owner,
          label: w.request.label,
          mb: w.request.mb,
          since: w.since,
          waitingFor: w.waitingFor.filter((id) => this.holders.has(id)),
        })),
    }));
  }

  /** Fails every waiting reservation (at shutdown). */
  close(): void {
    for (const waiter of [...this.waiters]) {
      this.dropWaiter(waiter);
      waiter.reject(new AppError('FAILED_PRECONDITION', 'the VRAM arbiter is shutting down'));
    }
  }

  private async readInventory(): Promise<void> {
    const gpus = await this.options.readGpus();
    // A cached reading comes back as the same array: it was taken against the reservations recorded then.
    if (gpus === this.gpus) return;
    this.gpus = gpus;
    this.reservedAtReading = new Map(gpus.map((g) => [g.index, this.reservedOn(g.index)]));
    // Other processes may have freed memory since the last reading.
    this.serveWaiters();
  }

  private reservedOn(gpu: number): number {
    let mb = 0;
    for (const h of this.holders.values()) if (h.gpu === gpu) mb += h.mb;
    return mb;
  }

  private accounts(): GpuAccount[] {
    return this.gpus.map((g) => {
      // An unknown size counts as 0: nothing is placed on memory the app cannot measure.
      const totalMb = g.memoryTotalMb ?? 0;
      const reservedMb = this.reservedOn(g.index);
      const externalMb =
        g.memoryUsedMb === null ? 0 : Math.max(0, g.memoryUsedMb - (this.reservedAtReading.get(g.index) ?? 0));
      return {
        index: g.index,
        totalMb,
        reservedMb,
        externalMb,
        freeMb: Math.max(0, totalMb - reservedMb - externalMb),
      };
    });
  }

  /** Memory on this GPU that a new reservation may take now without taking what waiting ones were promised. */
  private availableNow(account: GpuAccount): number {
    return Math.min(account.freeMb, this.availableAfterParking(account));
  }

  /** Free memory plus what already-requested parking will return, less what waiting reservations need. */
  private availableAfterParking(account: GpuAccount): number {
    let mb = account.freeMb;
    for (const w of this.waiters) {
      if (w.gpu !== account.index) continue;
      mb -= w.request.mb;
      for (const id of w.waitingFor) mb += this.holders.get(id)?.mb ?? 0;
    }
    return mb;
  }

  /** The GPU where parking the fewest MB (least recently used holders first) makes room, or none. */
  private planParking(request: VramRequest, candidates: GpuAccount[]): { gpu: number; park: Holding[] } | undefined {
    const alreadyAsked = new Set(this.waiters.flatMap((w) => w.waitingFor));
    let best: { gpu: number; park: Holding[]; parkedMb: number; available: number } | undefined;
    for (const account of candidates) {
      let available = this.availableAfterParking(account);
      const idle = [...this.holders.values()]
        .filter((h) => h.gpu === account.index && h.parkable && !alreadyAsked.has(h.id))
        .sort((x, y) => x.lastUsedAt - y.lastUsedAt || x.since - y.since);
      const park: Holding[] = [];
      for (const holder of idle) {
        if (available >= request.mb) break;
        park.push(holder);
        available += holder.mb;
      }
      if (available < request.mb) continue;
      const parkedMb = park.reduce((n, h) => n + h.mb, 0);
      if (!best || parkedMb < best.parkedMb || (parkedMb === best.parkedMb && available > best.available)) {
        best = { gpu: account.index, park, parkedMb, available };
      }
    }
    return best && { gpu: best.gpu, park: best.park };
  }

  /** Names the shortfall against the GPU that comes closest (counting idle holders when parking is allowed). */
  private shortfallError(request: VramRequest, candidates: GpuAccount[]): AppError {
    const alreadyAsked = new Set(this.waiters.flatMap((w) => w.waitingFor));
    const reachable = (a: GpuAccount): number => {
      if (!request.allowParking) return Math.max(0, this.availableNow(a));
      let mb = this.availableAfterParking(a);
      for (const h of this.holders.values()) {
        if (h.gpu === a.index && h.parkable && !alreadyAsked.has(h.id)) mb += h.mb;
      }
      return Math.max(0, mb);
    };
    const best = candidates
      .map((a) => ({ index: a.index, available: reachable(a) }))
      .sort((x, y) => y.available - x.available || x.index - y.index)[0] as { index: number; available: number };
    const shortfallMb = request.mb - best.available;
    const what = request.allowParking ? 'free or held by idle models' : 'free';
    const where =
      request.gpu === undefined
        ? `the most ${what} is ${best.available} MB on GPU ${best.index}`
        : `GPU ${best.index} has ${best.available} MB ${what}`;
    return AppError.insufficientMemory(
      `'${request.label}' needs ${request.mb} MB of GPU memory; ${where}: short by ${shortfallMb} MB`,
      { neededMb: request.mb, gpu: best.index, availableMb: best.available, shortfallMb },
    );
  }

  private grant(request: VramRequest, gpu: number, parkRequested: string[], since: number): VramGrant {
    const at = this.now();
    const { id, owner, kind, label, mb, parkable } = request;
    this.holders.set(id, { id, owner, kind, label, mb, parkable, gpu, since: at, lastUsedAt: at });
    const waitedMs = Math.max(0, at - since);
    this.options.events.emit('vram.reserved', { id, owner, kind, label, gpu, mb, waitedMs });
    return { id, gpu, mb, parkRequested, waitedMs };
  }

  private wait(request: VramRequest, gpu: number, park: Holding[]): Promise<VramGrant> {
    const account = this.accounts().find((a) => a.index === gpu) as GpuAccount;
    const since = this.now();
    const timeoutMs = request.timeoutMs ?? this.waitTimeoutMs;
    const promise = new Promise<VramGrant>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        gpu,
        since,
        waitingFor: park.map((h) => h.id),
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dropWaiter(waiter);
          const free = this.accounts().find((a) => a.index === gpu)?.freeMb ?? 0;
          const still = waiter.waitingFor.filter((id) => this.holders.has(id));
          const shortfallMb = Math.max(0, request.mb - free);
          reject(
            AppError.insufficientMemory(
              `'${request.label}' needs ${request.mb} MB on GPU ${gpu}: timed out after ${timeoutMs} ms` +
                (still.length > 0 ? ` waiting for ${still.join(', ')} to park` : '') +
                (shortfallMb > 0 ? `; short by ${shortfallMb} MB` : ' behind earlier reservations'),
              { neededMb: request.mb, gpu, freeMb: free, shortfallMb, waitingFor: still },
            ),
          );
          this.serveWaiters();
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.push(waiter);
    });
    if (park.length > 0) {
      this.options.events.emit('vram.park-requested', {
        requestId: request.id,
        owner: request.owner,
        label: request.label,
        gpu,
        mb: request.mb,
        shortfallMb: request.mb - account.freeMb,
        holders: park.map(({ id, owner, kind, label, mb, lastUsedAt }) => ({ id, owner, kind, label, mb, lastUsedAt })),
      });
    }
    return promise;
  }

  private dropWaiter(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
  }

  /** Grants waiting reservations in order; one that still does not fit holds back later ones on its GPU. */
  private serveWaiters(): void {
    const blocked = new Set<number>();
    for (const waiter of [...this.waiters]) {
      if (blocked.has(waiter.gpu)) continue;
      const account = this.accounts().find((a) => a.index === waiter.gpu);
      if (!account || account.freeMb < waiter.request.mb) {
        blocked.add(waiter.gpu);
        continue;
      }
      this.dropWaiter(waiter);
      waiter.resolve(this.grant(waiter.request, waiter.gpu, waiter.waitingFor, waiter.since));
    }
  }
}

function holderView(holding: Holding): VramHolder {
  const { id, owner, kind, label, mb, since, lastUsedAt, parkable } = holding;
  return { id, owner, kind, label, mb, since, lastUsedAt, parkable };
}

function validate(request: VramRequest): void {
  if (!request.id.trim()) throw AppError.invalid('id', 'must not be empty');
  if (!Number.isFinite(request.mb) || request.mb <= 0) throw AppError.invalid('mb', 'must be a positive number of MB');
  if (request.gpu !== undefined && (!Number.isInteger(request.gpu) || request.gpu < 0)) {
    throw AppError.invalid('gpu', 'must be a GPU index (0, 1, …)');
  }
  if (request.timeoutMs !== undefined && !(request.timeoutMs >= 0)) {
    throw AppError.invalid('timeoutMs', 'must be a non-negative number of milliseconds');
  }
}

/** What a runtime needs beyond weights and KV cache: the CUDA context and compute buffers (300–600 MiB seen). */
export const MODEL_RUNTIME_OVERHEAD_MB = 512;

export interface ModelShape {
  /** Size of the weights as loaded (the GGUF/ONNX file for quantised weights). */
  weightsBytes: number;
  contextTokens: number;
  layers: number;
  /** Key/value heads (fewer than attention heads with grouped-query attention). */
  kvHeads: number;
  headDim: number;
  /** Of one cached key or value: 2 for fp16, 1 for q8. */
  bytesPerValue: number;
}

/**
 * GPU memory a served model needs, in MiB: weights + KV cache (a key and a value per layer, token and KV head:
 * 2 × layers × contextTokens × kvHeads × headDim × bytesPerValue) + `MODEL_RUNTIME_OVERHEAD_MB`, rounded up.
 */
export function estimateModelMb(shape: ModelShape): number {
  const fields = ['weightsBytes', 'contextTokens', 'layers', 'kvHeads', 'headDim', 'bytesPerValue'] as const;
  for (const field of fields) {
    const value = shape[field];
    if (!Number.isFinite(value) || value < 0) throw AppError.invalid(field, 'must be a non-negative number');
  }
  const kvCacheBytes = 2 * shape.layers * shape.contextTokens * shape.kvHeads * shape.headDim * shape.bytesPerValue;
  return Math.ceil((shape.weightsBytes + kvCacheBytes) / MIB) + MODEL_RUNTIME_OVERHEAD_MB;
}
