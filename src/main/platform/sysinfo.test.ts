import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNvidiaSmiCsv, SystemInfo } from './sysinfo';
import { tempDir } from './testing';

// What `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` prints on a two-GPU workstation.
const TWO_GPUS = [
  '0, GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f, NVIDIA GeForce RTX 4090, 24564, 1873, 37, 52, 61.27, 450.00',
  '1, GPU-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f, NVIDIA RTX A4000, 16376, 0, 0, 34, 14.92, 140.00',
  '',
].join('\n');

describe('parseNvidiaSmiCsv', () => {
  it('reads every GPU with memory, utilisation, temperature and power', () => {
    expect(parseNvidiaSmiCsv(TWO_GPUS)).toEqual([
      {
        index: 0,
        uuid: 'GPU-5b3a1c2e-8f1d-4e7a-9c2b-1a2b3c4d5e6f',
        name: 'NVIDIA GeForce RTX 4090',
        vendor: 'NVIDIA',
        memoryTotalMb: 24564,
        memoryUsedMb: 1873,
        utilizationPercent: 37,
        temperatureC: 52,
        powerW: 61.27,
        powerLimitW: 450,
      },
      {
        index: 1,
        uuid: 'GPU-0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f',
        name: 'NVIDIA RTX A4000',
        vendor: 'NVIDIA',
        memoryTotalMb: 16376,
        memoryUsedMb: 0,
        utilizationPercent: 0,
        temperatureC: 34,
        powerW: 14.92,
        powerLimitW: 140,
      },
    ]);
  });

  it('turns [N/A] and [Not Supported] into null instead of failing the GPU', () => {
    // A laptop GPU and a data-centre card in MIG mode report no power or utilisation.
    const [laptop, mig] = parseNvidiaSmiCsv(
      [
        '0, GPU-aaaa, NVIDIA GeForce RTX 3050 Laptop GPU, 4096, 512, [N/A], 48, [N/A], [N/A]',
        '1, [N/A], NVIDIA A100-SXM4-40GB, 40960, 37, [Not Supported], [Not Supported], 54.10, 400.00',
      ].join('\r\n'),
    );
    expect(laptop).toMatchObject({ name: 'NVIDIA GeForce RTX 3050 Laptop GPU', memoryTotalMb: 4096 });
    expect(laptop).toMatchObject({ utilizationPercent: null, powerW: null, powerLimitW: null, temperatureC: 48 });
    expect(mig).toMatchObject({ index: 1, uuid: null, utilizationPercent: null, temperatureC: null, powerW: 54.1 });
  });

  it('skips lines that are not GPU readings', () => {
    const output = [
      'No devices were found',
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      'WARNING: infoROM is corrupted at gpu 0000:01:00.0',
      'x, y, z, 1, 2, 3, 4, 5, 6',
      TWO_GPUS.split('\n')[1],
    ].join('\n');
    expect(parseNvidiaSmiCsv(output).map((g) => g.name)).toEqual(['NVIDIA RTX A4000']);
    expect(parseNvidiaSmiCsv('')).toEqual([]);
  });

  it('keeps a GPU name that holds a comma', () => {
    const [gpu] = parseNvidiaSmiCsv('0, GPU-1, Quadro RTX 8000, Rev. B, 49152, 100, 1, 30, 20.5, 260.0');
    expect(gpu).toMatchObject({ name: 'Quadro RTX 8000, Rev. B', memoryTotalMb: 49152, powerLimitW: 260 });
  });
});

describe('SystemInfo.gpus', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  /** A stand-in nvidia-smi that prints `output` and counts its calls in a file. */
  function fakeNvidiaSmi(output: string): { program: string; calls: () => number } {
    const tmp = tempDir();
    dirs.push(tmp);
    const program = path.join(tmp.dir, 'nvidia-smi');
    const counter = path.join(tmp.dir, 'calls');
    writeFileSync(counter, '');
    writeFileSync(program, `#!/bin/sh\necho x >> '${counter}'\ncat <<'EOF'\n${output}EOF\n`);
    chmodSync(program, 0o755);
    return { program, calls: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
  }

  it('reads GPUs from nvidia-smi when it is installed, asking it once per couple of seconds', async () => {
    const smi = fakeNvidiaSmi(TWO_GPUS);
    const sysinfo = new SystemInfo({ nvidiaSmi: smi.program });
    const first = await sysinfo.gpus();
    expect(first.map((g) => [g.index, g.name, g.memoryUsedMb])).toEqual([
      [0, 'NVIDIA GeForce RTX 4090', 1873],
      [1, 'NVIDIA RTX A4000', 0],
    ]);
    expect(await sysinfo.gpus()).toEqual(first);
    expect(smi.calls()).toBe(1);
  });

  it('falls back to systeminformation when nvidia-smi is not installed', async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    const sysinfo = new SystemInfo({ nvidiaSmi: path.join(tmp.dir, 'no-such-nvidia-smi') });
    const gpus = await sysinfo.gpus();
    // This machine has no GPU, but whatever the fallback finds has the full shape.
    for (const gpu of gpus) expect(gpu).toHaveProperty('powerLimitW');
    expect(Array.isArray(gpus)).toBe(true);
  });
});
