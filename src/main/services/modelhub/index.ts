import { defineService } from '#core/module';
import type { DataforgeService } from '#services/dataforge/contract';
import { ArtifactStore } from './artifacts';
import type { ModelhubService } from './contract';
import { LoggedModels } from './logged-models';
import { mlflowApi } from './mlflow';
import { RegistryService } from './registry';
import { modelhubRoutes } from './routes';
import { modelhubMigrations } from './schema';
import { TrackingService } from './service';
import { ModelhubStore } from './store';
import { describeSource, registerVersion } from './versions';

export type { ModelhubService } from './contract';

/** How long a run may stay RUNNING without any write before it is taken for dead (its process is gone). */
const SILENT_RUN_MS = 24 * 60 * 60_000;
const SWEEP_EVERY_MS = 60_000;

const sweeps = new WeakMap<TrackingService, NodeJS.Timeout>();

export const modelhubModule = defineService<ModelhubService, 'db' | 'blobs' | 'uploads' | 'bus' | 'logger'>({
  name: 'modelhub',
  title: 'Experiments',
  rank: 'core',
  migrations: modelhubMigrations,
  platform: ['db', 'blobs', 'uploads', 'bus', 'logger'],
  services: ['dataforge'],
  create: ({ db, blobs, uploads, bus, logger }, services) => {
    const tracking = new TrackingService(
      new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) }),
      bus,
      logger.child({ service: 'modelhub' }),
      services.get<DataforgeService>('dataforge'),
    );
    const artifacts = new ArtifactStore(db, blobs);
    const registry = new RegistryService(db, bus);
    return {
      tracking,
      artifacts,
      registry,
      loggedModels: new LoggedModels(db, tracking),
      registerVersion: (input) => registerVersion({ registry, tracking, artifacts, uploads, blobs }, input),
      describeSource: (source) => describeSource(blobs, artifacts, source),
    };
  },
  start: ({ tracking }) => {
    tracking.killSilentRuns(SILENT_RUN_MS);
    const timer = setInterval(() => tracking.killSilentRuns(SILENT_RUN_MS), SWEEP_EVERY_MS);
    timer.unref();
    sweeps.set(tracking, timer);
  },
  stop: ({ tracking }) => {
    clearInterval(sweeps.get(tracking));
    tracking.close();
  },
  routes: modelhubRoutes,
  foreignApis: (modelhub) => [
    mlflowApi(modelhub.tracking, modelhub.artifacts, modelhub.registry, modelhub.loggedModels, modelhub.describeSource),
  ],
});
