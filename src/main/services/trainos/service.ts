import type { SystemInfo } from '#platform/sysinfo';
import type { Gpu } from '#shared/contracts/system';
import type { VramGpu } from '#shared/contracts/trainos';
import type { GpuList, TrainosService } from './contract';
import type { TrainingJobs } from './jobs';
import type { TrainingSweeps } from './sweeps';
import type { TrainingTemplates } from './templates';
import type { VramArbiter } from './vram';

export class LocalTrainosService implements TrainosService {
  constructor(
    private readonly sysinfo: Pick<SystemInfo, 'gpus'>,
    readonly vram: VramArbiter,
    readonly jobs: TrainingJobs,
    readonly templates: TrainingTemplates,
    readonly sweeps: TrainingSweeps,
  ) {}

  async listGpus(): Promise<GpuList> {
    const gpus = await this.sysinfo.gpus();
    const accounts = new Map((await this.vram.snapshot()).map((v) => [v.index, v]));
    return {
      cpuOnly: gpus.length === 0,
      items: gpus.map((gpu) => ({ ...gpu, vram: accounts.get(gpu.index) ?? unaccounted(gpu) })),
    };
  }
}

/** A GPU that appeared between the two readings (both cached, so rarely): nothing of the app's is on it yet. */
function unaccounted(gpu: Gpu): VramGpu {
  const totalMb = gpu.memoryTotalMb ?? 0;
  const externalMb = gpu.memoryUsedMb ?? 0;
  return {
    index: gpu.index,
    totalMb,
    reservedMb: 0,
    externalMb,
    freeMb: Math.max(0, totalMb - externalMb),
    holders: [],
    waiting: [],
  };
}
