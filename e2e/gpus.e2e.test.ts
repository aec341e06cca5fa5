import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { GpuStatus } from '#shared/contracts/trainos';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { shot } from './support/shots';

const hasNvidiaSmi = spawnSync('nvidia-smi', ['-L']).error === undefined;

/** What a two-GPU workstation's nvidia-smi prints for the query the server makes; the A4000 reports no utilisation or power draw. */
const NVIDIA_SMI_OUTPUT = [
  '0, GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f, NVIDIA GeForce RTX 4090, 24564, 1200, 35, 51, 80.5, 450.00',
  '1, GPU-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f, NVIDIA RTX A4000, 16376, 0, [N/A], 34, [N/A], 140.00',
];

/** The GPU board (src/renderer/trainos/GpusPage.tsx). */
class GpuBoard {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('gpus-page');
  }

  get cpuOnly(): Locator {
    return this.page.getByTestId('cpu-only');
  }

  gpu(index: number): Locator {
    return this.page.getByTestId(`gpu-${index}`);
  }

  /** The figure under a memory legend entry: 'model', 'job', 'external' or 'free'. */
  legend(index: number, kind: string): Locator {
    return this.gpu(index).locator(`[data-legend="${kind}"] dd`);
  }

  /** The memory bar's stretches, left to right: their kind and width (a percentage). */
  async segments(index: number): Promise<{ kind: string; width: number }[]> {
    return this.gpu(index)
      .locator('[data-testid="gpu-memory-bar"] [data-segment]')
      .evaluateAll((els) =>
        els.map((el) => ({
          kind: el.getAttribute('data-segment') ?? '',
          width: Number.parseFloat((el as HTMLElement).style.width),
        })),
      );
  }

  holder(index: number, id: string): Locator {
    return this.gpu(index).locator(`[data-testid="gpu-holder"][data-holder-id="${id}"]`);
  }
}

/** Shots in both themes: the app follows the OS scheme until the user picks one. */
async function shotsInBothThemes(page: Page, shell: AppShell, name: string): Promise<void> {
  await shot(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => shell.htmlClasses()).toContain('dark');
  await shot(page, `${name}-dark`);
}

