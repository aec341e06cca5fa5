import { routeTable } from '#gateway/routes';
import { deployEndpoints } from './contract';
import type { DeployService } from './contract';

export function deployRoutes(deploy: DeployService) {
  return routeTable(deployEndpoints, {
    'deployments.list': () => ({ items: deploy.list() }),
    'deployments.create': (input) => deploy.create(input),
    'deployments.get': ({ deployment }) => deploy.get(deployment),
    'deployments.update': (input) => deploy.update(input),
    'deployments.start': ({ deployment }) => deploy.start(deployment),
    'deployments.stop': ({ deployment }) => deploy.stop(deployment),
    'deployments.rollback': ({ deployment }) => deploy.rollback(deployment),
    'deployments.promote': ({ deployment }) => deploy.promote(deployment),
    'deployments.delete': async ({ deployment }) => {
      await deploy.remove(deployment);
      return { ok: true as const };
    },
    'deployments.stats': ({ deployment }) => deploy.stats(deployment),
    'deployments.events': ({ deployment, limit }) => ({ items: deploy.events(deployment, limit) }),
    'deployments.logs': ({ deployment, ...page }) => deploy.logs(deployment, page),
    'deployments.predict': (input) => deploy.predict(input),
  });
}
