import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { AppError } from '#shared/errors';
import { describeError, isUnauthenticated } from '../lib/errors';
import { useSession } from '../lib/session';

/** Mutations that handle a 401 themselves (the sign-in form) say so in their meta. */
export interface AuthMeta extends Record<string, unknown> {
  handlesUnauthenticated?: boolean;
}

/** Any 401 means the token stopped working (revoked key, new data dir): back to sign-in, saying why. */
function onError(error: unknown, meta: AuthMeta | undefined): void {
  if (!isUnauthenticated(error) || meta?.handlesUnauthenticated) return;
  if (!useSession.getState().token) return;
  useSession
    .getState()
    .signOut(`The server no longer accepts your credentials (${describeError(error).message}). Sign in again.`);
}

/** Client errors (4xx) are answers, not glitches: retrying them only delays the message. */
function shouldRetry(failures: number, error: unknown): boolean {
  const transient = ['INTERNAL', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'];
  if (error instanceof AppError && !transient.includes(error.code)) return false;
  return failures < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: (error, query) => onError(error, query.meta as AuthMeta | undefined) }),
    mutationCache: new MutationCache({
      onError: (error, _vars, _ctx, mutation) => onError(error, mutation.meta as AuthMeta | undefined),
    }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 5_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}
