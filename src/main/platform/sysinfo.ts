import os from 'node:os';
import si from 'systeminformation';
import type { Gpu } from '#shared/contracts/system';

const GPU_CACHE_MS = 2000;

/**
 * CPU, memory and GPU readings for the dashboard and `aidos status`. GPU readings come from systeminformation,
 * which asks nvidia-smi where it is installed; they are cached briefly because that call costs tens of ms.
 */
export class SystemInfo {
  private gpuCache: { at: number; gpus: Promise<Gpu[]> } | undefined;
  private cpuModel: string | undefined;

  gpus(): Promise<Gpu[]> {
    const now = Date.now();
    if (!this.gpuCache || now - this.gpuCache.at > GPU_CACHE_MS) {
      this.gpuCache = { at: now, gpus: readGpus() };
    }
    return this.gpuCache.gpus;
  }

  async cpu(): Promise<{ model: string; cores: number; loadPercent: number }> {
    this.cpuModel ??= os.cpus()[0]?.model?.trim() ?? 'unknown';
    const load = await si.currentLoad();
    return { model: this.cpuModel, cores: os.cpus().length, loadPercent: round1(load.currentLoad) };
  }

  memory(): { totalBytes: number; usedBytes: number } {
    const total = os.totalmem();
    return { totalBytes: total, usedBytes: total - os.freemem() };
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function orNull(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

async function readGpus(): Promise<Gpu[]> {
  try {
    const { controllers } = await si.graphics();
    return (
      controllers
        // Virtual display adapters (VMs, BMCs) are not compute devices.
        .filter(
          (c) => /nvidia|amd|advanced micro|intel arc|apple/i.test(`${c.vendor} ${c.model}`) || (c.vram ?? 0) >= 1024,
        )
        .map((c, index) => ({
          index,
          name: c.name ?? c.model,
          vendor: c.vendor,
          memoryTotalMb: orNull(c.memoryTotal ?? c.vram),
          memoryUsedMb: orNull(c.memoryUsed),
          utilizationPercent: orNull(c.utilizationGpu),
          temperatureC: orNull(c.temperatureGpu),
        }))
    );
  } catch {
    return [];
  }
}
