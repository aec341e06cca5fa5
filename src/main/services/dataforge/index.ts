import { z } from 'zod';
import { defineService } from '#core/module';
import type { JobHandler } from '#platform/queue';
import type { DataforgeService } from './contract';
import { dataforgeRoutes } from './routes';
import { dataforgeMigrations } from './schema';
import { LocalDataforgeService } from './service';
import { SqliteLabelingStore } from './labeling-store';
import { SqliteDataforgeStore } from './store.sqlite';

export type { DataforgeService } from './contract';

function dataforgeJobs(dataforge: DataforgeService): JobHandler[] {
  const importJob: JobHandler<{
    datasetId: string;
    path: string;
    message: string;
    author: string;
    extract?: boolean | undefined;
  }> = {
    type: 'dataforge.import',
    description: 'Imports a file, folder or archive as a new dataset version (unchanged files are not read again)',
    payload: z.object({
      datasetId: z.string(),
      path: z.string(),
      message: z.string(),
      author: z.string(),
      // Absent in jobs queued before archives could be extracted: then an archive is extracted.
      extract: z.boolean().optional(),
    }),
    run: ({ datasetId, path, message, author, extract }, ctx) =>
      dataforge.importPath(datasetId, path, { message, author, extract }, ctx),
  };
  const exportJob: JobHandler<{ versionId: string; path: string }> = {
    type: 'dataforge.export',
    description: 'Writes a dataset version to a folder, verifying every file',
    payload: z.object({ versionId: z.string(), path: z.string() }),
    run: ({ versionId, path }, ctx) => dataforge.exportVersion(versionId, path, ctx),
  };
  const profileJob: JobHandler<{ versionId: string }> = {
    type: 'dataforge.profile',
    description: "Profiles a version's tables: types, missing values, distinct values, statistics, histograms",
    payload: z.object({ versionId: z.string() }),
    run: ({ versionId }, ctx) => dataforge.profileVersion(versionId, ctx),
  };
  const qualityJob: JobHandler<{ versionId: string; target?: string | undefined }> = {
    type: 'dataforge.quality',
    description:
      "Checks a version's tables: missing values, duplicates, constant columns, outliers, class balance, label issues, schema drift, PII",
    payload: z.object({ versionId: z.string(), target: z.string().optional() }),
    run: ({ versionId, target }, ctx) => dataforge.checkQuality(versionId, target, ctx),
  };
  return [importJob, exportJob, profileJob, qualityJob] as JobHandler[];
}

export const dataforgeModule = defineService<
  DataforgeService,
  'db' | 'blobs' | 'uploads' | 'queue' | 'bus' | 'logger' | 'config'
>({
  name: 'dataforge',
  title: 'Datasets',
  rank: 'foundation',
  migrations: dataforgeMigrations,
  platform: ['db', 'blobs', 'uploads', 'queue', 'bus', 'logger', 'config'],
  services: [],
  create: ({ db, blobs, uploads, queue, bus, logger, config }) => {
    const service = new LocalDataforgeService(
      new SqliteDataforgeStore(db),
      new SqliteLabelingStore(db),
      blobs,
      queue,
      uploads,
      bus,
      logger.child({ service: 'dataforge' }),
      config.dataforge,
    );
    service.repairInterruptedImports();
    return service;
  },
  start: (service) => service.startWatching(),
  stop: (service) => service.stopWatching(),
  routes: dataforgeRoutes,
  jobs: dataforgeJobs,
});
