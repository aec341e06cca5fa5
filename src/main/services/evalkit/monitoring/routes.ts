import type { RouteTable } from '#gateway/routes';
import type { monitoringEndpoints } from '#shared/contracts/evalkit-monitoring';
import type { MonitorsService } from './api';

export function monitoringRoutes(monitors: MonitorsService): RouteTable<typeof monitoringEndpoints> {
  return {
    'monitors.create': (input) => monitors.createMonitor(input),
    'monitors.list': ({ deployment }) => ({ items: monitors.listMonitors(deployment) }),
    'monitors.get': ({ monitor }) => monitors.getMonitor(monitor),
    'monitors.delete': ({ monitor }) => {
      monitors.deleteMonitor(monitor);
      return { ok: true as const };
    },
    'monitors.check': ({ monitor }) => monitors.queueCheck(monitor),
    'monitors.checks': ({ monitor, limit, cursor }) => monitors.checks(monitor, { limit, cursor }),
    'monitors.alerts': (query) => ({ items: monitors.alerts(query) }),
    'monitors.labels': ({ deployment, labels }) => ({ recorded: monitors.recordLabels(deployment, labels) }),
    'abTests.create': (input) => monitors.createAbTest(input),
    'abTests.list': () => ({ items: monitors.listAbTests() }),
    'abTests.results': ({ test }) => monitors.abResults(test),
    'abTests.delete': ({ test }) => {
      monitors.deleteAbTest(test);
      return { ok: true as const };
    },
    'abTests.outcomes': ({ test, outcomes }) => monitors.recordOutcomes(test, outcomes),
    'abTests.sampleSize': (input) => monitors.sampleSize(input),
  };
}
