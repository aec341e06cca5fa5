import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '#platform/testing';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import type { TrainosService } from './contract';

const aidos = (core: TestCore, args: string[]) => runCli(['--data-dir', core.core.dataDir, ...args]);

const hasNvidiaSmi = spawnSync('nvidia-smi', ['-L']).error === undefined;
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A stand-in nvidia-smi on PATH (for the rest of the file), printing what the real one prints on a two-GPU workstation. */
let fakeNvidiaSmi = false;
function useFakeNvidiaSmi(): void {
  if (fakeNvidiaSmi) return;
  fakeNvidiaSmi = true;
  const bin = tempDir();
  cleanups.push(() => bin.remove());
  const fake = path.join(bin.dir, 'nvidia-smi');
  writeFileSync(
    fake,
    [
      '#!/bin/sh',
      'cat <<EOF',
      '0, GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f, NVIDIA GeForce RTX 4090, 24564, 1873, 37, 52, 61.27, 450.00',
      '1, GPU-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f, NVIDIA RTX A4000, 16376, 0, 0, 34, [N/A], [N/A]',
      'EOF',
      '',
    ].join('\n'),
  );
  chmodSync(fake, 0o755);
  const pathBefore = process.env.PATH;
  process.env.PATH = `${bin.dir}${path.delimiter}${pathBefore ?? ''}`;
  cleanups.push(() => {
    process.env.PATH = pathBefore;
  });
}