describe('GPU board', () => {
  const app = useApp();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  test.skipIf(hasNvidiaSmi)('on a machine without a GPU, says that training jobs run on the CPU', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const board = new GpuBoard(page);

    await shell.openWithToken('/', server.token);
    // The sidebar lists the page under the running trainos service, and the keyboard reaches it.
    const link = shell.sidebar.getByRole('link', { name: /^GPUs/ });
    await link.focus();
    await page.keyboard.press('Enter');
    await board.root.waitFor();
    expect(new URL(page.url()).pathname).toBe('/gpus');

    await board.cpuOnly.getByText('No GPU found — training jobs run on the CPU').waitFor();
    await expect
      .poll(() => board.cpuOnly.getByTestId('cpu-figures').textContent())
      .toMatch(/^\d+ CPU cores · [\d.]+ GiB memory · /);
    expect(await board.gpu(0).count()).toBe(0);
    await shotsInBothThemes(page, shell, 'gpus-cpu-only');
  });

  test('shows each GPU nvidia-smi reports with its memory split, readings and holders, refreshed as they change', async () => {
    const bin = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-nvidia-smi-'));
    cleanups.push(() => rm(bin, { recursive: true, force: true }));
    const fake = path.join(bin, 'nvidia-smi');
    await writeFile(fake, ['#!/bin/sh', 'cat <<EOF', ...NVIDIA_SMI_OUTPUT, 'EOF', ''].join('\n'));
    await chmod(fake, 0o755);
    const { server, page } = await app.start({
      serverEnv: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    const shell = new AppShell(page, server.url);
    const board = new GpuBoard(page);

    await shell.openWithToken('/gpus', server.token);
    await board.root.waitFor();

    // The RTX 4090: 1,200 MiB used by something outside the app, nothing of the app's.
    const first = board.gpu(0);
    await first.waitFor();
    expect(await first.locator('h2').textContent()).toBe('NVIDIA GeForce RTX 4090GPU 0');
    expect(await first.getByTestId('gpu-uuid').textContent()).toBe('GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f');
    expect(await first.getByTestId('gpu-memory-used').textContent()).toBe('1.2 GiB used of 24.0 GiB');
    expect(await board.legend(0, 'model').textContent()).toBe('0 MiB');
    expect(await board.legend(0, 'job').textContent()).toBe('0 MiB');
    expect(await board.legend(0, 'external').textContent()).toBe('1.2 GiB');
    expect(await board.legend(0, 'free').textContent()).toBe('22.8 GiB');
    const firstBar = await board.segments(0);
    expect(firstBar.map((s) => s.kind)).toEqual(['external', 'free']);
    expect(firstBar[0]?.width).toBeCloseTo((100 * 1200) / 24564, 1);
    expect(await first.getByTestId('gpu-utilization').textContent()).toBe('35%');
    expect(await first.getByTestId('gpu-temperature').textContent()).toBe('51 °C');
    expect(await first.getByTestId('gpu-power').textContent()).toBe('80.5 W / 450 W');
    await first.getByTestId('gpu-holders-empty').waitFor();

    // The A4000: idle, and what it does not report is a dash.
    const second = board.gpu(1);
    expect(await second.locator('h2').textContent()).toBe('NVIDIA RTX A4000GPU 1');
    expect(await second.getByTestId('gpu-memory-used').textContent()).toBe('0 MiB used of 16.0 GiB');
    expect(await board.segments(1)).toEqual([{ kind: 'free', width: 100 }]);
    expect(await second.getByTestId('gpu-utilization').textContent()).toBe('—');
    expect(await second.getByTestId('gpu-temperature').textContent()).toBe('34 °C');
    expect(await second.getByTestId('gpu-power').textContent()).toBe('— / 140 W');

    // The API gives a test no way to reserve memory, so the server's answer gains holders on its way to the
    // page: a served model, a training job and a reservation waiting for the model to park. The board shows
    // them at its next poll, without a reload.
    await shell.markDocument();
    await page.route(
      (url) => url.pathname === '/api/v1/gpus',
      async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { cpuOnly: boolean; items: GpuStatus[] };
        await route.fulfill({ response, json: { ...body, items: body.items.map(withHolders) } });
      },
    );
    await board.holder(0, 'deploy-llama').waitFor({ timeout: 5_000 });
    expect(await shell.documentIsMarked()).toBe(true);
    const model = board.holder(0, 'deploy-llama');
    expect(await model.locator('td').allTextContents()).toEqual([
      'llama-3.1-8b-instruct q4_K_M',
      'Served model',
      'deploy',
      '5.5 GiB',
      '25 min ago',
      'Yes · used 20 min ago',
    ]);
    const job = board.holder(0, 'job-resnet');
    expect(await job.locator('td').allTextContents()).toEqual([
      'job 01JB7Q resnet-50 on imagenette',
      'Training job',
      'trainos',
      '8.0 GiB',
      '3 min ago',
      'No',
    ]);
    expect(await first.getByTestId('gpu-memory-used').textContent()).toBe('14.7 GiB used of 24.0 GiB');
    expect(await board.legend(0, 'model').textContent()).toBe('5.5 GiB');
    expect(await board.legend(0, 'job').textContent()).toBe('8.0 GiB');
    expect((await board.segments(0)).map((s) => s.kind)).toEqual(['model', 'job', 'external', 'free']);
    expect(await first.getByTestId('gpu-waiting-request').textContent()).toMatch(
      /^job 01JB7R bert-base fine-tune trainos needs 12\.0 GiB · asked \d+s ago for llama-3\.1-8b-instruct q4_K_M to park$/,
    );
    await shotsInBothThemes(page, shell, 'gpus');
  });
});

const MINUTE = 60_000;

/**
 * GPU 0 as it would be with a served model and a training job on it, and a job waiting for the model to park.
 * Times sit half a minute off the labels the test expects: the page re-reads its clock every few seconds.
 */
function withHolders(gpu: GpuStatus): GpuStatus {
  if (gpu.index !== 0) return gpu;
  const now = Date.now();
  const reservedMb = 5632 + 8192;
  return {
    ...gpu,
    vram: {
      ...gpu.vram,
      reservedMb,
      freeMb: gpu.vram.totalMb - reservedMb - gpu.vram.externalMb,
      holders: [
        {
          id: 'job-resnet',
          owner: 'trainos',
          kind: 'job',
          label: 'job 01JB7Q resnet-50 on imagenette',
          mb: 8192,
          since: now - 3.5 * MINUTE,
          lastUsedAt: now,
          parkable: false,
        },
        {
          id: 'deploy-llama',
          owner: 'deploy',
          kind: 'model',
          label: 'llama-3.1-8b-instruct q4_K_M',
          mb: 5632,
          since: now - 25.5 * MINUTE,
          lastUsedAt: now - 20.5 * MINUTE,
          parkable: true,
        },
      ],
      waiting: [
        {
          id: 'job-bert',
          owner: 'trainos',
          label: 'job 01JB7R bert-base fine-tune',
          mb: 12_288,
          since: now - 30_000,
          waitingFor: ['deploy-llama'],
        },
      ],
    },
  };
}
