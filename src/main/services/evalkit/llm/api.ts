import type { z } from 'zod';
import type {
  LlmRun,
  LlmRunInput,
  LlmRunSummary,
  LlmSuite,
  LlmSuiteInput,
  LlmSuiteSummary,
} from '#shared/contracts/evalkit-llm';

export type SuiteSpec = z.output<typeof LlmSuiteInput>;

/** EvalKit's LLM eval suites, cases and matrix runs, as other services and the routes see them. */
export interface LlmEvalsService {
  listSuites(): LlmSuiteSummary[];
  /** By id or name; NOT_FOUND otherwise. */
  getSuite(ref: string): LlmSuite;
  /** CONFLICT when the name is taken. The spec was validated by its schema (fields, regexes, JSON schemas, variables). */
  createSuite(spec: SuiteSpec): LlmSuite;
  /** Replaces the whole suite (a rename too); runs keep the copy of the suite they ran. */
  updateSuite(ref: string, spec: SuiteSpec): LlmSuite;
  /** Deletes the suite and its runs. */
  deleteSuite(ref: string): void;
  /**
   * Queues a run of every prompt × model × case. INVALID_ARGUMENT naming the field when a model is not a GGUF chat
   * deployment, or an assertion's `embedder` (`grader`) is not an embedding (chat) deployment; nothing is stored then.
   * Once running, a model that fails to answer makes failed cells with its error, not a failed run.
   */
  createRun(input: z.output<typeof LlmRunInput>): LlmRunSummary;
  /** Newest first. */
  listRuns(query: { suite?: string | undefined; limit: number }): LlmRunSummary[];
  /** Every stored cell, with totals per prompt × model. */
  getRun(id: string): LlmRun;
}
