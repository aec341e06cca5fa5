import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaFromMigrations, schemaPath } from './schema';

describe('schema snapshot', () => {
  it('matches what the migrations produce (run "npm run schema" after adding a migration)', () => {
    expect(schemaFromMigrations()).toBe(readFileSync(schemaPath, 'utf8'));
  });
});
