/** Where the deployment pages live: the list at /deployments, one deployment on the same route (`?deployment=`). */

export const DEPLOYMENTS_PATH = '/deployments';

export const DEPLOYMENT_TABS = ['overview', 'playground', 'requests', 'code'] as const;
export type DeploymentTab = (typeof DEPLOYMENT_TABS)[number];

export function isDeploymentTab(value: string | null): value is DeploymentTab {
  return value !== null && (DEPLOYMENT_TABS as readonly string[]).includes(value);
}

export function deploymentPath(name: string, tab?: DeploymentTab): string {
  const params = new URLSearchParams({ deployment: name });
  if (tab && tab !== 'overview') params.set('tab', tab);
  return `${DEPLOYMENTS_PATH}?${params.toString()}`;
}
