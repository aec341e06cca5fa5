import { readFileSync } from 'node:fs';
import { localTokenPath } from '#platform/config';
import { defineService } from '#core/module';
import type { DataforgeService } from '#services/dataforge/contract';
import type { DeployService } from '#services/deploy/contract';
import type { ModelhubService } from '#services/modelhub/contract';
import { evalkitRoutes } from './routes';
import { evalkitMigrations } from './schema';
import { Evalkit } from './service';

export type { EvalkitService } from './contract';

export const evalkitModule = defineService<
  Evalkit,
  'db' | 'bus' | 'logger' | 'blobs' | 'queue' | 'workers' | 'config' | 'serverUrl'
>({
  name: 'evalkit',
  title: 'Evaluation',
  rank: 'core',
  migrations: evalkitMigrations,
  platform: ['db', 'bus', 'logger', 'blobs', 'queue', 'workers', 'config', 'serverUrl'],
  services: ['dataforge', 'modelhub', 'deploy'],
  create: ({ db, bus, logger, blobs, queue, workers, config, serverUrl }, services) =>
    new Evalkit({
      db,
      bus,
      logger: logger.child({ service: 'evalkit' }),
      blobs,
      queue,
      workers,
      config,
      dataforge: services.get<DataforgeService>('dataforge'),
      modelhub: services.get<ModelhubService>('modelhub'),
      deploy: services.get<DeployService>('deploy'),
      access: () => ({ url: serverUrl(), token: readFileSync(localTokenPath(config.dataDir), 'utf8').trim() }),
    }),
  routes: evalkitRoutes,
  jobs: (evalkit) => evalkit.jobHandlers(),
  // Drift monitors check on their schedules once the core serves.
  start: (evalkit) => evalkit.monitors.start(),
  stop: (evalkit) => evalkit.monitors.stop(),
});
