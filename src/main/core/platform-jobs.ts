import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { BlobStore } from '#platform/blobstore';
import type { EventBus } from '#platform/events';
import type { JobHandler } from '#platform/queue';
import type { UploadStore } from '#platform/uploads';

/** Job types the platform itself provides. */
export function platformJobs(blobs: BlobStore, uploads: UploadStore, bus: EventBus): JobHandler[] {
  const sleepJob: JobHandler<{ ms: number; steps: number }> = {
    type: 'system.sleep',
    description: 'Diagnostic: waits the given time in steps, reporting progress; shows the queue and UI at work',
    payload: z.object({
      ms: z.number().int().min(0).max(3_600_000).default(1000),
      steps: z.number().int().min(1).max(1000).default(10),
    }),
    run: async ({ ms, steps }, ctx) => {
      for (let i = 1; i <= steps; i++) {
        await sleep(ms / steps, undefined, { signal: ctx.signal }).catch(() => undefined);
        if (ctx.signal.aborted) throw new Error('cancelled');
        ctx.progress(i / steps, `step ${i} of ${steps}`);
      }
      return { sleptMs: ms };
    },
  };
  const noopJob: JobHandler<Record<string, never>> = {
    type: 'system.noop',
    description: 'Diagnostic: does nothing; measures the queue itself',
    payload: z.object({}).strict(),
    maxAttempts: 1,
    run: async () => null,
  };
  const gcJob: JobHandler<{ graceMs: number }> = {
    type: 'blobs.gc',
    description: 'Drops expired uploads, then removes blobs that nothing references (older than the grace period)',
    payload: z.object({
      graceMs: z
        .number()
        .int()
        .min(0)
        .default(60 * 60 * 1000),
    }),
    maxAttempts: 2,
    run: async ({ graceMs }) => {
      const expiredUploads = uploads.expire();
      const result = blobs.gc({ graceMs });
      bus.emit('blobs.collected', result);
      return { ...result, expiredUploads };
    },
  };
  const verifyJob: JobHandler<Record<string, never>> = {
    type: 'blobs.verify',
    description: 'Re-hashes every blob and lists those whose content no longer matches (in a worker thread)',
    payload: z.object({}).strict(),
    maxAttempts: 1,
    worker: 'blob-verify',
  };
  return [sleepJob, noopJob, gcJob, verifyJob] as JobHandler[];
}
