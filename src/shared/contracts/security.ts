import { z } from 'zod';
import { API_KEY_SCOPES, endpoint, noInput } from '../api/endpoint';
import { Id, QueryBool, Timestamp } from './common';

export const ApiKeyScope = z.enum(API_KEY_SCOPES);

export const ApiKey = z.object({
  id: Id,
  name: z.string(),
  /** The first characters of the key, enough to recognise it; the secret itself is never stored. */
  prefix: z.string(),
  scopes: z.array(ApiKeyScope),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreateApiKey = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100)
    .regex(/^[\w .@-]+$/, 'may hold letters, digits, spaces and . _ @ - only'),
  scopes: z.array(ApiKeyScope).min(1, 'needs at least one scope').default(['read']),
});

export const securityEndpoints = {
  'keys.create': endpoint({
    method: 'POST',
    path: '/api/v1/keys',
    summary: 'Create an API key; the secret is returned once and never again',
    scope: 'admin',
    input: CreateApiKey,
    output: z.object({ key: ApiKey, secret: z.string() }),
    status: 201,
  }),
  'keys.list': endpoint({
    method: 'GET',
    path: '/api/v1/keys',
    summary: 'List API keys (without secrets)',
    scope: 'admin',
    input: z.object({ includeRevoked: QueryBool.default(false) }),
    output: z.object({ items: z.array(ApiKey) }),
  }),
  'keys.revoke': endpoint({
    method: 'DELETE',
    path: '/api/v1/keys/:id',
    summary: 'Revoke an API key; requests with it fail from now on',
    scope: 'admin',
    input: z.object({ id: Id }),
    output: ApiKey,
  }),
  'auth.whoami': endpoint({
    method: 'GET',
    path: '/api/v1/auth/whoami',
    summary: 'Who the credentials in this request belong to, and their scopes',
    scope: 'read',
    input: noInput,
    output: z.object({
      kind: z.enum(['local-token', 'api-key']),
      keyId: Id.nullable(),
      name: z.string(),
      scopes: z.array(ApiKeyScope),
      /** The name recorded for what these credentials do (authors, annotators, alias moves). */
      actor: z.string(),
    }),
  }),
} as const;

export const securityEvents = {
  'apikey.created': z.object({ key: ApiKey }),
  'apikey.revoked': z.object({ key: ApiKey }),
} as const;
