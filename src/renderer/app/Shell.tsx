import { useQuery } from '@tanstack/react-query';
import { Link, NavLink, Outlet } from 'react-router';
import { useWhoami } from '../auth/useWhoami';
import { DashboardIcon, JobsIcon, Logo, SettingsIcon, SignOutIcon, type IconProps } from '../components/icons';
import { Toasts } from '../components/Toasts';
import { cx } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { useEventStream } from '../lib/events';
import { useSession } from '../lib/session';
import { pagesOf } from '../services/registry';
import { ConnectionBadge } from './ConnectionBadge';
import type { ComponentType } from 'react';

const MAIN_NAV: { to: string; label: string; icon: ComponentType<IconProps>; end?: boolean }[] = [
  { to: '/', label: 'Dashboard', icon: DashboardIcon, end: true },
  { to: '/tasks', label: 'Background tasks', icon: JobsIcon },
  { to: '/settings', label: 'Settings', icon: SettingsIcon },
];

function navClass({ isActive }: { isActive: boolean }): string {
  return cx(
    'flex h-8 items-center gap-2.5 rounded-md px-2.5 font-medium transition-colors',
    isActive
      ? 'bg-zinc-200/70 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50'
      : 'text-zinc-600 hover:bg-zinc-200/40 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800/60 dark:hover:text-zinc-100',
  );
}

/** The frame of the signed-in app: sidebar, live event stream, and the page. */
export function Shell() {
  const api = useApi();
  const token = useSession((s) => s.token) ?? '';
  useEventStream(api, token);

  return (
    <div className="flex h-full">
      <aside className="flex w-56 shrink-0 flex-col border-r border-zinc-200 bg-zinc-100/70 dark:border-zinc-800 dark:bg-zinc-900/50">
        <div className="flex h-12 items-center gap-2.5 px-4">
          <Logo />
          <span className="font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">AI-DOS</span>
        </div>
        <nav aria-label="Main" className="flex flex-1 flex-col gap-0.5 overflow-y-auto px-2 py-2">
          {MAIN_NAV.map(({ to, label, icon: Icon, end }) => (
            <NavLink key={to} to={to} end={end} className={navClass}>
              <Icon className="shrink-0 opacity-80" />
              {label}
            </NavLink>
          ))}
          <ServicesNav />
        </nav>
        <SidebarFooter />
      </aside>
      <main className="min-w-0 flex-1 overflow-y-auto">
        <div className="mx-auto max-w-7xl px-6 py-6">
          <Outlet />
        </div>
      </main>
      <Toasts />
    </div>
  );
}

/** The running platform services that have a page in this renderer (services/registry.ts). */
function ServicesNav() {
  const api = useApi();
  const services = useQuery({
    queryKey: queryKeys.services,
    queryFn: () => api.call('system.services'),
    staleTime: 5 * 60_000,
  });
  const withPages = (services.data?.items ?? []).flatMap((s) => pagesOf(s.name).map((page) => ({ service: s, page })));
  if (services.isError) {
    return (
      <p role="alert" className="mt-4 px-2.5 text-[12px] text-red-600 dark:text-red-400">
        Could not list services: {services.error.message}
      </p>
    );
  }
  if (withPages.length === 0) return null;
  return (
    <div className="mt-5">
      <h3 className="px-2.5 pb-1 text-[11px] font-semibold tracking-wider text-zinc-400 uppercase dark:text-zinc-500">
        Services
      </h3>
      {withPages.map(({ service, page }) => {
        const content = (
          <>
            <page.icon className="shrink-0 opacity-80" />
            <span className="truncate">{page.label}</span>
            <span className="ml-auto text-[11px] font-normal text-zinc-400 dark:text-zinc-500">{service.name}</span>
          </>
        );
        // A link into another page (API keys → Settings) is never the open one: that page's own entry is.
        return page.element ? (
          <NavLink key={page.to} to={page.to} className={navClass} title={service.title}>
            {content}
          </NavLink>
        ) : (
          <Link key={page.to} to={page.to} className={navClass({ isActive: false })} title={service.title}>
            {content}
          </Link>
        );
      })}
    </div>
  );
}

function SidebarFooter() {
  const whoami = useWhoami();
  const desktop = useSession((s) => s.source === 'desktop');
  const signOut = useSession((s) => s.signOut);
  const api = useApi();
  const endSession = () => {
    // Expire the GET-only session cookie too; sign out locally whatever the server answers.
    void api
      .call('auth.endSession')
      .catch(() => undefined)
      .finally(() => signOut('You signed out.'));
  };
  const who = whoami.data
    ? whoami.data.kind === 'local-token'
      ? 'Local token'
      : `API key · ${whoami.data.name}`
    : '…';
  return (
    <div className="space-y-2 border-t border-zinc-200 px-3 py-3 dark:border-zinc-800">
      <ConnectionBadge />
      <div className="flex items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate text-[12px] font-medium text-zinc-700 dark:text-zinc-300" data-testid="whoami">
            {who}
          </p>
          {whoami.data && (
            <p className="truncate text-[11px] text-zinc-500 dark:text-zinc-500" title={whoami.data.scopes.join(', ')}>
              {whoami.data.scopes.join(' · ')}
            </p>
          )}
        </div>
        {!desktop && (
          <button
            type="button"
            onClick={endSession}
            className="inline-flex shrink-0 items-center gap-1 rounded-md px-2 py-1 text-[12px] whitespace-nowrap text-zinc-600 hover:bg-zinc-200/60 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
          >
            <SignOutIcon width={14} height={14} />
            Sign out
          </button>
        )}
      </div>
    </div>
  );
}
