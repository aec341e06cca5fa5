import { routeTable } from '#gateway/routes';
import { actorOf } from '#services/security/contract';
import { dataforgeEndpoints, labelingEndpoints, type DataforgeService } from './contract';

export function dataforgeRoutes(dataforge: DataforgeService) {
  const labeling = dataforge.labeling;
  return routeTable(
    { ...dataforgeEndpoints, ...labelingEndpoints },
    {
      'datasets.list': (q) => dataforge.listDatasets(q),
      'datasets.create': (input) => dataforge.createDataset(input),
      'datasets.get': ({ dataset }) => dataforge.getDataset(dataset),
      'datasets.import': (input, { principal }) =>
        dataforge.startImport({
          ...input,
          author: input.author ?? actorOf(principal),
        }),
      'datasets.commit': (input, { principal }) =>
        dataforge.commit({ ...input, author: input.author ?? actorOf(principal) }),
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
      'datasets.content': ({ dataset, version, path }) => dataforge.content(dataset, version, path),
      'labeling.create': (input) => labeling.create(input),
      'labeling.list': ({ dataset }) => ({ items: labeling.list(dataset) }),
      'labeling.get': ({ dataset, project }) => labeling.get(dataset, project),
      'labeling.update': ({ dataset, project, ...change }) => labeling.update(dataset, project, change),
      'labeling.delete': ({ dataset, project }) => labeling.delete(dataset, project),
      'labeling.next': ({ dataset, project, annotator }, { principal }) =>
        labeling.next(dataset, project, annotator ?? actorOf(principal)),
      'labeling.release': ({ dataset, project, annotator }, { principal }) => ({
        released: labeling.release(dataset, project, annotator ?? actorOf(principal)),
      }),
      'labeling.tasks': ({ dataset, project, ...query }) => labeling.tasks(dataset, project, query),
      'labeling.task': ({ dataset, project, task }) => labeling.task(dataset, project, task),
      'labeling.annotate': ({ dataset, project, task, annotator, ...answer }, { principal }) =>
        labeling.annotate(dataset, project, task, { ...answer, annotator: annotator ?? actorOf(principal) }),
      'labeling.unannotate': ({ dataset, project, task, annotator }, { principal }) =>
        labeling.unannotate(dataset, project, task, annotator ?? actorOf(principal)),
      'labeling.review': ({ dataset, project, task, reviewer, ...decision }, { principal }) =>
        labeling.review(dataset, project, task, { ...decision, reviewer: reviewer ?? actorOf(principal) }),
      'labeling.unreview': ({ dataset, project, task }) => labeling.unreview(dataset, project, task),
      'labeling.predictions': ({ dataset, project, model, items }) =>
        labeling.setPredictions(dataset, project, model, items),
      'labeling.agreement': ({ dataset, project }) => labeling.agreement(dataset, project),
      'labeling.export': ({ dataset, project, ...options }, { principal }) =>
        labeling.export(dataset, project, { ...options, author: actorOf(principal) }),
    },
  );
}
