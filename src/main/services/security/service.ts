import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { CreateApiKey } from '#shared/contracts/security';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { ApiKey, Principal, SecurityService } from './contract';
import type { ApiKeyStore, StoredApiKey } from './store';

const KEY_PREFIX = 'aidos_sk_';
const LOCAL_PREFIX = 'aidos_local_';
/** last_used_at is written at most this often per key, so a busy key does not turn reads into writes. */
const TOUCH_INTERVAL_MS = 1000;
/** Credentials whose digest is remembered: a SHA-256 a request was ~9% of a small request's CPU. */
const DIGEST_CACHE_SIZE = 64;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function toApiKey(k: StoredApiKey): ApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}

const UNAUTHENTICATED = 'the credentials are not valid: the token or API key is wrong or was revoked';

export class LocalSecurityService implements SecurityService {
  private readonly localTokenHash: Buffer;
  /**
   * SHA-256 of recently presented secrets that matched, oldest first. Only the digest is cached, never the
   * decision: revocation and scopes are read from the store on every request.
   */
  private readonly digests = new Map<string, Buffer>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    readonly localTokenFile: string,
  ) {
    this.localTokenHash = sha256(this.ensureLocalToken());
  }

  /** Reads the local token, making it on first start; tightens a file others could read. */
  private ensureLocalToken(): string {
    if (!existsSync(this.localTokenFile)) {
      const token = LOCAL_PREFIX + randomBytes(32).toString('base64url');
      writeFileSync(this.localTokenFile, token + '\n', { mode: 0o600, flag: 'wx' });
      this.logger.info({ file: this.localTokenFile }, 'created the local token');
      return token;
    }
    if ((statSync(this.localTokenFile).mode & 0o077) !== 0) {
      chmodSync(this.localTokenFile, 0o600);
      this.logger.warn({ file: this.localTokenFile }, 'the local token file was readable by others; set it to 0600');
    }
    const token = readFileSync(this.localTokenFile, 'utf8').trim();
    if (token.length < 32)
      throw new AppError(
        'FAILED_PRECONDITION',
        `${this.localTokenFile} holds no valid token; delete it to make a new one`,
      );
    return token;
  }

  authenticate(credential: string): Principal {
    if (credential.startsWith(KEY_PREFIX)) return this.authenticateKey(credential);
    const digest = this.digestOf(credential);
    if (timingSafeEqual(digest, this.localTokenHash)) {
      this.remember(credential, digest);
      return { kind: 'local-token', keyId: null, name: 'local token', scopes: ['read', 'write', 'admin'] };
    }
    throw new AppError('UNAUTHENTICATED', UNAUTHENTICATED);
  }

  private authenticateKey(credential: string): Principal {
    // aidos_sk_<id, lower case>_<secret>
    const rest = credential.slice(KEY_PREFIX.length);
    const sep = rest.indexOf('_');
    const id = sep > 0 ? rest.slice(0, sep).toUpperCase() : '';
    const stored = id ? this.store.get(id) : undefined;
    const secret = rest.slice(sep + 1);
    const presented = this.digestOf(secret);
    const expected = stored ? Buffer.from(stored.secretSha256, 'hex') : presented;
    const matches = timingSafeEqual(presented, expected);
    if (!stored || !matches) throw new AppError('UNAUTHENTICATED', UNAUTHENTICATED);
    this.remember(secret, presented);
    if (stored.revokedAt !== null) throw new AppError('UNAUTHENTICATED', `API key ${stored.prefix}… was revoked`);
    const now = Date.now();
    if (stored.lastUsedAt === null || now - stored.lastUsedAt >= TOUCH_INTERVAL_MS) this.store.touch(id, now);
    return { kind: 'api-key', keyId: stored.id, name: stored.name, scopes: stored.scopes };
  }

  private digestOf(secret: string): Buffer {
    return this.digests.get(secret) ?? sha256(secret);
  }

  private remember(secret: string, digest: Buffer): void {
    if (this.digests.has(secret)) return;
    if (this.digests.size >= DIGEST_CACHE_SIZE) this.digests.delete(this.digests.keys().next().value!);
    this.digests.set(secret, digest);
  }

  createKey(input: z.output<typeof CreateApiKey>): { key: ApiKey; secret: string } {
    const id = newId();
    const secret = `${KEY_PREFIX}${id.toLowerCase()}_${randomBytes(32).toString('base64url')}`;
    const stored: StoredApiKey = {
      id,
      name: input.name,
      prefix: secret.slice(0, KEY_PREFIX.length + 8),
      secretSha256: sha256(secret.slice(KEY_PREFIX.length + id.length + 1)).toString('hex'),
      scopes: [...new Set(input.scopes)],
      createdAt: Date.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    this.store.insert(stored);
    const key = toApiKey(stored);
    this.bus.emit('apikey.created', { key });
    return { key, secret };
  }

  listKeys(options: { includeRevoked: boolean }): ApiKey[] {
    return this.store.list(options).map(toApiKey);
  }

  revokeKey(id: string): ApiKey {
    const existing = this.store.get(id);
    if (!existing) throw AppError.notFound('API key', id);
    if (!this.store.revoke(id, Date.now())) {
      throw new AppError('FAILED_PRECONDITION', `API key ${existing.prefix}… is already revoked`);
    }
    const key = toApiKey(this.store.get(id) as StoredApiKey);
    this.bus.emit('apikey.revoked', { key });
    return key;
  }

  hasActiveKeys(): boolean {
    return this.store.countActive() > 0;
  }
}
