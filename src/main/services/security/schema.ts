import type { MigrationSet } from '#platform/db';

export const securityMigrations: MigrationSet = {
  owner: 'security',
  tablePrefix: 'security',
  migrations: [
    {
      version: 1,
      name: 'api keys',
      sql: `
CREATE TABLE security_api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;`,
    },
  ],
};
