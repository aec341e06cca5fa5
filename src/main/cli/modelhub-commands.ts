import type { Command } from 'commander';
import type { Run } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import type { Connection } from './connection';
import { formatTime, printTable } from './output';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
}

/** An experiment id ("3") or name, as the id the API takes. */
async function experimentId(c: Connection, ref: string): Promise<string> {
  if (/^\d+$/.test(ref)) return ref;
  const found = await c.client.call('experiments.list', { filter: `name = '${ref.replaceAll("'", "''")}'` });
  const e = found.items[0];
  if (!e) throw new AppError('NOT_FOUND', `no experiment named '${ref}'`);
  return e.id;
}

async function allExperimentIds(c: Connection): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = await c.client.call('experiments.list', { limit: 1000, pageToken });
    ids.push(...page.items.map((e) => e.id));
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken && ids.length < 100);
  return ids.slice(0, 100);
}

function metricText(v: number | string): string {
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : v;
}

function duration(run: Run): string | null {
  const end = run.info.endTime ?? (run.info.status === 'RUNNING' ? Date.now() : null);
  if (end === null) return null;
  const s = Math.max(0, Math.round((end - run.info.startTime) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
}

/** `aidos runs …` and `aidos models …`: experiment runs and the model registry. */
export function addModelhubCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('experiment runs: list, show, compare');
  runs
    .command('list')
    .description("list runs, newest first; --filter takes MLflow's filter language")
    .option('-e, --experiment <name or id>', 'only this experiment (default: every active one)')
    .option('-f, --filter <filter>', 'e.g. "metrics.acc > 0.9 and params.lr = \'0.01\'"', '')
    .option('-o, --order-by <clause...>', 'e.g. "metrics.acc DESC"')
    .option('-m, --metrics <keys>', 'metric columns to show, comma-separated (default: the first three)')
    .option('-n, --limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { experiment?: string; filter: string; orderBy?: string[]; metrics?: string; limit: number }) => {
      const c = ctx.conn();
      const experimentIds = o.experiment ? [await experimentId(c, o.experiment)] : await allExperimentIds(c);
      const page = await c.client.call('runs.search', {
        experimentIds,
        filter: o.filter,
        orderBy: o.orderBy ?? [],
        limit: o.limit,
      });
      const keys =
        o.metrics?.split(',').map((k) => k.trim()) ??
        [...new Set(page.items.flatMap((r) => r.metrics.map((m) => m.key)))].slice(0, 3);
      ctx.out(page, () =>
        printTable(
          page.items.map((r) => ({
            run: r.info.id,
            name: r.info.name,
            experiment: r.info.experimentId,
            status: r.info.status,
            started: formatTime(r.info.startTime),
            took: duration(r),
            ...Object.fromEntries(
              keys.map((k) => {
                const m = r.metrics.find((x) => x.key === k);
                return [k, m ? metricText(m.value) : null];
              }),
            ),
          })),
          'no runs match',
        ),
      );
    });
  runs
    .command('show <run>')
    .description("a run's status, params, latest metrics, tags and dataset inputs")
    .action(async (id: string) => {
      const run = await ctx.conn().client.call('runs.get', { run: id });
      ctx.out(run, () => {
        const i = run.info;
        console.log(`${i.name} (${i.id}) in experiment ${i.experimentId}`);
        console.log(
          `status ${i.status}, started ${formatTime(i.startTime)}, took ${duration(run) ?? '-'}, by ${i.userId || '-'}`,
        );
        console.log(`artifacts ${i.artifactUri}`);
        const section = (title: string, rows: Record<string, string | number | null>[]) => {
          console.log(`\n${title}`);
          printTable(rows, '  (none)');
        };
        section(
          'params',
          run.params.map((p) => ({ key: p.key, value: p.value })),
        );
        section(
          'metrics (latest)',
          run.metrics.map((m) => ({
            key: m.key,
            value: metricText(m.value),
            step: m.step,
            time: formatTime(m.timestamp),
          })),
        );
        section(
          'tags',
          run.tags.filter((t) => !t.key.startsWith('mlflow.log-model')).map((t) => ({ key: t.key, value: t.value })),
        );
        section(
          'inputs',
          run.inputs.map((d) => ({ name: d.name, digest: d.digest, source: d.source })),
        );
      });
    });
  runs
    .command('compare <runs...>')
    .description('params and latest metrics of several runs side by side; rows that differ are marked *')
    .action(async (ids: string[]) => {
      if (ids.length < 2) throw AppError.invalid('runs', 'compare needs two runs or more');
      const c = ctx.conn();
      const all = await Promise.all(ids.map((run) => c.client.call('runs.get', { run })));
      ctx.out(all, () => {
        const rows: Record<string, string | number | null>[] = [];
        const addRows = (kind: string, keys: string[], valueOf: (r: Run, k: string) => string | null) => {
          for (const k of keys) {
            const values = all.map((r) => valueOf(r, k));
            rows.push({
              '': new Set(values).size > 1 ? '*' : '',
              kind,
              key: k,
              ...Object.fromEntries(all.map((r, n) => [r.info.name || (ids[n] as string), values[n] ?? null])),
            });
          }
        };
        const paramKeys = [...new Set(all.flatMap((r) => r.params.map((p) => p.key)))].sort();
        const metricKeys = [...new Set(all.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
        addRows('param', paramKeys, (r, k) => r.params.find((p) => p.key === k)?.value ?? null);
        addRows('metric', metricKeys, (r, k) => {
          const m = r.metrics.find((x) => x.key === k);
          return m ? metricText(m.value) : null;
        });
        printTable(rows, 'nothing to compare');
      });
    });

  const models = program.command('models').description('the model registry: models, versions, aliases');
  models
    .command('list')
    .description('registered models with their aliases')
    .option('-f, --filter <filter>', 'e.g. "name LIKE \'digits%\'"')
    .action(async (o: { filter?: string }) => {
      const page = await ctx.conn().client.call('models.list', { filter: o.filter, limit: 1000 });
      ctx.out(page, () =>
        printTable(
          page.items.map((m) => ({
            name: m.name,
            latest: m.latestVersions.length > 0 ? Math.max(...m.latestVersions.map((v) => v.version)) : null,
            aliases: m.aliases.map((a) => `${a.alias}=v${a.version}`).join(' ') || null,
            updated: formatTime(m.updatedAt),
            description: m.description || null,
          })),
          'no registered models',
        ),
      );
    });
  models
    .command('versions <name>')
    .description("a model's versions with format, source run and aliases")
    .action(async (name: string) => {
      const page = await ctx.conn().client.call('models.versions', { name });
      ctx.out(page, () =>
        printTable(
          page.items.map((v) => ({
            version: v.version,
            aliases: v.aliases.join(',') || null,
            format: v.format,
            stage: v.stage === 'None' ? null : v.stage,
            run: v.runId,
            created: formatTime(v.createdAt),
            description: v.description || null,
          })),
          'no versions',
        ),
      );
    });
  models
    .command('alias <name> <alias> [version]')
    .description(
      'point an alias at a version (or show where it points; --delete removes it; --history shows its moves)',
    )
    .option('--delete', 'remove the alias')
    .option('--history', 'every move of this alias: version, when, by whom')
    .action(
      async (name: string, alias: string, version: string | undefined, o: { delete?: boolean; history?: boolean }) => {
        const c = ctx.conn();
        if (o.history) {
          const history = await c.client.call('models.history', { name });
          const moves = history.items.filter((h) => h.kind === 'alias' && h.name === alias);
          ctx.out(moves, () =>
            printTable(
              moves.map((h) => ({
                at: formatTime(h.at),
                version: h.version,
                previous: h.previousVersion,
                by: h.actor,
              })),
              `alias '${alias}' was never set`,
            ),
          );
          return;
        }
        if (o.delete) {
          const model = await c.client.call('models.deleteAlias', { name, alias });
          ctx.out(model, () => console.log(`${name}: removed alias ${alias}`));
          return;
        }
        if (version === undefined) {
          const v = await c.client.call('models.version', { name, version: alias });
          ctx.out(v, () => console.log(`${name}@${alias} = v${v.version} (${v.format}, ${v.source})`));
          return;
        }
        if (!/^\d+$/.test(version)) throw AppError.invalid('version', `'${version}' is not a version number`);
        const model = await c.client.call('models.setAlias', { name, alias, version: Number(version) });
        ctx.out(model, () => console.log(`${name}@${alias} = v${version}`));
      },
    );
}
