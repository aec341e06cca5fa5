import { z } from 'zod';
import { endpoint, noInput } from '../api/endpoint';
import { Timestamp } from './common';
import { Gpu } from './system';

/** Who holds GPU memory: served models (DeployEngine) or training jobs (TrainOS). */
export const VramOwner = z.enum(['deploy', 'trainos']);
export type VramOwner = z.infer<typeof VramOwner>;

export const VramHolderKind = z.enum(['model', 'job']);
export type VramHolderKind = z.infer<typeof VramHolderKind>;

/** A reservation of GPU memory held through the VRAM arbiter; its id is the holder's own (deployment, job). */
export const VramHolder = z.object({
  id: z.string(),
  owner: VramOwner,
  kind: VramHolderKind,
  /** What a person sees on the GPU board ("llama-3-8b q4", "job 01J… resnet"). */
  label: z.string(),
  mb: z.number(),
  since: Timestamp,
  lastUsedAt: Timestamp,
  /** Whether it may be asked to give its memory back (an idle served model that can be reloaded later). */
  parkable: z.boolean(),
});
export type VramHolder = z.infer<typeof VramHolder>;

/** A reservation waiting for parked holders to be released. */
export const VramWaiting = z.object({
  id: z.string(),
  owner: VramOwner,
  label: z.string(),
  mb: z.number(),
  since: Timestamp,
  /** The holders asked to park for it. */
  waitingFor: z.array(z.string()),
});
export type VramWaiting = z.infer<typeof VramWaiting>;

/** One GPU's memory as the arbiter accounts it, in MiB. */
export const VramGpu = z.object({
  index: z.number().int(),
  /** What the inventory reports; 0 when the GPU's memory size is unknown (then nothing is placed on it). */
  totalMb: z.number(),
  /** Held by the app's reservations. */
  reservedMb: z.number(),
  /** Used by processes outside the app: the GPU's used memory beyond what the app reserved, never negative. */
  externalMb: z.number(),
  /** What is left for new reservations: total − reserved − external, never negative. */
  freeMb: z.number(),
  holders: z.array(VramHolder),
  waiting: z.array(VramWaiting),
});
export type VramGpu = z.infer<typeof VramGpu>;

export const GpuStatus = Gpu.extend({ vram: VramGpu });
export type GpuStatus = z.infer<typeof GpuStatus>;

export const trainosEndpoints = {
  'gpus.list': endpoint({
    method: 'GET',
    path: '/api/v1/gpus',
    summary: 'GPU inventory with the memory the app has reserved on each; cpuOnly when there is no GPU',
    scope: 'read',
    input: noInput,
    output: z.object({
      /** No GPU found: training jobs run on the CPU. */
      cpuOnly: z.boolean(),
      items: z.array(GpuStatus),
    }),
  }),
} as const;

const VramHolderRef = VramHolder.pick({ id: true, owner: true, kind: true, label: true, mb: true });

export const trainosEvents = {
  /** Memory was granted; `waitedMs` is how long it waited for parked holders (0 when it fit at once). */
  'vram.reserved': VramHolderRef.extend({ gpu: z.number().int(), waitedMs: z.number().int().nonnegative() }),
  'vram.released': VramHolderRef.extend({ gpu: z.number().int(), heldMs: z.number().int().nonnegative() }),
  /**
   * A reservation does not fit and these parkable holders (least recently used first) were chosen to make
   * room on `gpu`; their owners may release them. The reservation waits until they are gone or it times out.
   */
  'vram.park-requested': z.object({
    requestId: z.string(),
    owner: VramOwner,
    label: z.string(),
    gpu: z.number().int(),
    mb: z.number(),
    /** How much more memory the reservation needs than the GPU has free now. */
    shortfallMb: z.number(),
    holders: z.array(VramHolderRef.extend({ lastUsedAt: Timestamp })),
  }),
} as const;
