import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '#platform/blobstore';
import { openDatabase, runMigrations, type Db } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { ModelhubService } from '#services/modelhub/contract';
import type { VramArbiter, VramGrant, VramRequest } from '#services/trainos/contract';
import type { Gpu } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import { Deployments } from './deployments';
import type { LoadedModel, ServingRuntime } from './runtimes';
import { deployMigrations } from './schema';

// The deployment lifecycle against a real database, with a stand-in runtime that claims GPU memory and a stand-in
// of TrainOS's arbiter speaking its protocol (reserve, park-requested, release): this machine has no GPU, and a
// service's tests reach another service only through its contract, which exports the arbiter's type alone.
const MIB = 1024 * 1024;
const MODEL_FILE = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');

const GPU: Gpu = {
  index: 0,
  uuid: null,
  name: 'Test GPU',
  vendor: 'test',
  memoryTotalMb: 1000,
  memoryUsedMb: 0,
  utilizationPercent: null,
  temperatureC: null,
  powerW: null,
  powerLimitW: null,
};

function fakeRuntime(vramMb: number, loads: { count: number; disposed: number }): ServingRuntime {
  return {
    format: 'gguf',
    prepare: () =>
      Promise.resolve({
        estimate: { ramBytes: 10 * MIB, vramBytes: vramMb * MIB, contextSize: 128, gpuLayers: 2 },
        kind: 'generation',
        accepts: null,
        load: () => {
          loads.count++;
          const model: LoadedModel = {
            kind: 'generation',
            gguf: undefined,
            onnx: undefined,
            load: () => ({ inFlight: 0, queued: 0 }),
            replicas: () => 1,
            dispose: () => {
              loads.disposed++;
              return Promise.resolve();
            },
          };
          return Promise.resolve(model);
        },
      }),
  };
}

/** One GPU of 1000 MB, as TrainOS's arbiter accounts it: grants what fits, asks idle parkable holders to park. */
class FakeArbiter implements Pick<VramArbiter, 'reserve' | 'release' | 'touch'> {
  readonly holders = new Map<string, VramRequest>();
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly events: EventBus) {}

  private free(): number {
    return 1000 - [...this.holders.values()].reduce((n, h) => n + h.mb, 0);
  }

  async reserve(request: VramRequest): Promise<VramGrant> {
    const grant = { id: request.id, gpu: 0, mb: request.mb, parkRequested: [] as string[], waitedMs: 0 };
    if (this.free() >= request.mb) {
      this.holders.set(request.id, request);
      return grant;
    }
    const idle = [...this.holders.values()].filter((h) => h.parkable);
    if (!request.allowParking || this.free() + idle.reduce((n, h) => n + h.mb, 0) < request.mb) {
      throw new AppError('RESOURCE_EXHAUSTED', `'${request.label}' needs ${request.mb} MB of GPU memory`);
    }
    this.events.emit('vram.park-requested', {
      requestId: request.id,
      owner: request.owner,
      label: request.label,
      gpu: 0,
      mb: request.mb,
      shortfallMb: request.mb - this.free(),
      holders: idle.map(({ id, owner, kind, label, mb }) => ({ id, owner, kind, label, mb, lastUsedAt: 0 })),
    });
    const deadline = Date.now() + (request.timeoutMs ?? 2000);
    while (this.free() < request.mb) {
      if (Date.now() > deadline) throw new AppError('RESOURCE_EXHAUSTED', `'${request.label}' timed out waiting`);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    this.holders.set(request.id, request);
    return { ...grant, parkRequested: idle.map((h) => h.id) };
  }

  release(id: string): boolean {
    const had = this.holders.delete(id);
    for (const wake of this.waiting.splice(0)) wake();
    return had;
  }

  touch(id: string): boolean {
    return this.holders.has(id);
  }
}

let tmp: { dir: string; remove: () => void };
let db: Db;
let bus: EventBus;
let vram: FakeArbiter;
let deployments: Deployments;
let loads: { count: number; disposed: number };

function make(options: { freeRamBytes?: () => number; runtimes?: { gguf: ServingRuntime } } = {}): Deployments {
  return new Deployments({
    db,
    bus,
    logger: silentLogger(),
    blobs: { addRef: () => undefined, removeRefsOf: () => 0 } as unknown as BlobStore,
    modelhub: {} as ModelhubService,
    vram,
    gpus: () => Promise.resolve([GPU]),
    runtimes: { gguf: fakeRuntime(600, loads) },
    registry: new Registry(),
    cacheDir: path.join(tmp.dir, 'cache'),
    ...options,
  });
}

beforeEach(() => {
  tmp = tempDir('aidos-deployments-');
  db = openDatabase(path.join(tmp.dir, 'db.sqlite'));
  runMigrations(db, [deployMigrations]);
  bus = new EventBus(silentLogger());
  vram = new FakeArbiter(bus);
  loads = { count: 0, disposed: 0 };
  deployments = make();
});

