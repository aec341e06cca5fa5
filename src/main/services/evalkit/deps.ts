import type { BlobStore } from '#platform/blobstore';
import type { Config } from '#platform/config';
import type { Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { JobQueue } from '#platform/queue';
import type { WorkerPool } from '#platform/worker-pool';
import type { DataforgeService } from '#services/dataforge/contract';
import type { DeployService } from '#services/deploy/contract';
import type { ModelhubService } from '#services/modelhub/contract';

/** What each part of EvalKit is built from: its platform parts and the services it reads. */
export interface EvalkitDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  blobs: BlobStore;
  queue: JobQueue;
  /** Worker threads for computation that would hold the API thread (an evaluation's metrics). */
  workers: WorkerPool;
  config: Config;
  dataforge: DataforgeService;
  modelhub: ModelhubService;
  deploy: DeployService;
  /**
   * The core's own URL and local token: deployments' inference APIs (OpenAI `/v1`, KServe `/v2`) are HTTP only, and
   * EvalKit measures and asks them as their users do.
   */
  access(): { url: string; token: string };
}
