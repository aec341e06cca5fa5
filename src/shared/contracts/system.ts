import { z } from 'zod';
import { endpoint, noInput } from '../api/endpoint';
import { Id, Ok, Timestamp } from './common';
import { Job } from './jobs';

/** One GPU as the platform reads it (nvidia-smi where installed, else systeminformation); null: not reported. */
export const Gpu = z.object({
  index: z.number().int(),
  /** The driver's stable id (`GPU-…` from nvidia-smi); null where the reader does not know it. */
  uuid: z.string().nullable(),
  name: z.string(),
  vendor: z.string(),
  memoryTotalMb: z.number().nullable(),
  memoryUsedMb: z.number().nullable(),
  utilizationPercent: z.number().nullable(),
  temperatureC: z.number().nullable(),
  powerW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
});
export type Gpu = z.infer<typeof Gpu>;

export const SystemStats = z.object({
  at: Timestamp,
  cpu: z.object({ model: z.string(), cores: z.number().int(), loadPercent: z.number() }),
  memory: z.object({ totalBytes: z.number(), usedBytes: z.number() }),
  gpus: z.array(Gpu),
  queue: z.object({ queued: z.number().int(), running: z.number().int() }),
  runningJobs: z.array(Job),
});
export type SystemStats = z.infer<typeof SystemStats>;

export const ServiceInfo = z.object({
  name: z.string(),
  title: z.string(),
  rank: z.enum(['foundation', 'core', 'composite']),
});

export const EventEnvelope = z.object({
  id: Id,
  name: z.string(),
  at: Timestamp,
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const systemEndpoints = {
  'system.health': endpoint({
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness: answers without credentials',
    scope: 'public',
    input: noInput,
    output: z.object({ status: z.literal('ok'), version: z.string() }),
  }),
  'system.status': endpoint({
    method: 'GET',
    path: '/api/v1/status',
    summary: 'Server version, data dir, address and uptime',
    scope: 'read',
    input: noInput,
    output: z.object({
      version: z.string(),
      dataDir: z.string(),
      url: z.string(),
      pid: z.number().int(),
      startedAt: Timestamp,
      node: z.string(),
      platform: z.string(),
    }),
  }),
  'system.stats': endpoint({
    method: 'GET',
    path: '/api/v1/system/stats',
    summary: 'Live CPU, memory, GPU and queue state',
    scope: 'read',
    input: noInput,
    output: SystemStats,
  }),
  'system.services': endpoint({
    method: 'GET',
    path: '/api/v1/services',
    summary: 'The platform services this core runs',
    scope: 'read',
    input: noInput,
    output: z.object({ items: z.array(ServiceInfo) }),
  }),
  'events.recent': endpoint({
    method: 'GET',
    path: '/api/v1/events/recent',
    summary: 'The most recent events, newest last (live ones stream on the /api/v1/events WebSocket)',
    scope: 'read',
    input: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
    output: z.object({ items: z.array(EventEnvelope) }),
  }),
  'blobs.stats': endpoint({
    method: 'GET',
    path: '/api/v1/blobs/stats',
    summary: 'How many blobs the store holds, their size, and how many nothing references',
    scope: 'read',
    input: noInput,
    output: z.object({
      blobs: z.number().int(),
      bytes: z.number().int(),
      unreferenced: z.number().int(),
    }),
  }),
  'blobs.gc': endpoint({
    method: 'POST',
    path: '/api/v1/blobs/gc',
    summary: 'Enqueue garbage collection of unreferenced blobs',
    scope: 'admin',
    input: z.object({
      /** Keep unreferenced blobs younger than this, so an upload in progress is not collected. */
      graceMs: z
        .number()
        .int()
        .min(0)
        .default(60 * 60 * 1000),
    }),
    output: Job,
    status: 202,
  }),
  'blobs.verify': endpoint({
    method: 'POST',
    path: '/api/v1/blobs/verify',
    summary: 'Enqueue a check that every blob still matches its hash (runs in a worker thread)',
    scope: 'admin',
    input: noInput,
    output: Job,
    status: 202,
  }),
  'auth.session': endpoint({
    method: 'POST',
    path: '/api/v1/auth/session',
    summary: 'Set an HttpOnly session cookie so a browser can open /docs, /metrics and downloads (GET only)',
    scope: 'read',
    input: noInput,
    output: Ok,
  }),
  'auth.endSession': endpoint({
    method: 'DELETE',
    path: '/api/v1/auth/session',
    summary: 'Expire the browser session cookie (sign-out)',
    scope: 'read',
    input: noInput,
    output: Ok,
  }),
} as const;

export const systemEvents = {
  'blobs.collected': z.object({ removed: z.number().int(), bytes: z.number().int() }),
} as const;
