import { SESSION_COOKIE, routeTable } from '#gateway/routes';
import type { BlobStore } from '#platform/blobstore';
import type { EventBus } from '#platform/events';
import type { JobQueue } from '#platform/queue';
import type { SystemInfo } from '#platform/sysinfo';
import { jobsEndpoints } from '#shared/contracts/jobs';
import { uploadsEndpoints } from '#shared/contracts/uploads';
import type { UploadStore } from '#platform/uploads';
import { systemEndpoints } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import type { ServiceRank } from './module';
import { VERSION } from './version';

export interface SystemRouteDeps {
  queue: JobQueue;
  bus: EventBus;
  blobs: BlobStore;
  sysinfo: SystemInfo;
  services: { name: string; title: string; rank: ServiceRank }[];
  status: () => { dataDir: string; url: string; startedAt: number };
}

export function systemRoutes(d: SystemRouteDeps) {
  return routeTable(systemEndpoints, {
    'system.health': () => ({ status: 'ok' as const, version: VERSION }),
    'system.status': () => ({
      version: VERSION,
      ...d.status(),
      pid: process.pid,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    }),
    'system.stats': async () => {
      const [cpu, gpus] = await Promise.all([d.sysinfo.cpu(), d.sysinfo.gpus()]);
      const counts = d.queue.counts();
      return {
        at: Date.now(),
        cpu,
        memory: d.sysinfo.memory(),
        gpus,
        queue: { queued: counts.queued, running: counts.running },
        runningJobs: d.queue.list({ status: 'running', limit: 20 }).items,
      };
    },
    'system.services': () => ({ items: d.services }),
    'events.recent': ({ limit }) => ({ items: d.bus.recent(limit) }),
    'blobs.stats': () => d.blobs.stats(),
    'blobs.gc': ({ graceMs }) => d.queue.enqueue({ type: 'blobs.gc', payload: { graceMs } }),
    'blobs.verify': () => d.queue.enqueue({ type: 'blobs.verify', payload: {} }),
    'auth.session': (_input, ctx) => {
      if (!ctx.principal || !ctx.credential) throw new AppError('UNAUTHENTICATED', 'no credentials');
      ctx.setCookie(SESSION_COOKIE, ctx.credential, { maxAgeSeconds: 7 * 24 * 3600, httpOnly: true });
      return { ok: true as const };
    },
    'auth.endSession': (_input, ctx) => {
      ctx.setCookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, httpOnly: true });
      return { ok: true as const };
    },
  });
}

export function jobRoutes(queue: JobQueue) {
  return routeTable(jobsEndpoints, {
    'jobs.list': (q) => queue.list(q),
    'jobs.get': ({ id }) => queue.get(id),
    'jobs.enqueue': (input) => queue.enqueue(input),
    'jobs.cancel': ({ id }) => queue.cancel(id),
    'jobs.types': () => ({ items: queue.types() }),
  });
}

export function uploadRoutes(uploads: UploadStore) {
  return routeTable(uploadsEndpoints, {
    'uploads.create': (input) => uploads.create(input),
    'uploads.get': ({ id }) => uploads.get(id),
    'uploads.append': ({ id, offset }, { rawBody }) => uploads.append(id, offset, rawBody ?? Buffer.alloc(0)),
    'uploads.cancel': ({ id }) => uploads.cancel(id),
  });
}
