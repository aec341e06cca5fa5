import { userInfo } from 'node:os';
import { routeTable } from '#gateway/routes';
import type { Principal } from '#services/security/contract';
import { dataforgeEndpoints, type DataforgeService } from './contract';

/** Who made a version when the request does not say: the OS user for the local token, else the API key's name. */
function authorOf(principal: Principal | null): string {
  return principal?.kind === 'api-key' ? `key:${principal.name}` : userInfo().username;
}

export function dataforgeRoutes(dataforge: DataforgeService) {
  return routeTable(dataforgeEndpoints, {
    'datasets.list': (q) => dataforge.listDatasets(q),
    'datasets.create': (input) => dataforge.createDataset(input),
    'datasets.get': ({ dataset }) => dataforge.getDataset(dataset),
    'datasets.import': (input, { principal }) =>
      dataforge.startImport({
        ...input,
        author: input.author ?? authorOf(principal),
      }),
    'datasets.commit': (input, { principal }) =>
      dataforge.commit({ ...input, author: input.author ?? authorOf(principal) }),
    'datasets.versions': ({ dataset, ...page }) => dataforge.versions(dataset, page),
    'datasets.version': ({ dataset, version }) => dataforge.resolveVersion(dataset, version),
    'datasets.files': ({ dataset, version, ...query }) => dataforge.files(dataset, version, query),
    'datasets.diff': ({ dataset, from, to }) => dataforge.diff(dataset, from, to),
    'datasets.tableDiff': ({ dataset, from, to, path, key }) => dataforge.tableDiff(dataset, from, to, path, key),
    'datasets.tag': ({ dataset, version, tag }) => dataforge.tag(dataset, version, tag),
    'datasets.untag': ({ dataset, tag }) => dataforge.untag(dataset, tag),
    'datasets.export': ({ dataset, version, path }) => dataforge.startExport(dataset, version, path),
    'datasets.watch': (input) => dataforge.watch(input),
    'datasets.watches': ({ dataset }) => ({ items: dataforge.watches(dataset) }),
    'datasets.unwatch': ({ dataset, id }) => dataforge.unwatch(dataset, id),
    'datasets.schema': ({ dataset, version, path }) => dataforge.schema(dataset, version, path),
    'datasets.setSchema': ({ dataset, version, path, types }) => dataforge.setSchema(dataset, version, path, types),
    'datasets.quality': ({ dataset, version }) => dataforge.quality(dataset, version),
    'datasets.qualityRun': ({ dataset, version, target }) => dataforge.startQuality(dataset, version, target),
    'datasets.profile': ({ dataset, version }) => dataforge.profile(dataset, version),
    'datasets.profileRun': ({ dataset, version }) => dataforge.startProfile(dataset, version),
    'datasets.rows': ({ dataset, version, ...query }) => dataforge.rows(dataset, version, query),
  });
}
