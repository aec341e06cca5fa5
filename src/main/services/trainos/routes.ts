import { routeTable } from '#gateway/routes';
import { trainosEndpoints, type TrainosService } from './contract';

export function trainosRoutes(trainos: TrainosService) {
  return routeTable(trainosEndpoints, {
    'gpus.list': () => trainos.listGpus(),
  });
}
