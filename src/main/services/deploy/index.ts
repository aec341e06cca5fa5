import path from 'node:path';
import pkg from '#package.json' with { type: 'json' };
import { defineService } from '#core/module';
import type { ModelhubService } from '#services/modelhub/contract';
import type { TrainosService } from '#services/trainos/contract';
import { Deployments } from './deployments';
import { setLlamaLogSink } from './llm/backend';
import { openAiApi } from './openai-api';
import { deployRoutes } from './routes';
import { SERVING_RUNTIMES } from './runtimes';
import { deployMigrations } from './schema';
import { v2Api } from './v2-api';

export type { DeployService } from './contract';

export const deployModule = defineService<
  Deployments,
  'db' | 'bus' | 'logger' | 'blobs' | 'metrics' | 'sysinfo' | 'config'
>({
  name: 'deploy',
  title: 'Deployments',
  rank: 'core',
  migrations: deployMigrations,
  platform: ['db', 'bus', 'logger', 'blobs', 'metrics', 'sysinfo', 'config'],
  services: ['modelhub', 'trainos'],
  create: ({ db, bus, logger, blobs, metrics, sysinfo, config }, services) => {
    const log = logger.child({ service: 'deploy' });
    setLlamaLogSink((level, message) => log[level]({ llama: message.trim() }, 'llama.cpp'));
    return new Deployments({
      db,
      bus,
      logger: log,
      blobs,
      modelhub: services.get<ModelhubService>('modelhub'),
      // The app's one VRAM arbiter: served models and training jobs never count on the same memory.
      vram: services.get<TrainosService>('trainos').vram,
      gpus: () => sysinfo.gpus(),
      runtimes: SERVING_RUNTIMES,
      registry: metrics.registry,
      cacheDir: path.join(config.dataDir, 'deploy', 'files'),
    });
  },
  // Loads what should be loaded (deployments with minReplicas ≥ 1) once the core serves.
  start: (deployments) => deployments.startup(),
  stop: (deployments) => deployments.close(),
  routes: deployRoutes,
  foreignApis: (deployments) => [openAiApi(deployments), v2Api(deployments, pkg.version)],
});
