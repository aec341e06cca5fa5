import { routeTable } from '#gateway/routes';
import { TrainingJobSpec } from '#shared/contracts/trainos';
import { trainosEndpoints, type TrainosService } from './contract';

export function trainosRoutes(trainos: TrainosService) {
  return routeTable(trainosEndpoints, {
    'gpus.list': () => trainos.listGpus(),
    'trainingJobs.submit': (spec) => trainos.jobs.submit(spec),
    'trainingSweeps.create': (spec) => trainos.sweeps.create(spec),
    'trainingSweeps.list': ({ limit, cursor }) => trainos.sweeps.list({ limit, cursor }),
    'trainingSweeps.get': ({ sweep }) => trainos.sweeps.get(sweep),
    'trainingSweeps.cancel': ({ sweep }) => trainos.sweeps.cancel(sweep),
    'trainingTemplates.list': () => ({ templates: trainos.templates.list().map((t) => t.template) }),
    'trainingTemplates.submit': (input) => trainos.jobs.submit(TrainingJobSpec.parse(trainos.templates.jobSpec(input))),
    'trainingJobs.list': ({ state, limit, cursor }) => trainos.jobs.list({ state, limit, cursor }),
    'trainingJobs.get': ({ job }) => trainos.jobs.get(job),
    'trainingJobs.logs': ({ job, fromByte, maxBytes }) => trainos.jobs.logs(job, { fromByte, maxBytes }),
    'trainingJobs.cancel': ({ job }) => trainos.jobs.cancel(job),
    'trainingJobs.retry': ({ job }) => trainos.jobs.retry(job),
    'trainingJobs.saveCheckpoint': ({ job, step, name }, { rawBody }) =>
      trainos.jobs.saveCheckpoint(job, { step, name }, rawBody ?? new Uint8Array()),
    'trainingJobs.checkpoints': ({ job }) => ({ checkpoints: trainos.jobs.checkpoints(job) }),
    'trainingJobs.checkpointContent': ({ job, checkpoint }) => {
      const found = trainos.jobs.checkpointContent(job, checkpoint);
      return { body: found.content, contentType: 'application/octet-stream', size: found.checkpoint.size };
    },
  });
}
