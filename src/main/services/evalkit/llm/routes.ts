import type { RouteTable } from '#gateway/routes';
import type { llmEvalEndpoints } from '#shared/contracts/evalkit-llm';
import type { LlmEvalsService } from './api';

export function llmEvalRoutes(llm: LlmEvalsService): RouteTable<typeof llmEvalEndpoints> {
  return {
    'llmSuites.list': () => ({ items: llm.listSuites() }),
    'llmSuites.get': ({ suite }) => llm.getSuite(suite),
    'llmSuites.create': (spec) => llm.createSuite(spec),
    'llmSuites.update': ({ suite, ...spec }) => llm.updateSuite(suite, spec),
    'llmSuites.delete': ({ suite }) => {
      llm.deleteSuite(suite);
      return { ok: true as const };
    },
    'llmRuns.create': (input) => llm.createRun(input),
    'llmRuns.list': (query) => ({ items: llm.listRuns(query) }),
    'llmRuns.get': ({ id }) => llm.getRun(id),
  };
}
