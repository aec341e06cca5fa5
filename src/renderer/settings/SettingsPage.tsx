import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useLocation } from 'react-router';
import { ErrorBanner } from '../components/ErrorBanner';
import { CopyIcon, ExternalIcon, MonitorIcon, MoonIcon, SunIcon } from '../components/icons';
import { Card, cx, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { copyText } from '../lib/hooks';
import { THEMES, useTheme, type Theme } from '../lib/theme';
import { useToasts } from '../lib/toasts';
import { ApiKeysSection } from './ApiKeysSection';

export function SettingsPage() {
  const { hash } = useLocation();
  useEffect(() => {
    // Sidebar links such as /settings#api-keys land on their section.
    if (hash) document.getElementById(hash.slice(1))?.scrollIntoView({ block: 'start' });
  }, [hash]);
  return (
    <div className="max-w-4xl">
      <PageHeader title="Settings" description="Appearance, API keys and where this core keeps its data." />
      <div className="space-y-5">
        <AppearanceSection />
        <ApiKeysSection />
        <SystemSection />
      </div>
    </div>
  );
}

const THEME_OPTIONS: Record<Theme, { label: string; icon: typeof SunIcon }> = {
  light: { label: 'Light', icon: SunIcon },
  dark: { label: 'Dark', icon: MoonIcon },
  system: { label: 'System', icon: MonitorIcon },
};

function AppearanceSection() {
  const theme = useTheme((s) => s.theme);
  const setTheme = useTheme((s) => s.setTheme);
  return (
    <Card title="Appearance" id="appearance">
      <fieldset>
        <legend className="mb-2 text-zinc-600 dark:text-zinc-400">
          Theme — “System” follows your operating system.
        </legend>
        <div className="inline-flex rounded-lg border border-zinc-200 bg-zinc-100 p-0.5 dark:border-zinc-800 dark:bg-zinc-950">
          {THEMES.map((t) => {
            const { label, icon: Icon } = THEME_OPTIONS[t];
            return (
              <label
                key={t}
                className={cx(
                  'flex h-7 cursor-pointer items-center gap-1.5 rounded-md px-3 text-[12px] font-medium transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-indigo-500',
                  theme === t
                    ? 'bg-white text-zinc-900 shadow-sm dark:bg-zinc-800 dark:text-zinc-50'
                    : 'text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100',
                )}
              >
                <input
                  type="radio"
                  name="theme"
                  value={t}
                  checked={theme === t}
                  onChange={() => setTheme(t)}
                  className="sr-only"
                />
                <Icon width={14} height={14} />
                {label}
              </label>
            );
          })}
        </div>
      </fieldset>
    </Card>
  );
}

function SystemSection() {
  const api = useApi();
  const push = useToasts((s) => s.push);
  const status = useQuery({ queryKey: queryKeys.status, queryFn: () => api.call('system.status'), staleTime: 30_000 });
  const docsUrl = new URL('/docs', api.baseUrl).toString();
  const copy = async (text: string) => {
    const ok = await copyText(text);
    push(
      ok
        ? { tone: 'success', title: 'Copied' }
        : { tone: 'error', title: 'Could not copy', message: 'Select the text and copy it by hand.' },
    );
  };
  return (
    <Card title="Core and data" id="system">
      {status.isError && <ErrorBanner className="mb-3" error={status.error} onRetry={() => void status.refetch()} />}
      {status.isPending && (
        <p className="flex items-center gap-2 text-zinc-500">
          <Spinner /> Loading…
        </p>
      )}
      {status.data && (
        <dl className="grid grid-cols-[10rem_1fr] gap-x-4 gap-y-2">
          <dt className="text-zinc-500 dark:text-zinc-400">Data directory</dt>
          <dd className="flex min-w-0 items-center gap-2">
            <code className="truncate font-mono text-[12px] text-zinc-900 dark:text-zinc-100" data-testid="data-dir">
              {status.data.dataDir}
            </code>
            <button
              type="button"
              aria-label="Copy the data directory"
              onClick={() => void copy(status.data.dataDir)}
              className="rounded p-1 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700 dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
            >
              <CopyIcon width={14} height={14} />
            </button>
          </dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Local token</dt>
          <dd>
            <code className="font-mono text-[12px]">{status.data.dataDir.replace(/[\\/]+$/, '')}/token</code>
          </dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Server</dt>
          <dd className="font-mono text-[12px]">{status.data.url}</dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Version</dt>
          <dd>
            AI-DOS {status.data.version} · Node {status.data.node} · {status.data.platform} · pid {status.data.pid}
          </dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Started</dt>
          <dd>{formatDateTime(status.data.startedAt)}</dd>
        </dl>
      )}
      <div className="mt-4 flex flex-wrap gap-4 border-t border-zinc-200 pt-3 dark:border-zinc-800">
        <a
          href={docsUrl}
          target="_blank"
          rel="noreferrer"
          className="inline-flex items-center gap-1.5 font-medium text-indigo-600 hover:underline dark:text-indigo-400"
        >
          API documentation (/docs) <ExternalIcon width={14} height={14} />
        </a>
        <a
          href={new URL('/metrics', api.baseUrl).toString()}
          target="_blank"
          rel="noreferrer"
          className="inline-flex items-center gap-1.5 text-zinc-600 hover:underline dark:text-zinc-400"
        >
          Prometheus metrics <ExternalIcon width={14} height={14} />
        </a>
      </div>
    </Card>
  );
}
