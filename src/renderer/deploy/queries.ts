import { useQueryClient } from '@tanstack/react-query';
import { deployEvents, type Deployment } from '#shared/contracts/deploy';
import { useLiveEvents } from '../experiments/live';

/**
 * DeployEngine's query keys, all under `['deploy']`. A deployment is kept under its name (the page's address):
 * the live event carries the whole deployment, so the list and the page are patched from it without a refetch.
 */
export const deployKeys = {
  all: ['deploy'] as const,
  list: ['deploy', 'list'] as const,
  one: (name: string) => ['deploy', 'one', name] as const,
  stats: (name: string) => ['deploy', 'stats', name] as const,
  events: (name: string) => ['deploy', 'events', name] as const,
  logs: (name: string) => ['deploy', 'logs', name] as const,
};

const UpdatedEvent = deployEvents['deploy.deployment.updated'];

/** Patches the deployments list and each deployment's page from `deploy.deployment.updated` as it arrives. */
export function useDeploymentUpdates(onUpdate?: (deployment: Deployment, deleted: boolean) => void): void {
  const queryClient = useQueryClient();
  useLiveEvents(
    (name) => name === 'deploy.deployment.updated',
    (event) => {
      const parsed = UpdatedEvent.safeParse(event.data);
      if (!parsed.success) return;
      const { deployment, deleted } = parsed.data;
      queryClient.setQueryData<{ items: Deployment[] }>(deployKeys.list, (list) => {
        if (!list) return list;
        const rest = list.items.filter((d) => d.id !== deployment.id);
        const items = deleted ? rest : [...rest, deployment].sort((a, b) => a.name.localeCompare(b.name));
        return { items };
      });
      if (deleted) queryClient.removeQueries({ queryKey: deployKeys.one(deployment.name) });
      else queryClient.setQueryData(deployKeys.one(deployment.name), deployment);
      // A state change is an event of the deployment's timeline.
      void queryClient.invalidateQueries({ queryKey: deployKeys.events(deployment.name) });
      onUpdate?.(deployment, deleted);
    },
  );
}
