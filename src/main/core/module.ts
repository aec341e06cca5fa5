import type { BlobStore } from '#platform/blobstore';
import type { Config } from '#platform/config';
import type { Db, MigrationSet } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { Metrics } from '#platform/metrics';
import type { JobHandler, JobQueue } from '#platform/queue';
import type { SystemInfo } from '#platform/sysinfo';
import type { UploadStore } from '#platform/uploads';
import type { WorkerPool } from '#platform/worker-pool';
import type { ForeignApi, MountedRoutes } from '#gateway/routes';

/** What the platform layer offers services; each service names the parts it uses and gets only those. */
export interface PlatformDeps {
  config: Config;
  db: Db;
  bus: EventBus;
  blobs: BlobStore;
  uploads: UploadStore;
  queue: JobQueue;
  logger: Logger;
  metrics: Metrics;
  sysinfo: SystemInfo;
  /** The core's worker threads (src/workers entries), for CPU-heavy work off the API thread. */
  workers: WorkerPool;
  /** The URL the core serves on ('' until it listens): what processes it starts use to reach it. */
  serverUrl(): string;
}

export type ServiceRank = 'foundation' | 'core' | 'composite';

/** Other services a service declared, by name, typed by the caller with the dependency's contract. */
export interface ServiceLookup {
  get<T>(name: string): T;
}

/**
 * How a service plugs into the core (ARCHITECTURE.md §4): its migrations, the platform parts and services it
 * depends on (calls point down the ranks; the container refuses cycles and undeclared lookups), its routes
 * and its job handlers.
 */
export interface ServiceModule<S = unknown, P extends keyof PlatformDeps = keyof PlatformDeps> {
  name: string;
  title: string;
  rank: ServiceRank;
  migrations: MigrationSet;
  platform: readonly P[];
  services: readonly string[];
  create(platform: Pick<PlatformDeps, P>, services: ServiceLookup): S;
  routes?(service: S): MountedRoutes;
  /** Other products' REST APIs the service also speaks (ModelHub: MLflow's). */
  foreignApis?(service: S): ForeignApi[];
  /**
   * Begins background work (watchers, timers) once the core serves. `stop` runs at shutdown, also for a core
   * that never served: it ends that work and releases what `create` opened.
   */
  start?(service: S): void;
  stop?(service: S): void | Promise<void>;
  jobs?(service: S): JobHandler[];
}

/** Keeps the module's type parameters while storing it in a list of modules. */
export function defineService<S, P extends keyof PlatformDeps>(module: ServiceModule<S, P>): ServiceModule<S, P> {
  return module;
}
