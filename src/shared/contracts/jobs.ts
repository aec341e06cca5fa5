import { z } from 'zod';
import { endpoint, noInput } from '../api/endpoint';
import { Id, PageQuery, Timestamp, page } from './common';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobError = z.object({ code: z.string(), message: z.string() });

export const Job = z.object({
  id: Id,
  type: z.string(),
  status: JobStatus,
  /** Higher runs first; equal priorities run in the order they were enqueued. */
  priority: z.number().int(),
  payload: z.unknown(),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  /** 0..1 while running, null until the handler reports. */
  progress: z.number().nullable(),
  progressMessage: z.string().nullable(),
  result: z.unknown().nullable(),
  error: JobError.nullable(),
  cancelRequested: z.boolean(),
  runAfter: Timestamp,
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  updatedAt: Timestamp,
});
export type Job = z.infer<typeof Job>;

export const JobType = z.object({
  type: z.string(),
  description: z.string(),
  /** Where the handler runs: in the core's event loop or in a worker thread. */
  runsIn: z.enum(['process', 'worker']),
  maxAttempts: z.number().int(),
  /** JSON Schema of the payload. */
  payloadSchema: z.unknown(),
});

export const EnqueueJob = z.object({
  type: z.string().min(1).max(100),
  payload: z.unknown().optional(),
  priority: z.number().int().min(-100).max(100).default(0),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** Do not start before this time (ms since epoch). */
  runAfter: Timestamp.optional(),
});
export type EnqueueJob = z.input<typeof EnqueueJob>;

export const jobsEndpoints = {
  'jobs.list': endpoint({
    method: 'GET',
    path: '/api/v1/jobs',
    summary: 'List jobs, newest first, optionally filtered by status and type',
    scope: 'read',
    input: PageQuery.extend({
      status: JobStatus.optional(),
      type: z.string().max(100).optional(),
    }),
    output: page(Job),
  }),
  'jobs.get': endpoint({
    method: 'GET',
    path: '/api/v1/jobs/:id',
    summary: 'Get one job',
    scope: 'read',
    input: z.object({ id: Id }),
    output: Job,
  }),
  'jobs.enqueue': endpoint({
    method: 'POST',
    path: '/api/v1/jobs',
    summary: 'Enqueue a job of a registered type',
    scope: 'write',
    input: EnqueueJob,
    output: Job,
    status: 201,
  }),
  'jobs.cancel': endpoint({
    method: 'POST',
    path: '/api/v1/jobs/:id/cancel',
    summary: 'Cancel a queued or running job',
    scope: 'write',
    input: z.object({ id: Id }),
    output: Job,
  }),
  'jobs.types': endpoint({
    method: 'GET',
    path: '/api/v1/job-types',
    summary: 'List the job types services have registered',
    scope: 'read',
    input: noInput,
    output: z.object({ items: z.array(JobType) }),
  }),
} as const;

export const jobEvents = {
  'job.queued': z.object({ job: Job }),
  'job.started': z.object({ job: Job }),
  'job.progress': z.object({ job: Job }),
  'job.retrying': z.object({ job: Job }),
  'job.succeeded': z.object({ job: Job }),
  'job.failed': z.object({ job: Job }),
  'job.cancelled': z.object({ job: Job }),
} as const;