// Each CLI command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
describe('trainos: GPU inventory', { timeout: 120_000 }, () => {
  it.skipIf(hasNvidiaSmi)('reports CPU-only mode on a machine without a GPU, over the API and the CLI', async () => {
    const t = await startTestCore();
    cleanups.push(() => t.close());

    expect(await t.client.call('gpus.list')).toEqual({ cpuOnly: true, items: [] });
    const { items: services } = await t.client.call('system.services');
    expect(services).toContainEqual({ name: 'trainos', title: 'Training', rank: 'core' });

    const human = await aidos(t, ['gpus']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.trim()).toBe('no GPU: jobs run on the CPU');
    const json = await aidos(t, ['--json', 'gpus']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ cpuOnly: true, items: [] });
  });

  it('lists what nvidia-smi reports, with the memory the app holds on each GPU', async () => {
    useFakeNvidiaSmi();
    const t = await startTestCore();
    cleanups.push(() => t.close());

    const list = await t.client.call('gpus.list');
    expect(list.cpuOnly).toBe(false);
    expect(list.items.map((g) => [g.index, g.uuid, g.name, g.memoryTotalMb, g.powerW])).toEqual([
      [0, 'GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f', 'NVIDIA GeForce RTX 4090', 24564, 61.27],
      [1, 'GPU-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f', 'NVIDIA RTX A4000', 16376, null],
    ]);
    // Nothing of the app's is loaded: what is used belongs to other processes.
    expect(list.items[0]?.vram).toEqual({
      index: 0,
      totalMb: 24564,
      reservedMb: 0,
      externalMb: 1873,
      freeMb: 22691,
      holders: [],
      waiting: [],
    });
    // The dashboard reads the same inventory.
    const stats = await t.client.call('system.stats');
    expect(stats.gpus.map((g) => g.uuid)).toEqual(list.items.map((g) => g.uuid));

    const human = await aidos(t, ['gpus']);
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^GPU\s+NAME\s+MEMORY\s+APP RESERVED\s+UTIL\s+TEMP\s+POWER$/);
    expect(lines[1]).toMatch(/^0\s+NVIDIA GeForce RTX 4090\s+1873 \/ 24564 MiB\s+0 MiB\s+37%\s+52 °C\s+61 \/ 450 W$/);
    expect(lines[2]).toMatch(/^1\s+NVIDIA RTX A4000\s+0 \/ 16376 MiB\s+0 MiB\s+0%\s+34 °C\s+-$/);

    // A training job asking for a GPU gets a whole one, sees only it, and holds its memory on the board.
    const work = tempDir();
    cleanups.push(() => work.remove());
    const script = 'console.log("cuda=" + process.env.CUDA_VISIBLE_DEVICES); setTimeout(() => {}, 1500)';
    const job = await t.client.call('trainingJobs.submit', {
      name: 'gpu job',
      command: [process.execPath, '-e', script],
      workingDir: work.dir,
      resources: { gpus: 1 },
    });
    const running = await waitFor(async () => {
      const j = await t.client.call('trainingJobs.get', { job: job.id });
      return j.state === 'running' ? j : undefined;
    }, 30_000);
    const gpu = running.placement?.gpus[0] as number;
    expect(running.placement).toEqual({ gpus: [gpu], cudaVisibleDevices: String(gpu) });
    const held = (await t.client.call('gpus.list')).items[gpu]?.vram.holders;
    expect(held?.map((h) => [h.id, h.owner, h.kind, h.label])).toEqual([
      [`${job.id}:${gpu}`, 'trainos', 'job', `job ${job.id} gpu job`],
    ]);
    const done = await waitFor(async () => {
      const j = await t.client.call('trainingJobs.get', { job: job.id });
      return j.state === 'running' ? undefined : j;
    }, 30_000);
    expect(done.state).toBe('succeeded');
    expect((await t.client.call('trainingJobs.logs', { job: job.id })).lines.map((l) => l.text)).toEqual([
      `cuda=${gpu}`,
    ]);
    expect((await t.client.call('gpus.list')).items.flatMap((g) => g.vram.holders)).toEqual([]);
    // More GPUs than the machine has: failed at once, saying so.
    const greedy = await t.client.call('trainingJobs.submit', {
      command: [process.execPath, '-e', 'null'],
      workingDir: work.dir,
      resources: { gpus: 3 },
    });
    const refused = await waitFor(async () => {
      const j = await t.client.call('trainingJobs.get', { job: greedy.id });
      return j.state === 'queued' ? undefined : j;
    }, 30_000);
    expect(refused.state).toBe('failed');
    expect(refused.reason).toMatch(/^cannot run here: .*3 GPUs/);
  });

  it('parks idle served models to free GPU memory for a job, unless the job says not to', async () => {
    useFakeNvidiaSmi();
    const t = await startTestCore();
    cleanups.push(() => t.close());
    const work = tempDir();
    cleanups.push(() => work.remove());
    // Idle served models fill both GPUs, as DeployEngine registers them; it unloads one when asked to park it.
    const { vram } = t.core.service<TrainosService>('trainos');
    for (const [gpu, mb] of [
      [0, 22_000],
      [1, 16_000],
    ] as const) {
      await vram.reserve({
        id: `model-${gpu}`,
        owner: 'deploy',
        kind: 'model',
        label: `llama on ${gpu}`,
        mb,
        gpu,
        parkable: true,
        allowParking: false,
      });
    }
    const asked: string[] = [];
    t.core.bus.on('vram.park-requested', (e) => {
      const { holders } = e.data as { holders: { id: string }[] };
      for (const h of holders) {
        asked.push(h.id);
        vram.release(h.id);
      }
    });
    const submit = (parkIdleModels: boolean) =>
      t.client.call('trainingJobs.submit', {
        command: [process.execPath, '-e', 'console.log(process.env.CUDA_VISIBLE_DEVICES)'],
        workingDir: work.dir,
        resources: { gpus: 1, gpuMemoryMb: 8000 },
        parkIdleModels,
      });
    const state = (id: string) => t.client.call('trainingJobs.get', { job: id });

    // Not allowed to park: it waits, saying why, and the models stay.
    const polite = await submit(false);
    const waiting = await waitFor(
      async () => ((await state(polite.id)).waitingReason ? state(polite.id) : undefined),
      30_000,
    );
    expect(waiting.state).toBe('queued');
    expect(waiting.waitingReason).toMatch(/MB/);
    expect(asked).toEqual([]);

    // Allowed: the least recently used idle model on a GPU is parked, and the job runs there.
    const pushy = await submit(true);
    const done = await waitFor(async () => {
      const j = await state(pushy.id);
      return j.state === 'queued' || j.state === 'running' ? undefined : j;
    }, 30_000);
    expect(done.state).toBe('succeeded');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBe(`model-${done.placement?.gpus[0]}`);
    // With that model gone, the polite job fits too.
    const politeDone = await waitFor(async () => {
      const j = await state(polite.id);
      return j.state === 'queued' || j.state === 'running' ? undefined : j;
    }, 30_000);
    expect(politeDone.state).toBe('succeeded');
    expect(asked).toHaveLength(1);
  });
});
