import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { API_KEY_SCOPES, type ApiKeyScope } from '#shared/api/endpoint';
import type { ApiKey } from '#shared/contracts/security';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { AlertIcon, CopyIcon, KeyIcon } from '../components/icons';
import { Button, Card, Chip, cx, EmptyState, inputClass, inputClasses, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi, type Out } from '../lib/api';
import { formatDateTime, formatRelative } from '../lib/format';
import { copyText, useNow } from '../lib/hooks';
import { useToasts } from '../lib/toasts';

const SCOPE_HELP: Record<ApiKeyScope, string> = {
  read: 'view everything',
  write: 'also create and change (jobs, runs, datasets…)',
  admin: 'also manage API keys and settings',
};

/** API keys: create (the secret is shown once), list, revoke. Needs the `admin` scope; the local token has it. */
export function ApiKeysSection() {
  const api = useApi();
  const [showRevoked, setShowRevoked] = useState(false);
  const [created, setCreated] = useState<Out<'keys.create'> | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const keys = useQuery({
    queryKey: queryKeys.keys(showRevoked),
    queryFn: () => api.call('keys.list', { includeRevoked: showRevoked }),
  });

  return (
    <Card
      title="API keys"
      icon={<KeyIcon />}
      id="api-keys"
      bodyClassName="p-0"
      actions={
        <label className="flex items-center gap-1.5 text-[12px] text-zinc-600 dark:text-zinc-400">
          <input
            type="checkbox"
            checked={showRevoked}
            onChange={(e) => setShowRevoked(e.target.checked)}
            className="accent-indigo-600"
          />
          Show revoked
        </label>
      }
    >
      <p className="border-b border-zinc-200 px-4 py-3 text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
        Scripts, the Python SDK and other machines authenticate with an API key sent as{' '}
        <code className="font-mono text-[12px] text-zinc-800 dark:text-zinc-200">
          Authorization: Bearer &lt;key&gt;
        </code>
        . Keys are rate limited and can be revoked at any time.
      </p>
      <CreateKeyForm onCreated={setCreated} />
      {keys.isError && <ErrorBanner className="m-4" error={keys.error} onRetry={() => void keys.refetch()} />}
      {keys.isPending ? (
        <p className="flex items-center gap-2 px-4 py-6 text-zinc-500">
          <Spinner /> Loading keys…
        </p>
      ) : keys.data && keys.data.items.length === 0 ? (
        <EmptyState title="No API keys">Create one above for a script or another machine.</EmptyState>
      ) : keys.data ? (
        <KeysTable keys={keys.data.items} onRevoke={setRevoking} />
      ) : null}
      <SecretDialog created={created} onClose={() => setCreated(null)} />
      <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} />
    </Card>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (created: Out<'keys.create'>) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['read']);
  const create = useMutation({
    mutationFn: () => api.call('keys.create', { name: name.trim(), scopes }),
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.keysAll });
      setName('');
      setScopes(['read']);
      onCreated(result);
    },
  });
  const toggle = (scope: ApiKeyScope, on: boolean) =>
    setScopes((s) => (on ? API_KEY_SCOPES.filter((x) => x === scope || s.includes(x)) : s.filter((x) => x !== scope)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form
      onSubmit={submit}
      aria-label="Create an API key"
      className="border-b border-zinc-200 bg-zinc-50/60 px-4 py-3 dark:border-zinc-800 dark:bg-zinc-950/30"
    >
      <div className="flex flex-wrap items-end gap-x-5 gap-y-3">
        <div className="w-64">
          <label htmlFor="key-name" className="mb-1 block font-medium">
            Name
          </label>
          <input
            id="key-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. training-box, ci"
            maxLength={100}
            autoComplete="off"
            className={inputClass}
          />
        </div>
        <fieldset className="flex flex-col">
          <legend className="mb-1 font-medium">Scopes</legend>
          <div className="flex h-8 items-center gap-4">
            {API_KEY_SCOPES.map((scope) => (
              <label key={scope} className="flex items-center gap-1.5" title={SCOPE_HELP[scope]}>
                <input
                  type="checkbox"
                  name="scopes"
                  value={scope}
                  checked={scopes.includes(scope)}
                  onChange={(e) => toggle(scope, e.target.checked)}
                  className="accent-indigo-600"
                />
                <span className="capitalize">{scope}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <Button type="submit" variant="primary" disabled={!name.trim() || scopes.length === 0 || create.isPending}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </Button>
      </div>
      <p className="mt-2 text-[12px] text-zinc-500 dark:text-zinc-400">
        {scopes.length === 0
          ? 'Pick at least one scope.'
          : API_KEY_SCOPES.filter((s) => scopes.includes(s))
              .map((s) => `${s}: ${SCOPE_HELP[s]}`)
              .join(' · ')}
      </p>
      {create.isError && <ErrorBanner className="mt-3" error={create.error} title="The key was not created" />}
    </form>
  );
}

function KeysTable({ keys, onRevoke }: { keys: ApiKey[]; onRevoke: (key: ApiKey) => void }) {
  const now = useNow(10_000);
  return (
    <table className="w-full text-left" aria-label="API keys">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Name</th>
          <th className="px-4 py-2 font-medium">Key</th>
          <th className="px-4 py-2 font-medium">Scopes</th>
          <th className="px-4 py-2 font-medium">Created</th>
          <th className="px-4 py-2 font-medium">Last used</th>
          <th className="px-4 py-2">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {keys.map((key) => (
          <tr
            key={key.id}
            data-testid="api-key-row"
            data-key-id={key.id}
            className={cx(key.revokedAt !== null && 'opacity-60')}
          >
            <td className="px-4 py-2.5 font-medium text-zinc-900 dark:text-zinc-100">{key.name}</td>
            <td className="px-4 py-2.5 font-mono text-[12px]">{key.prefix}…</td>
            <td className="px-4 py-2.5">
              <span className="flex gap-1">
                {key.scopes.map((s) => (
                  <Chip key={s}>{s}</Chip>
                ))}
              </span>
            </td>
            <td className="px-4 py-2.5 whitespace-nowrap">{formatDateTime(key.createdAt)}</td>
            <td className="px-4 py-2.5 whitespace-nowrap">
              {key.lastUsedAt === null ? <Muted>never</Muted> : formatRelative(key.lastUsedAt, now)}
            </td>
            <td className="px-4 py-2.5 text-right">
              {key.revokedAt === null ? (
                <Button size="sm" onClick={() => onRevoke(key)} aria-label={`Revoke ${key.name}`}>
                  Revoke
                </Button>
              ) : (
                <span className="text-[12px] text-amber-700 dark:text-amber-400">
                  revoked {formatDateTime(key.revokedAt)}
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The only time a secret is shown: it must be copied now. */
function SecretDialog({ created, onClose }: { created: Out<'keys.create'> | null; onClose: () => void }) {
  const api = useApi();
  const push = useToasts((s) => s.push);
  const [copied, setCopied] = useState(false);
  const close = () => {
    setCopied(false);
    onClose();
  };
  const copy = async () => {
    if (!created) return;
    const ok = await copyText(created.secret);
    setCopied(ok);
    if (!ok) push({ tone: 'error', title: 'Could not copy', message: 'Select the secret and copy it by hand.' });
  };
  return (
    <Dialog
      open={created !== null}
      onClose={close}
      title={`API key “${created?.key.name ?? ''}” created`}
      testId="secret-dialog"
      footer={
        <Button variant="primary" onClick={close}>
          I have saved it
        </Button>
      }
    >
      <p className="flex items-start gap-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-900/60 dark:bg-amber-950/50 dark:text-amber-200">
        <AlertIcon className="mt-0.5 shrink-0" />
        <span>
          Copy the secret now. It is shown only this once: AI-DOS keeps only a hash of it, so it cannot be shown again.
        </span>
      </p>
      <div className="flex items-center gap-2">
        <input
          readOnly
          value={created?.secret ?? ''}
          aria-label="Secret"
          data-testid="secret-value"
          onFocus={(e) => e.currentTarget.select()}
          className={inputClasses({ mono: true })}
        />
        <Button onClick={() => void copy()}>
          <CopyIcon width={14} height={14} />
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      <p className="text-[12px] text-zinc-500 dark:text-zinc-400">
        Try it:{' '}
        <code className="font-mono break-all">
          curl -H "Authorization: Bearer $AIDOS_API_KEY" {new URL('/api/v1/auth/whoami', api.baseUrl).toString()}
        </code>
      </p>
    </Dialog>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKey | null; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const revoke = useMutation({
    mutationFn: (id: string) => api.call('keys.revoke', { id }),
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.keysAll });
      push({ tone: 'success', title: `Revoked “${key.name}”` });
      close();
    },
  });
  function close() {
    revoke.reset();
    onClose();
  }
  return (
    <Dialog
      open={apiKey !== null}
      onClose={close}
      title="Revoke API key?"
      testId="revoke-dialog"
      footer={
        <>
          <Button onClick={close}>Keep it</Button>
          <Button variant="danger" disabled={revoke.isPending} onClick={() => apiKey && revoke.mutate(apiKey.id)}>
            {revoke.isPending ? 'Revoking…' : 'Revoke key'}
          </Button>
        </>
      }
    >
      <p>
        Requests signed with <strong>{apiKey?.name}</strong> (
        <code className="font-mono text-[12px]">{apiKey?.prefix}…</code>) will be refused from now on. This cannot be
        undone.
      </p>
      {revoke.isError && <ErrorBanner error={revoke.error} title="The key was not revoked" />}
    </Dialog>
  );
}
