import type { MigrationSet } from '#platform/db';

/** An empty migration set named after a test service. */
export function migrationSetFor(name: string): MigrationSet {
  return { owner: name, tablePrefix: name, migrations: [] };
}
