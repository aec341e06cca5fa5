import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AuthMeta } from '../app/queryClient';
import { ErrorBanner } from '../components/ErrorBanner';
import { Logo } from '../components/icons';
import { Button, inputClass } from '../components/ui';
import { createApi, queryKeys } from '../lib/api';
import { isUnauthenticated } from '../lib/errors';
import { useSession } from '../lib/session';

/**
 * Asks for the local token (or an API key) when the browser has none. The token is checked with `auth.whoami`
 * before it is kept, so a wrong one is refused here with the server's reason.
 */
export function SignIn() {
  const baseUrl = useSession((s) => s.baseUrl);
  const notice = useSession((s) => s.notice);
  const signIn = useSession((s) => s.signIn);
  const queryClient = useQueryClient();
  const [token, setToken] = useState('');
  const [reveal, setReveal] = useState(false);

  const verify = useMutation({
    meta: { handlesUnauthenticated: true } satisfies AuthMeta,
    mutationFn: async (candidate: string) => {
      const whoami = await createApi(baseUrl, candidate).call('auth.whoami');
      return { candidate, whoami };
    },
    onSuccess: ({ candidate, whoami }) => {
      queryClient.setQueryData(queryKeys.whoami(candidate), whoami);
      signIn(candidate);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const candidate = token.trim();
    if (candidate) verify.mutate(candidate);
  };

  return (
    <div className="flex min-h-full items-center justify-center bg-zinc-100 px-4 py-12 dark:bg-zinc-950">
      <div className="w-full max-w-md">
        <div className="mb-6 flex items-center gap-2.5">
          <Logo />
          <span className="text-base font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">AI-DOS</span>
        </div>
        <form
          onSubmit={submit}
          className="rounded-lg border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
          aria-labelledby="sign-in-title"
        >
          <h1 id="sign-in-title" className="text-lg font-semibold text-zinc-900 dark:text-zinc-50">
            Sign in
          </h1>
          <p className="mt-1 text-zinc-600 dark:text-zinc-400">
            Paste the local token of the AI-DOS core at <span className="font-mono text-[12px]">{baseUrl}</span>.
          </p>

          {notice && !verify.isError && (
            <p
              role="status"
              className="mt-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-900/60 dark:bg-amber-950/50 dark:text-amber-200"
            >
              {notice}
            </p>
          )}

          <label htmlFor="token" className="mt-5 block font-medium text-zinc-800 dark:text-zinc-200">
            Token or API key
          </label>
          <div className="mt-1.5 flex gap-2">
            <input
              id="token"
              name="token"
              type={reveal ? 'text' : 'password'}
              autoComplete="off"
              spellCheck={false}
              autoFocus
              value={token}
              onChange={(e) => setToken(e.target.value)}
              placeholder="aidos_…"
              className={`${inputClass} font-mono`}
            />
            <Button variant="ghost" onClick={() => setReveal((r) => !r)} aria-pressed={reveal}>
              {reveal ? 'Hide' : 'Show'}
            </Button>
          </div>

          {verify.isError && (
            <ErrorBanner
              className="mt-3"
              error={verify.error}
              title={isUnauthenticated(verify.error) ? 'That token was not accepted' : undefined}
            />
          )}

          <Button type="submit" variant="primary" className="mt-4 w-full" disabled={!token.trim() || verify.isPending}>
            {verify.isPending ? 'Checking…' : 'Sign in'}
          </Button>

          <div className="mt-5 space-y-1.5 border-t border-zinc-200 pt-4 text-[12px] text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
            <p>
              The local token is in{' '}
              <code className="font-mono text-zinc-700 dark:text-zinc-300">&lt;data dir&gt;/token</code>, by default{' '}
              <code className="font-mono text-zinc-700 dark:text-zinc-300">~/.aidos/token</code> (print it with{' '}
              <code className="font-mono text-zinc-700 dark:text-zinc-300">cat ~/.aidos/token</code>).
            </p>
            <p>An API key (aidos_sk_…) works too; it signs you in with that key's scopes.</p>
          </div>
        </form>
      </div>
    </div>
  );
}
