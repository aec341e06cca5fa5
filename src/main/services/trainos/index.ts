import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localTokenPath, type Config } from '#platform/config';
import { defineService } from '#core/module';
import type { DataforgeService } from '#services/dataforge/contract';
import { runArtifactRoot, type ModelhubService } from '#services/modelhub/contract';
import type { SweepState, TrainingJobState } from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';
import type { TrainosService } from './contract';
import { BuiltinExecutor } from './builtin-executor';
import { TFJS_WEIGHTS_FILE } from './builtin/tfjs-export';
import { TrainingJobs, type JobDatasets, type JobRuns } from './jobs';
import { LocalExecutor } from './local-executor';
import { SlurmExecutor, type SlurmExecutorOptions } from './slurm-executor';
import { trainosRoutes } from './routes';
import type { Machine } from './scheduler';
import { trainosMigrations } from './schema';
import { TrainingSweeps, type SweepRuns } from './sweeps';
import { shippedTemplatesDir, TrainingTemplates } from './templates';
import { LocalTrainosService } from './service';
import { VramArbiter } from './vram';

export type { TrainosService } from './contract';

const MIB = 1024 * 1024;
const EXPERIMENT_ID_TTL_MS = 1000;
const RUN_STATUS: Record<TrainingJobState, 'FINISHED' | 'FAILED' | 'KILLED' | null> = {
  queued: null,
  running: null,
  succeeded: 'FINISHED',
  failed: 'FAILED',
  cancelled: 'KILLED',
  'timed-out': 'KILLED',
};

/** The id of the experiment of that name, made when missing. */
function experimentIdOf(tracking: ModelhubService['tracking'], name: string): string {
  try {
    return tracking.experimentByName(name).id;
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
    return tracking.createExperiment({ name });
  }
}

/** A job's run in ModelHub: in the experiment it names (made when missing), tagged with the job's id. */
function modelhubRuns(modelhub: ModelhubService): JobRuns {
  const { tracking } = modelhub;
  // The lookup reads the whole experiment (its run count too): a burst of jobs reuses it for a second, which also
  // bounds how long a renamed experiment keeps getting runs under its old name.
  const experimentIds = new Map<string, { id: string; at: number }>();
  return {
    start: (experiment, runName, jobId, extra) => {
      const cached = experimentIds.get(experiment);
      const fresh = cached !== undefined && Date.now() - cached.at < EXPERIMENT_ID_TTL_MS;
      const experimentId = fresh ? cached.id : experimentIdOf(tracking, experiment);
      const tags = [{ key: 'aidos.training_job', value: jobId }];
      // MLflow's own tag for nesting, which its UI and ours both read.
      if (extra.parentRunId) tags.push({ key: 'mlflow.parentRunId', value: extra.parentRunId });
      let runId: string;
      try {
        runId = tracking.createRun({ experimentId, runName, tags }).info.id;
      } catch (err) {
        experimentIds.delete(experiment); // deleted or renamed since: looked up again next time
        throw err;
      }
      if (!fresh) experimentIds.set(experiment, { id: experimentId, at: Date.now() });
      const params = Object.entries(extra.params).map(([key, value]) => ({ key, value }));
      if (params.length > 0) tracking.logBatch(runId, { metrics: [], params, tags: [] });
      return runId;
    },
    inputs: (runId, versions) =>
      tracking.logInputs(
        runId,
        versions.map((v) => ({
          name: v.dataset,
          digest: v.manifestSha256.slice(0, 12),
          sourceType: 'aidos',
          // The SDK's form: ModelHub links it to the DataForge version (lineage).
          source: `aidos://datasets/${encodeURIComponent(v.dataset)}/versions/${v.number}`,
          schema: null,
          profile: null,
          tags: [{ key: 'aidos.env', value: v.env }],
          datasetVersionId: v.versionId,
        })),
      ),
    // A script that logs through the SDK ends its run itself; one that did not is ended with the job.
    end: (runId, state) => {
      const status = RUN_STATUS[state];
      if (status && tracking.run(runId).info.status === 'RUNNING')
        tracking.updateRun(runId, { status, endTime: Date.now() });
    },
    truncate: (runId, afterStep) => tracking.truncateMetrics(runId, afterStep),
    logMetrics: (runId, metrics, step) => {
      const timestamp = Date.now();
      tracking.logBatch(runId, {
        metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step, timestamp })),
        params: [],
        tags: [],
      });
    },
    // `tfjs`: the same model as a TF.js graph model, kept in `model/tfjs/` (the version stays an ONNX one; a
    // deployment with runtime 'tfjs' serves that folder).
    saveModel: async (runId, model, files, jobId) => {
      const root = runArtifactRoot(tracking.run(runId).info);
      await modelhub.artifacts.put(root, 'model/model.onnx', Buffer.from(files.onnx));
      await modelhub.artifacts.put(
        root,
        'model/preprocessing.json',
        Buffer.from(`${JSON.stringify(files.preprocessing, null, 2)}\n`),
      );
      if (files.tfjs) {
        await modelhub.artifacts.put(root, 'model/tfjs/model.json', Buffer.from(files.tfjs.modelJson));
        await modelhub.artifacts.put(root, `model/tfjs/${TFJS_WEIGHTS_FILE}`, Buffer.from(files.tfjs.weights));
      }
      try {
        modelhub.registry.model(model);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
        modelhub.registry.createModel({ name: model, description: 'Trained by a built-in trainer of TrainOS' });
      }
      const version = await modelhub.registerVersion({
        name: model,
        runId,
        artifactPath: 'model',
        description: `Trained by training job ${jobId}`,
        tags: [{ key: 'aidos.training_job', value: jobId }],
        aliases: [],
        actor: 'trainos',
      });
      return { name: version.name, version: version.version };
    },
  };
}