afterEach(async () => {
  await deployments.close();
  db.close();
  tmp.remove();
});

describe('deployments and the VRAM arbiter', () => {
  it('reserves GPU memory as a parkable model and unloads when a training job asks for it', async () => {
    const d = await deployments.create({ file: MODEL_FILE, name: 'llm', device: 'gpu' });
    expect(d).toMatchObject({ state: 'ready', placement: 'gpu 0', estimate: { vramBytes: 600 * MIB } });
    expect([...vram.holders.values()]).toEqual([
      expect.objectContaining({ id: d.id, owner: 'deploy', kind: 'model', mb: 600, parkable: true }),
    ]);
    // A training job needs 700 of the 1000 MB: the idle model is asked to park, and does.
    const grant = await vram.reserve({
      id: 'job-1',
      owner: 'trainos',
      kind: 'job',
      label: 'job 1',
      mb: 700,
      parkable: false,
      allowParking: true,
    });
    expect(grant.parkRequested).toEqual([d.id]);
    const parked = deployments.get('llm');
    expect(parked).toMatchObject({ state: 'idle-unloaded', placement: null });
    expect(parked.reason).toMatch(/unloaded to free 600 MB of GPU 0 for job 1/);
    expect(loads.disposed).toBe(1);
    // Its next request cannot load while the job holds the memory: refused, and it stays unloaded (not failed).
    const refused = await deployments.acquire('llm').then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(deployments.get('llm').state).toBe('idle-unloaded');
    // Once the job is done, the request cold-starts it.
    vram.release('job-1');
    const lease = await deployments.acquire('llm');
    expect(deployments.get('llm')).toMatchObject({ state: 'ready', placement: 'gpu 0' });
    lease.release();
  });

  it('does not park a model that is serving a request', async () => {
    await deployments.create({ file: MODEL_FILE, name: 'busy', device: 'gpu' });
    const lease = await deployments.acquire('busy');
    const job = vram.reserve({
      id: 'job-2',
      owner: 'trainos',
      kind: 'job',
      label: 'job 2',
      mb: 700,
      parkable: false,
      allowParking: true,
      timeoutMs: 200,
    });
    await expect(job).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(deployments.get('busy').state).toBe('ready');
    lease.release();
  });

  it('refuses a model whose memory does not fit, storing nothing', async () => {
    await deployments.close();
    deployments = make({ freeRamBytes: () => MIB });
    const refused = await deployments.create({ file: MODEL_FILE, name: 'big' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((refused as AppError).message).toMatch(/'big' needs about 10 MiB of RAM .* and 1 MiB is available/);
    expect(deployments.list()).toEqual([]);
    // Too much GPU memory (1200 of 1000 MB, nothing to park): refused too.
    await deployments.close();
    deployments = new Deployments({
      db,
      bus,
      logger: silentLogger(),
      blobs: { addRef: () => undefined, removeRefsOf: () => 0 } as unknown as BlobStore,
      modelhub: {} as ModelhubService,
      vram,
      gpus: () => Promise.resolve([GPU]),
      runtimes: { gguf: fakeRuntime(1200, loads) },
      registry: new Registry(),
      cacheDir: path.join(tmp.dir, 'cache'),
    });
    const tooBig = await deployments.create({ file: MODEL_FILE, name: 'huge', device: 'gpu' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(tooBig).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((tooBig as AppError).message).toMatch(/needs 1200 MB of GPU memory/);
    expect(deployments.list()).toEqual([]);
  });

  it('gives the GPU memory back when stopped, and a stop during loading wins', async () => {
    const d = await deployments.create({ file: MODEL_FILE, name: 'llm', device: 'gpu', minReplicas: 0 });
    expect(d.state).toBe('pending');
    const lease = deployments.acquire('llm').catch((e: unknown) => e);
    const stopped = await deployments.stop('llm');
    expect(stopped.state).toBe('stopped');
    expect(await lease).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(loads.count).toBe(0);
    await waitFor(() => vram.holders.size === 0, 2000, 'the release');
    expect(deployments.get('llm').state).toBe('stopped');
  });
});

describe('updates sent at once', () => {
  it('apply one after another, each keeping the changes of the others', async () => {
    // Reading a new file takes a while: the other two updates start meanwhile.
    const runtime = fakeRuntime(0, loads);
    const slow: ServingRuntime = {
      format: 'gguf',
      prepare: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return runtime.prepare(request);
      },
    };
    await deployments.close();
    deployments = make({ runtimes: { gguf: slow } });
    await deployments.create({ file: MODEL_FILE, name: 'llm', device: 'cpu' });
    await Promise.all([
      deployments.update({ deployment: 'llm', file: MODEL_FILE }),
      deployments.update({ deployment: 'llm', maxQueue: 10 }),
      deployments.update({ deployment: 'llm', idleUnloadSeconds: 100 }),
    ]);
    expect(deployments.get('llm')).toMatchObject({ maxQueue: 10, idleUnloadSeconds: 100 });
  });
});
