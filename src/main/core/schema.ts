import { fileURLToPath } from 'node:url';
import { openDatabase, runMigrations, schemaSnapshot } from '#platform/db';
import { allMigrations } from './core';

/** The committed snapshot of the schema every migration produces; reviewed with each schema change. */
export const schemaPath = fileURLToPath(new URL('./schema.sql', import.meta.url));

export function schemaFromMigrations(): string {
  const db = openDatabase(':memory:');
  try {
    runMigrations(db, allMigrations());
    return schemaSnapshot(db);
  } finally {
    db.close();
  }
}
