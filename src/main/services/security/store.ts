import type { ApiKeyScope } from '#shared/api/endpoint';

export interface StoredApiKey {
  id: string;
  name: string;
  prefix: string;
  secretSha256: string;
  scopes: ApiKeyScope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Persistence of API keys. Lists are ordered newest first. */
export interface ApiKeyStore {
  insert(key: StoredApiKey): void;
  get(id: string): StoredApiKey | undefined;
  list(options: { includeRevoked: boolean }): StoredApiKey[];
  /** Sets `revoked_at` if not yet set; returns whether it changed. */
  revoke(id: string, at: number): boolean;
  touch(id: string, at: number): void;
  countActive(): number;
}
