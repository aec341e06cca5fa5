import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, type ReactNode } from 'react';
import { ErrorBanner } from '../components/ErrorBanner';
import { Logo } from '../components/icons';
import { Button, Spinner } from '../components/ui';
import { ApiContext, createApi, queryKeys } from '../lib/api';
import { useSession } from '../lib/session';
import { toastError } from '../lib/toasts';
import { SignIn } from './SignIn';

/**
 * Shows the sign-in screen until there is a token the server accepts, then the app. Every 401 anywhere signs out
 * (see app/queryClient.ts), which lands back here with the reason on the sign-in screen.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const token = useSession((s) => s.token);
  const baseUrl = useSession((s) => s.baseUrl);
  const queryClient = useQueryClient();
  useEffect(() => {
    // Nothing fetched with the old credentials may show after signing out.
    if (!token) queryClient.clear();
  }, [token, queryClient]);
  if (!token) return <SignIn />;
  return (
    <SignedIn key={token} baseUrl={baseUrl} token={token}>
      {children}
    </SignedIn>
  );
}

function SignedIn({ baseUrl, token, children }: { baseUrl: string; token: string; children: ReactNode }) {
  const api = useMemo(() => createApi(baseUrl, token), [baseUrl, token]);
  const desktop = useSession((s) => s.source === 'desktop');
  const signOut = useSession((s) => s.signOut);
  const whoami = useQuery({
    queryKey: queryKeys.whoami(token),
    queryFn: () => api.call('auth.whoami'),
    staleTime: 60_000,
  });
  // The session cookie signs in what the page loads itself (images and files by URL, /docs in a tab); the
  // desktop window shows the core's own origin too, so it needs the cookie as much as a browser does.
  const session = useQuery({
    queryKey: queryKeys.session(token),
    queryFn: () => api.call('auth.session'),
    enabled: whoami.isSuccess,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  useEffect(() => {
    if (session.error) toastError(session.error, 'The API docs link will ask for credentials');
  }, [session.error]);

  if (whoami.isPending) {
    return (
      <Centered>
        <Spinner />
        <p className="text-zinc-500 dark:text-zinc-400">Connecting to {baseUrl}…</p>
      </Centered>
    );
  }
  if (whoami.isError) {
    return (
      <Centered>
        <div className="w-full max-w-lg space-y-3">
          <ErrorBanner error={whoami.error} onRetry={() => void whoami.refetch()} />
          {!desktop && (
            <Button variant="ghost" onClick={() => signOut()}>
              Use another token
            </Button>
          )}
        </div>
      </Centered>
    );
  }
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

function Centered({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-full flex-col items-center justify-center gap-4 px-4">
      <Logo />
      {children}
    </div>
  );
}
