// Regenerates the committed schema snapshot (src/main/core/schema.sql) from the migrations.
// Run after adding a migration: npm run schema
import { writeFileSync } from 'node:fs';
import { schemaPath, schemaFromMigrations } from '#core/schema';

writeFileSync(schemaPath, schemaFromMigrations());
console.log(`wrote ${schemaPath}`);
