import type { MigrationSet } from '#platform/db';
import { evaluationsMigration } from './evaluations/schema';
import { llmEvalsMigration } from './llm/schema';
import { monitoringMigration } from './monitoring/schema';

/** Each part owns its migration versions: evaluations 1, LLM evals 2, monitoring 3; later ones go after 3. */
export const evalkitMigrations: MigrationSet = {
  owner: 'evalkit',
  tablePrefix: 'evalkit',
  migrations: [evaluationsMigration, llmEvalsMigration, monitoringMigration],
};