const SWEEP_RUN_STATUS: Record<SweepState, 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED'> = {
  running: 'RUNNING',
  succeeded: 'FINISHED',
  failed: 'FAILED',
  cancelled: 'KILLED',
};

/** A sweep's parent run (tagged with the sweep's id), and the objective read from its trials' runs. */
function modelhubSweepRuns(modelhub: ModelhubService): SweepRuns {
  const { tracking } = modelhub;
  return {
    startParent: (experiment, name, sweepId, params) => {
      const runId = tracking.createRun({
        experimentId: experimentIdOf(tracking, experiment),
        runName: name,
        tags: [{ key: 'aidos.sweep', value: sweepId }],
      }).info.id;
      tracking.logBatch(runId, {
        metrics: [],
        params: Object.entries(params).map(([key, value]) => ({ key, value })),
        tags: [],
      });
      return runId;
    },
    pointsAfter: (runId, key, afterStep) =>
      tracking
        .metricHistory(runId, key, { maxResults: Number.MAX_SAFE_INTEGER })
        .points.filter((p) => afterStep === null || p.step > afterStep)
        .sort((a, b) => a.step - b.step),
    logMetric: (runId, key, value, step) =>
      tracking.logBatch(runId, { metrics: [{ key, value, step, timestamp: Date.now() }], params: [], tags: [] }),
    end: (runId, state) => tracking.updateRun(runId, { status: SWEEP_RUN_STATUS[state], endTime: Date.now() }),
  };
}

/** Dataset versions written once each under `root/<version id>`; jobs reading the same version share it. */
function dataforgeVersions(dataforge: DataforgeService, root: string): JobDatasets {
  const writing = new Map<string, Promise<string>>();
  return {
    resolve: (dataset, version) => dataforge.resolveVersion(dataset, version),
    columnTypes: (dataset, version, file) => {
      try {
        return dataforge.schema(dataset, String(version), file).columns.map((c) => ({ name: c.name, type: c.type }));
      } catch (err) {
        if (err instanceof AppError) return null; // not a table DataForge reads
        throw err;
      }
    },
    materialize: (versionId) => {
      const target = path.join(root, versionId);
      // An export becomes visible only once complete, so an existing folder holds the whole version.
      if (existsSync(target)) return Promise.resolve(target);
      let pending = writing.get(versionId);
      if (!pending) {
        mkdirSync(root, { recursive: true });
        pending = dataforge
          .exportVersion(versionId, target)
          .then(() => target)
          .finally(() => writing.delete(versionId));
        writing.set(versionId, pending);
      }
      return pending;
    },
  };
}

