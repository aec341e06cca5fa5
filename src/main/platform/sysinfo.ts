import { execFile } from 'node:child_process';
import os from 'node:os';
import si from 'systeminformation';
import type { Gpu } from '#shared/contracts/system';

const GPU_CACHE_MS = 2000;
/** A wedged driver can make nvidia-smi hang; past this the reading falls back to systeminformation. */
const NVIDIA_SMI_TIMEOUT_MS = 5000;

/** The fields asked of nvidia-smi, in the order `parseNvidiaSmiCsv` reads them. */
export const NVIDIA_SMI_QUERY = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

/**
 * CPU, memory and GPU readings for the whole app: the dashboard, `aidos status`, `aidos gpus` and TrainOS's
 * VRAM arbiter all read GPUs here, so they agree. GPUs come from nvidia-smi when it is on PATH (one query for
 * every field, with UUIDs and power), else from systeminformation; none at all means CPU-only mode. Readings
 * are cached briefly because each costs tens of ms.
 */
export class SystemInfo {
  private gpuCache: { at: number; gpus: Promise<Gpu[]> } | undefined;
  private cpuModel: string | undefined;
  /** Set once nvidia-smi turned out not to be installed, so later readings do not try to spawn it again. */
  private nvidiaSmiMissing = false;

  /** `nvidiaSmi`: the program to ask (tests pass a stand-in); default `nvidia-smi` from PATH. */
  constructor(private readonly options: { nvidiaSmi?: string } = {}) {}

  gpus(): Promise<Gpu[]> {
    const now = Date.now();
    if (!this.gpuCache || now - this.gpuCache.at > GPU_CACHE_MS) {
      this.gpuCache = { at: now, gpus: this.readGpus() };
    }
    return this.gpuCache.gpus;
  }

  private async readGpus(): Promise<Gpu[]> {
    if (!this.nvidiaSmiMissing) {
      const reading = await queryNvidiaSmi(this.options.nvidiaSmi ?? 'nvidia-smi');
      if (reading === 'missing') this.nvidiaSmiMissing = true;
      else if (reading !== 'failed') return reading;
    }
    return readGpusFromSysteminformation();
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

/** Runs the nvidia-smi query; 'missing' when it is not installed, 'failed' when it errs or times out. */
function queryNvidiaSmi(program: string): Promise<Gpu[] | 'missing' | 'failed'> {
  return new Promise((resolve) => {
    execFile(
      program,
      [`--query-gpu=${NVIDIA_SMI_QUERY.join(',')}`, '--format=csv,noheader,nounits'],
      { timeout: NVIDIA_SMI_TIMEOUT_MS, windowsHide: true },
      (err, stdout) => {
        if (err) resolve((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'failed');
        else resolve(parseNvidiaSmiCsv(stdout));
      },
    );
  });
}

/** nvidia-smi's markers for a value the GPU does not report ("[N/A]", "[Not Supported]"). */
function isNotReported(text: string): boolean {
  return text === '' || /^\[.*\]$/.test(text) || /^(N\/A|Not Supported)$/i.test(text);
}

function smiNumber(text: string): number | null {
  if (isNotReported(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parses the output of `nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader,nounits`, one GPU a
 * line. Unreported values ("[N/A]", "[Not Supported]") become null; lines that are not a GPU reading (driver
 * warnings, "No devices were found") are skipped.
 */
export function parseNvidiaSmiCsv(output: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of output.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < NVIDIA_SMI_QUERY.length) continue;
    // The name is the only free-text field: should it hold commas, the fields around it still sit at the ends.
    const extra = fields.length - NVIDIA_SMI_QUERY.length;
    const [indexText, uuid] = fields;
    const name = fields.slice(2, 3 + extra).join(', ');
    const [memoryTotal, memoryUsed, utilization, temperature, power, powerLimit] = fields
      .slice(3 + extra)
      .map(smiNumber);
    if (!indexText || !/^\d+$/.test(indexText) || !name) continue;
    gpus.push({
      index: Number(indexText),
      uuid: uuid === undefined || isNotReported(uuid) ? null : uuid,
      name,
      vendor: 'NVIDIA',
      memoryTotalMb: memoryTotal ?? null,
      memoryUsedMb: memoryUsed ?? null,
      utilizationPercent: utilization ?? null,
      temperatureC: temperature ?? null,
      powerW: power ?? null,
      powerLimitW: powerLimit ?? null,
    });
  }
  return gpus;
}

async function readGpusFromSysteminformation(): Promise<Gpu[]> {
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
          uuid: null,
          name: c.name ?? c.model,
          vendor: c.vendor,
          memoryTotalMb: orNull(c.memoryTotal ?? c.vram),
          memoryUsedMb: orNull(c.memoryUsed),
          utilizationPercent: orNull(c.utilizationGpu),
          temperatureC: orNull(c.temperatureGpu),
          powerW: orNull(c.powerDraw),
          powerLimitW: orNull(c.powerLimit),
        }))
    );
  } catch {
    return [];
  }
}
