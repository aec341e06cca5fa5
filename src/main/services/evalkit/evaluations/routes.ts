import type { RouteTable } from '#gateway/routes';
import type { evaluationEndpoints } from '#shared/contracts/evalkit-evaluations';
import type { EvaluationsService } from './api';

export function evaluationRoutes(evaluations: EvaluationsService): RouteTable<typeof evaluationEndpoints> {
  return {
    'evaluations.create': (input) => evaluations.create(input),
    'evaluations.list': (query) => ({ items: evaluations.list(query) }),
    'evaluations.get': ({ id }) => evaluations.get(id),
    'evaluationGates.list': ({ model }) => ({ items: evaluations.gates(model) }),
    'evaluationGates.set': (input) => evaluations.setGate(input),
    'evaluationGates.delete': ({ id }) => {
      evaluations.deleteGate(id);
      return { ok: true as const };
    },
    'evaluationGates.status': ({ model, version }) => evaluations.gateStatus(model, version),
    'benchmarks.create': (input) => evaluations.createBenchmark(input),
    'benchmarks.list': (query) => ({ items: evaluations.listBenchmarks(query) }),
    'benchmarks.get': ({ id }) => evaluations.getBenchmark(id),
  };
}
