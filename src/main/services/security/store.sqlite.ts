import type { Db } from '#platform/db';
import type { ApiKeyScope } from '#shared/api/endpoint';
import type { ApiKeyStore, StoredApiKey } from './store';

interface Row {
  id: string;
  name: string;
  prefix: string;
  secret_sha256: string;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

function fromRow(r: Row): StoredApiKey {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    secretSha256: r.secret_sha256,
    scopes: JSON.parse(r.scopes) as ApiKeyScope[],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export class SqliteApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: Db) {}

  insert(k: StoredApiKey): void {
    this.db
      .prepare(
        `INSERT INTO security_api_keys (id, name, prefix, secret_sha256, scopes, created_at, last_used_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.id, k.name, k.prefix, k.secretSha256, JSON.stringify(k.scopes), k.createdAt, k.lastUsedAt, k.revokedAt);
  }

  get(id: string): StoredApiKey | undefined {
    const row = this.db.prepare('SELECT * FROM security_api_keys WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(options: { includeRevoked: boolean }): StoredApiKey[] {
    const sql = `SELECT * FROM security_api_keys ${options.includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY id DESC`;
    return (this.db.prepare(sql).all() as Row[]).map(fromRow);
  }

  revoke(id: string, at: number): boolean {
    return (
      this.db.prepare('UPDATE security_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id)
        .changes === 1
    );
  }

  touch(id: string, at: number): void {
    this.db.prepare('UPDATE security_api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  countActive(): number {
    return (
      this.db.prepare('SELECT COUNT(*) AS n FROM security_api_keys WHERE revoked_at IS NULL').get() as { n: number }
    ).n;
  }
}
