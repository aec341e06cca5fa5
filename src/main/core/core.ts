import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BlobStore, blobMigrations } from '#platform/blobstore';
import { isLoopback, type Config } from '#platform/config';
import { openDatabase, runMigrations, startCheckpointer, type Db, type MigrationSet } from '#platform/db';
import { EventBus } from '#platform/events';
import { DataDirLock } from '#platform/lock';
import { createLogger, type Logger } from '#platform/logger';
import { Metrics } from '#platform/metrics';
import { JobQueue, queueMigrations } from '#platform/queue';
import { SystemInfo } from '#platform/sysinfo';
import { UploadStore, uploadMigrations } from '#platform/uploads';
import { WorkerPool } from '#platform/worker-pool';
import { createGateway, type RouteInfo } from '#gateway/server';
import type { ForeignApi, MountedRoutes } from '#gateway/routes';
import type { SecurityService } from '#services/security/contract';
import { AppError } from '#shared/errors';
import { createServices } from './container';
import type { PlatformDeps } from './module';
import { platformJobs } from './platform-jobs';
import { serviceModules } from './services';
import { jobRoutes, systemRoutes, uploadRoutes } from './system-routes';
import { VERSION } from './version';

export interface Core {
  config: Config;
  /** Where the API listens, e.g. http://127.0.0.1:8000 */
  url: string;
  dataDir: string;
  localTokenFile: string;
  db: Db;
  queue: JobQueue;
  bus: EventBus;
  blobs: BlobStore;
  logger: Logger;
  app: FastifyInstance;
  /** Every route the gateway registered, with its scope. */
  routes(): RouteInfo[];
  /** A service by name, as other services see it (its contract); for the shell and tests. */
  service<T>(name: string): T;
  /**
   * Stops taking requests (each is a 503 from now on) and waits up to `graceMs` for those under way, queued ones
   * included, to finish, or until `signal` aborts: resolves with how many were still under way. `close` follows.
   */
  drain(graceMs: number, signal?: AbortSignal): Promise<number>;
  /** Refuses requests, stops the services (what still runs ends with an error its client gets), then closes. */
  close(): Promise<void>;
}

/** How long the errors of requests cut off at close have to reach their clients before the connections close. */
const CUT_OFF_REPLY_MS = 1000;

/** Every migration set of the platform and the services, in the order they run. */
export function allMigrations(): MigrationSet[] {
  return [blobMigrations, queueMigrations, uploadMigrations, ...serviceModules.map((m) => m.migrations)];
}

export function databaseFile(dataDir: string): string {
  return path.join(dataDir, 'aidos.db');
}

/**
 * Starts the core: locks the data dir, opens and migrates the database, builds the platform and the services,
 * requeues jobs a crashed predecessor left running, and serves the gateway. `listen: false` builds everything
 * but binds no port (for generating the OpenAPI document).
 */
