import { userInfo } from 'node:os';
import type { z } from 'zod';
import type { ApiKeyScope } from '#shared/api/endpoint';
import type { ApiKey, CreateApiKey } from '#shared/contracts/security';

export { securityEndpoints, securityEvents, ApiKey, CreateApiKey } from '#shared/contracts/security';

/** Who a request acts for. The local token is the machine's owner and holds every scope. */
export interface Principal {
  kind: 'local-token' | 'api-key';
  keyId: string | null;
  name: string;
  scopes: ApiKeyScope[];
}

/** Who acted, for records (version authors, annotators, alias moves): the OS user for the local token, else the API key's name. */
export function actorOf(principal: Principal | null): string {
  return principal?.kind === 'api-key' ? `key:${principal.name}` : userInfo().username;
}

/**
 * Security: credentials of the core. The local token lives in `<dataDir>/token` (mode 0600) and is made on
 * first start; API keys are stored as sha256 hashes of their secret, which is shown once at creation.
 */
export interface SecurityService {
  /** The local token's file; its content is the token. */
  readonly localTokenFile: string;
  /** Resolves a bearer credential, or throws UNAUTHENTICATED naming what is wrong. */
  authenticate(credential: string): Principal;
  createKey(input: z.output<typeof CreateApiKey>): { key: ApiKey; secret: string };
  listKeys(options: { includeRevoked: boolean }): ApiKey[];
  revokeKey(id: string): ApiKey;
  /** Whether any API key is active: binding beyond loopback needs one. */
  hasActiveKeys(): boolean;
}

export function hasScope(principal: Principal, needed: ApiKeyScope): boolean {
  if (principal.scopes.includes('admin')) return true;
  if (needed === 'read') return principal.scopes.length > 0;
  return principal.scopes.includes(needed);
}
