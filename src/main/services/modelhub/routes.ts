import { routeTable } from '#gateway/routes';
import { actorOf } from '#services/security/contract';
import { modelhubEndpoints } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import { decodeMetricBatch, METRIC_BATCH_MAX_POINTS, MetricBatchError } from '#shared/metric-batch-binary';
import { encodeSeriesBinary, SERIES_BINARY_TYPE } from '#shared/series-binary';
import type { ModelhubService } from './contract';
import { jsonSeries } from './series';

/** The registry's version reference: a number, or an alias. */
function versionOf(modelhub: ModelhubService, name: string, ref: string) {
  return /^\d+$/.test(ref) ? modelhub.registry.version(name, ref) : modelhub.registry.versionByAlias(name, ref);
}

export function modelhubRoutes(modelhub: ModelhubService) {
  const { tracking, artifacts, registry } = modelhub;
  const runRoot = (runId: string) => {
    const run = tracking.run(runId).info;
    return `${run.experimentId}/${run.id}/artifacts`;
  };
  return routeTable(modelhubEndpoints, {
    'experiments.list': ({ filter, view, limit, pageToken }) => {
      const r = tracking.searchExperiments({ filter, viewType: view, maxResults: limit, pageToken });
      return { items: r.experiments, nextPageToken: r.nextPageToken };
    },
    'experiments.create': ({ name, tags }) => tracking.experiment(tracking.createExperiment({ name, tags })),
    'experiments.get': ({ experiment }) => tracking.experiment(experiment),
    'runs.search': ({ experimentIds, filter, orderBy, view, limit, pageToken }) => {
      const r = tracking.searchRuns({ experimentIds, filter, orderBy, viewType: view, maxResults: limit, pageToken });
      return { items: r.runs, nextPageToken: r.nextPageToken };
    },
    'runs.get': ({ run }) => tracking.run(run),
    'runs.update': ({ run, name, status }) => {
      const finished = status !== undefined && status !== 'RUNNING' && status !== 'SCHEDULED';
      return tracking.updateRun(run, {
        runName: name,
        status,
        ...(finished ? { endTime: Date.now() } : {}),
      });
    },
    'runs.history': ({ run, key, limit, pageToken }) => {
      const r = tracking.metricHistory(run, key, { maxResults: limit, pageToken });
      return {
        items: r.points.map((p) => ({
          key: p.key,
          step: p.step,
          timestamp: p.timestamp,
          value: Number.isFinite(p.value) ? p.value : (String(p.value) as 'NaN' | 'Infinity' | '-Infinity'),
        })),
        nextPageToken: r.nextPageToken,
      };
    },
    'runs.logMetrics': ({ run }, { rawBody }) => {
      let metrics;
      try {
        metrics = decodeMetricBatch(rawBody ?? new Uint8Array());
      } catch (e) {
        if (e instanceof MetricBatchError) throw new AppError('INVALID_ARGUMENT', e.message, { field: 'body' });
        throw e;
      }
      tracking.logBatch(run, { metrics, params: [], tags: [] }, { maxMetrics: METRIC_BATCH_MAX_POINTS });
      return { points: metrics.length };
    },
    'runs.series': ({ runIds, keys, x, maxPoints, method }) => ({
      series: tracking.chartSeries(runIds, keys, { x, maxPoints, method }).map(jsonSeries),
    }),
    'runs.seriesBinary': ({ runIds, keys, x, maxPoints, method }) => {
      const body = encodeSeriesBinary(tracking.chartSeries(runIds, keys, { x, maxPoints, method }));
      return { body, contentType: SERIES_BINARY_TYPE, size: body.length };
    },
    'runs.artifacts': ({ run, path }) => ({ items: artifacts.list(runRoot(run), path.replace(/\/+$/, '')) }),
    'runs.artifact': ({ run, path }) => artifacts.file(runRoot(run), path),
    'models.list': ({ filter, limit, pageToken }) => {
      const r = registry.searchModels({ filter, maxResults: limit, pageToken });
      return { items: r.models, nextPageToken: r.nextPageToken };
    },
    'models.create': ({ name, description, tags }) => registry.createModel({ name, description, tags }),
    'models.get': ({ name }) => registry.model(name),
    'models.versions': ({ name, limit, pageToken }) => {
      registry.model(name);
      const r = registry.searchVersions({
        filter: `name = '${name.replaceAll("'", "''")}'`,
        maxResults: limit,
        pageToken,
      });
      return { items: r.versions, nextPageToken: r.nextPageToken };
    },
    'models.createVersion': (input, { principal }) => modelhub.registerVersion({ ...input, actor: actorOf(principal) }),
    'models.version': ({ name, version }) => versionOf(modelhub, name, version),
    'models.setAlias': ({ name, alias, version }, { principal }) => {
      registry.setAlias(name, alias, String(version), actorOf(principal));
      return registry.model(name);
    },
    'models.deleteAlias': ({ name, alias }, { principal }) => {
      registry.deleteAlias(name, alias, actorOf(principal));
      return registry.model(name);
    },
    'models.history': ({ name }) => ({ items: registry.history(name) }),
    'models.lineage': ({ name, version }) => {
      const v = versionOf(modelhub, name, version);
      if (v.runId === null) return { version: v, run: null, inputs: [] };
      try {
        const run = tracking.run(v.runId);
        return { version: v, run, inputs: run.inputs };
      } catch (err) {
        // A version may name a run of another server (MLflow clients can pass any id).
        if (err instanceof AppError && err.code === 'NOT_FOUND') return { version: v, run: null, inputs: [] };
        throw err;
      }
    },
  });
}