/** The configured cluster's options, the unset ones left to Slurm. */
function slurmOptions(slurm: Config['trainos']['slurm']): SlurmExecutorOptions {
  return {
    ...(slurm.conf ? { slurmConf: slurm.conf } : {}),
    ...(slurm.binDir ? { slurmBinDir: slurm.binDir } : {}),
    ...(slurm.partition ? { partition: slurm.partition } : {}),
    sbatchArgs: slurm.sbatchArgs,
  };
}

export const trainosModule = defineService<
  TrainosService,
  'sysinfo' | 'bus' | 'db' | 'logger' | 'config' | 'serverUrl' | 'blobs'
>({
  name: 'trainos',
  title: 'Training',
  rank: 'core',
  migrations: trainosMigrations,
  platform: ['sysinfo', 'bus', 'db', 'logger', 'config', 'serverUrl', 'blobs'],
  services: ['modelhub', 'dataforge'],
  create: ({ sysinfo, bus, db, logger, config, serverUrl, blobs }, services) => {
    const vram = new VramArbiter({ readGpus: () => sysinfo.gpus(), events: bus });
    const log = logger.child({ service: 'trainos' });
    const logsDir = path.join(config.dataDir, 'trainos', 'logs');
    mkdirSync(logsDir, { recursive: true });
    const machine = async (): Promise<Machine> => {
      const [gpus, accounts] = await Promise.all([sysinfo.gpus(), vram.snapshot()]);
      const byIndex = new Map(accounts.map((a) => [a.index, a]));
      return {
        gpus: gpus.map((g) => {
          const account = byIndex.get(g.index);
          // Memory training jobs do not hold: used outside the app, or by served models that cannot be parked
          // (an idle one's memory counts as free: a job asks it to park when it starts).
          const heldByOthers = (account?.holders ?? [])
            .filter((h) => h.owner !== 'trainos' && !h.parkable)
            .reduce((n, h) => n + h.mb, 0);
          return {
            index: g.index,
            memoryTotalMb: g.memoryTotalMb ?? 0,
            memoryExternalMb: (account?.externalMb ?? g.memoryUsedMb ?? 0) + heldByOthers,
          };
        }),
        cpuThreads: os.availableParallelism(),
        ramMb: Math.floor(os.totalmem() / MIB),
      };
    };
    const jobs = new TrainingJobs({
      db,
      bus,
      logger: log,
      executors: {
        local: new LocalExecutor(log),
        builtin: new BuiltinExecutor(log),
        slurm: new SlurmExecutor(log, slurmOptions(config.trainos.slurm)),
      },
      vram,
      machine,
      runs: modelhubRuns(services.get<ModelhubService>('modelhub')),
      datasets: dataforgeVersions(
        services.get<DataforgeService>('dataforge'),
        path.join(config.dataDir, 'trainos', 'datasets'),
      ),
      access: () => ({ url: serverUrl(), token: readFileSync(localTokenPath(config.dataDir), 'utf8').trim() }),
      logsDir,
      blobs,
      checkpointsDir: path.join(config.dataDir, 'trainos', 'checkpoints'),
    });
    const templateRoots = [shippedTemplatesDir(), path.join(config.dataDir, 'templates')].filter(
      (dir): dir is string => dir !== null,
    );
    const templates = new TrainingTemplates(templateRoots, log);
    const sweeps = new TrainingSweeps({
      db,
      bus,
      logger: log,
      jobs,
      templates,
      runs: modelhubSweepRuns(services.get<ModelhubService>('modelhub')),
    });
    return new LocalTrainosService(sysinfo, vram, jobs, templates, sweeps);
  },
  // Jobs are placed only once the core serves: they need its URL to log their runs.
  start: (service) => {
    // Sweeps first: they follow the updates of trial jobs that jobs.start() adopts.
    service.sweeps.start();
    void service.jobs.start();
  },
  stop: (service) => {
    service.sweeps.close();
    service.jobs.close();
    // Waiting reservations are refused rather than left hanging when the app closes.
    service.vram.close();
  },
  routes: trainosRoutes,
});
