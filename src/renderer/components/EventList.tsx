import type { EventEnvelope } from '#shared/contracts/system';
import type { Job } from '#shared/contracts/jobs';
import { formatBytes, formatPercent, formatTime, shortId } from '../lib/format';
import { cx } from './ui';

interface Described {
  text: string;
  tone: 'neutral' | 'good' | 'bad' | 'info' | 'warn';
}

/** One line per event kind; unknown kinds show their data, so a new event is never invisible. */
export function describeEvent(event: EventEnvelope): Described {
  const data = (event.data ?? {}) as Record<string, unknown>;
  if (event.name.startsWith('job.') && isJob(data.job)) {
    const job = data.job;
    const what = `${job.type} · ${shortId(job.id)}`;
    switch (event.name) {
      case 'job.progress':
        return {
          text: `${what} ${formatPercent(job.progress)}${job.progressMessage ? ` — ${job.progressMessage}` : ''}`,
          tone: 'info',
        };
      case 'job.failed':
        return { text: `${what}${job.error ? ` — ${job.error.message}` : ''}`, tone: 'bad' };
      case 'job.succeeded':
        return { text: what, tone: 'good' };
      case 'job.cancelled':
      case 'job.retrying':
        return { text: `${what}${job.error ? ` — ${job.error.message}` : ''}`, tone: 'warn' };
      default:
        return { text: what, tone: 'info' };
    }
  }
  if (event.name.startsWith('apikey.')) {
    const key = data.key as { name?: string; prefix?: string } | undefined;
    return {
      text: `${key?.name ?? '?'} (${key?.prefix ?? '?'}…)`,
      tone: event.name === 'apikey.revoked' ? 'warn' : 'neutral',
    };
  }
  if (event.name === 'blobs.collected') {
    return { text: `${String(data.removed)} blobs removed, ${formatBytes(Number(data.bytes))} freed`, tone: 'neutral' };
  }
  const named = describeNamed(event.name, data);
  if (named) return named;
  const json = JSON.stringify(event.data);
  return { text: json && json !== '{}' ? json.slice(0, 160) : '', tone: 'neutral' };
}

/** The record an event carries under `key`, when it has a string `name` (deployments, runs, jobs, datasets…). */
function record(data: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = data[key];
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
    ? (value as Record<string, unknown>)
    : undefined;
}

const STATE_TONE: Record<string, Described['tone']> = {
  ready: 'good',
  succeeded: 'good',
  finished: 'good',
  failed: 'bad',
  killed: 'bad',
  cancelled: 'warn',
  stopped: 'neutral',
};

/** The platform services' frequent events, as "what · state" rather than their JSON. */
function describeNamed(name: string, data: Record<string, unknown>): Described | undefined {
  const stateful = (what: Record<string, unknown> | undefined, field: 'state' | 'status'): Described | undefined => {
    if (!what) return undefined;
    const state = typeof what[field] === 'string' ? (what[field] as string).toLowerCase() : '';
    const deleted = data.deleted === true ? ' · deleted' : '';
    return { text: `${String(what.name)}${state ? ` · ${state}` : ''}${deleted}`, tone: STATE_TONE[state] ?? 'info' };
  };
  switch (name) {
    case 'deploy.deployment.updated':
      return stateful(record(data, 'deployment'), 'state');
    case 'training.job.updated':
      return stateful(record(data, 'job'), 'state');
    case 'training.sweep.updated':
      return stateful(record(data, 'sweep'), 'state');
    case 'run.created':
    case 'run.updated':
      return stateful(record(data, 'run'), 'status');
    case 'run.metrics':
      return typeof data.runId === 'string' && Array.isArray(data.keys)
        ? { text: `run ${shortId(data.runId)} · ${data.keys.join(', ')}`, tone: 'neutral' }
        : undefined;
    case 'experiment.created':
      return stateful(record(data, 'experiment'), 'state');
    case 'dataset.created':
      return stateful(record(data, 'dataset'), 'state');
    case 'model.created':
      return typeof data.name === 'string' ? { text: data.name, tone: 'neutral' } : undefined;
    case 'model.version.created':
      return typeof data.name === 'string'
        ? { text: `${data.name} v${String(data.version)}`, tone: 'neutral' }
        : undefined;
    case 'model.alias.moved':
      return typeof data.name === 'string' && typeof data.alias === 'string'
        ? {
            text: `${data.name} @${data.alias} → ${data.version === null ? 'removed' : `v${String(data.version)}`}`,
            tone: 'neutral',
          }
        : undefined;
    default:
      return undefined;
  }
}

function isJob(value: unknown): value is Job {
  return typeof value === 'object' && value !== null && 'id' in value && 'type' in value && 'status' in value;
}

const DOT: Record<Described['tone'], string> = {
  neutral: 'bg-zinc-400',
  good: 'bg-emerald-500',
  bad: 'bg-red-500',
  info: 'bg-sky-500',
  warn: 'bg-amber-500',
};

export function EventList({ events }: { events: readonly EventEnvelope[] }) {
  return (
    <ol className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
      {events.map((event) => {
        const d = describeEvent(event);
        return (
          <li
            key={event.id}
            data-testid="event"
            data-event-name={event.name}
            className="flex items-baseline gap-3 px-4 py-1.5"
          >
            <span className={cx('relative top-[-1px] size-1.5 shrink-0 rounded-full', DOT[d.tone])} />
            <span className="w-16 shrink-0 font-mono text-[11px] text-zinc-500 tabular-nums dark:text-zinc-500">
              {formatTime(event.at)}
            </span>
            <span
              className="w-48 shrink-0 truncate font-mono text-[12px] text-zinc-800 dark:text-zinc-200"
              title={event.name}
            >
              {event.name}
            </span>
            <span className="min-w-0 flex-1 truncate text-zinc-600 dark:text-zinc-400" title={d.text}>
              {d.text}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