export async function startCore(config: Config, options: { listen?: boolean } = {}): Promise<Core> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = DataDirLock.acquire(config.dataDir);
  const cleanup: (() => void | Promise<void>)[] = [() => lock.release()];
  const runCleanup = async () => {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch {
        // Keep closing the rest.
      }
    }
  };
  try {
    const { logger, close: closeLogger } = await createLogger({
      level: config.logLevel,
      logDir: path.join(config.dataDir, 'logs'),
      stderr: config.logToStderr,
    });
    cleanup.push(closeLogger);

    const db = openDatabase(databaseFile(config.dataDir));
    cleanup.push(() => {
      db.close();
    });
    const { applied } = runMigrations(db, allMigrations());
    if (applied.length > 0) logger.info({ applied }, 'applied migrations');
    const checkpointer = startCheckpointer(db, {
      onError: (message) => logger.warn({ message }, 'WAL checkpoint failed; commits checkpoint by themselves'),
    });
    cleanup.push(() => checkpointer.stop());

    const bus = new EventBus(logger);
    const metrics = new Metrics();
    const workers = new WorkerPool(config.dataDir);
    cleanup.push(() => workers.close());
    const blobs = new BlobStore(db, config.dataDir);
    const uploads = new UploadStore(db, blobs, config.dataforge.maxFileBytes);
    const queue = new JobQueue(db, bus, logger.child({ component: 'queue' }), config.queue, workers, metrics);
    cleanup.push(() => queue.stop());
    const sysinfo = new SystemInfo();
    let url = '';
    const platform: PlatformDeps = {
      config,
      db,
      bus,
      blobs,
      uploads,
      queue,
      logger,
      metrics,
      sysinfo,
      workers,
      serverUrl: () => url,
    };

    const services = createServices(serviceModules, platform);
    const routes: MountedRoutes[] = [];
    const foreignApis: ForeignApi[] = [];
    // Each runs once: `close` stops the services before the gateway (while requests cut off can still be
    // answered); on a failed start the cleanup list stops them.
    const serviceStops: (() => Promise<void>)[] = [];
    for (const { module, service } of services.values()) {
      // Stopped at close whether or not it was started: `stop` also releases what `create` opened (files).
      const stop = module.stop;
      if (stop) {
        let stopping: Promise<void> | undefined;
        const stopOnce = () => (stopping ??= Promise.resolve().then(() => stop(service)));
        serviceStops.unshift(stopOnce);
        cleanup.push(stopOnce);
      }
      if (module.routes) routes.push(module.routes(service));
      foreignApis.push(...(module.foreignApis?.(service) ?? []));
      for (const handler of module.jobs?.(service) ?? []) queue.register(handler);
    }
    for (const handler of platformJobs(blobs, uploads, bus)) queue.register(handler);
    const security = services.get('security')?.service as SecurityService;

    if (!isLoopback(config.host)) {
      if (!config.allowRemote) {
        throw new AppError(
          'FAILED_PRECONDITION',
          `refusing to listen on ${config.host}: binding beyond loopback needs --allow-remote (and an API key for every client)`,
        );
      }
      if (!security.hasActiveKeys()) {
        throw new AppError(
          'FAILED_PRECONDITION',
          `refusing to listen on ${config.host}: create an API key first (aidos keys create) so remote clients never need the local token`,
        );
      }
    }

    const startedAt = Date.now();
    routes.push(
      systemRoutes({
        queue,
        bus,
        blobs,
        sysinfo,
        services: [...services.values()].map(({ module }) => ({
          name: module.name,
          title: module.title,
          rank: module.rank,
        })),
        status: () => ({ dataDir: config.dataDir, url, startedAt }),
      }),
      jobRoutes(queue),
      uploadRoutes(uploads),
    );
    const gateway = await createGateway({
      config,
      logger,
      metrics,
      bus,
      security,
      routes,
      foreignApis,
      version: VERSION,
    });
    cleanup.push(() => gateway.app.close());
    await gateway.app.ready();

    const recovered = queue.recoverAbandoned();
    if (recovered > 0) logger.warn({ recovered }, 'requeued jobs left running by a previous process');

    if (options.listen !== false) {
      await gateway.app.listen({ host: config.host, port: config.port });
      const address = gateway.app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      url = `http://${host}:${port}`;
      lock.setUrl(url);
      queue.start();
      for (const { module, service } of services.values()) {
        module.start?.(service);
      }
      logger.info({ url, dataDir: config.dataDir }, 'AI-DOS core is listening');
    }

    return {
      config,
      url,
      dataDir: config.dataDir,
      localTokenFile: security.localTokenFile,
      db,
      queue,
      bus,
      blobs,
      logger,
      app: gateway.app,
      routes: gateway.routes,
      service: <T>(name: string): T => {
        const found = services.get(name);
        if (!found) throw new AppError('NOT_FOUND', `no service '${name}'`);
        return found.service as T;
      },
      drain: (graceMs, signal) => {
        gateway.refuseRequests();
        return gateway.whenIdle(graceMs, signal);
      },
      close: async () => {
        gateway.refuseRequests();
        for (const stop of serviceStops) {
          try {
            await stop();
          } catch (err) {
            logger.warn({ err }, 'a service did not stop cleanly');
          }
        }
        await gateway.whenIdle(CUT_OFF_REPLY_MS);
        await runCleanup();
      },
    };
  } catch (err) {
    await runCleanup();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AppError(
        'FAILED_PRECONDITION',
        `port ${config.port} on ${config.host} is already in use; pick another with --port`,
      );
    }
    throw err;
  }
}
