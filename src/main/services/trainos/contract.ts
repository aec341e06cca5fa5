import type { GpuStatus } from '#shared/contracts/trainos';
import type { TrainingJobs } from './jobs';
import type { TrainingSweeps } from './sweeps';
import type { TrainingTemplates } from './templates';
import type { VramArbiter } from './vram';

export { trainosEndpoints, trainosEvents } from '#shared/contracts/trainos';
export type { GpuStatus, VramGpu, VramHolder, VramOwner } from '#shared/contracts/trainos';
export type { VramArbiter, VramGrant, VramRequest } from './vram';

/** The GPU board: every GPU the platform reads, with the memory the app holds on it. */
export interface GpuList {
  /** No GPU found: training jobs run on the CPU. */
  cpuOnly: boolean;
  items: GpuStatus[];
}

/**
 * TrainOS as other services see it: the GPU inventory, the app's one VRAM arbiter (through which DeployEngine
 * registers loaded models and training jobs reserve GPU memory), and training jobs.
 */
export interface TrainosService {
  readonly vram: VramArbiter;
  /** Training jobs: submitted, placed by priority and resources, run, followed, cancelled, retried. */
  readonly jobs: TrainingJobs;
  /** Ready-made jobs: shipped scripts (resources/templates) and the data dir's own (templates/). */
  readonly templates: TrainingTemplates;
  /** Hyper-parameter sweeps: trials as training jobs with child runs, searched and stopped early. */
  readonly sweeps: TrainingSweeps;
  listGpus(): Promise<GpuList>;
}
