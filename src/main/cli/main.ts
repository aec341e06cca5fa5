import { createHash } from 'node:crypto';
import { closeSync, createReadStream, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { ImportResult } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import { VERSION } from '#core/version';
import { connect, type Connection } from './connection';
import { addDeployCommands } from './deploy-commands';
import { addDriftCommands } from './drift-commands';
import { addEvalCommands } from './eval-commands';
import { addModelhubCommands } from './modelhub-commands';
import { formatBytes, formatTime, printTable } from './output';
import { progressBar } from './progress';
import { findRendererDir, serve } from './serve';
import { addTaskCommands, waitForTask } from './task-commands';
import { addTrainosCommands } from './trainos-commands';

interface GlobalFlags {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

const program = new Command('aidos')
  .description('AI-DOS: the AI development workstation')
  .version(VERSION)
  .option(
    '--url <url>',
    'server URL (default: AIDOS_URL, else the server running on the data dir, else http://127.0.0.1:8000)',
  )
  .option('--token <token>', 'token or API key (default: AIDOS_TOKEN, else the local token file)')
  .option('--data-dir <dir>', 'data directory (default: AIDOS_HOME or ~/.aidos)')
  .option('--json', 'print machine-readable JSON')
  .showHelpAfterError();

function flags(): GlobalFlags {
  return program.opts<GlobalFlags>();
}

let lastUrl: string | undefined;

function conn(): Connection {
  const c = connect(flags());
  lastUrl = c.url;
  return c;
}

function isJson(): boolean {
  return flags().json === true;
}

function out(value: unknown, human: () => void): void {
  if (isJson()) console.log(JSON.stringify(value, null, 2));
  else human();
}

/** What the command groups kept in their own files (tasks, ModelHub, TrainOS) need from the program. */
const context = { conn, out, json: isJson };

program
  .command('serve')
  .description('start the core headless: the REST API and the web UI')
  .option('-p, --port <port>', 'port (default 8000; 0 picks a free one)', (v) => Number.parseInt(v, 10))
  .option('--host <host>', 'address to bind (default 127.0.0.1)')
  .option('--allow-remote', 'allow binding beyond loopback (needs an API key)')
  .addOption(
    new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
  )
  .action(async (o: { port?: number; host?: string; allowRemote?: boolean; logLevel?: string }) => {
    const core = await serve({
      dataDir: flags().dataDir,
      port: o.port,
      host: o.host,
      allowRemote: o.allowRemote,
      logLevel: o.logLevel as 'info' | undefined,
      logToStderr: !flags().json,
    });
    const ui = findRendererDir() ? core.url : `${core.url} (API only: run "npm run build" for the UI)`;
    const ready = { url: core.url, tokenFile: core.localTokenFile, dataDir: core.dataDir, pid: process.pid };
    // One line, so a supervising process (tests, the desktop shell) can read it as soon as the server listens.
    if (flags().json) console.log(JSON.stringify(ready));
    else {
      console.log(`AI-DOS ${VERSION} is running`);
      console.log(`  UI:        ${ui}`);
      console.log(`  API docs:  ${core.url}/docs`);
      console.log(`  token:     ${core.localTokenFile} (send it as "Authorization: Bearer <token>")`);
      console.log(`  data dir:  ${core.dataDir}`);
      console.log('Press Ctrl+C to stop.');
    }
    // The first signal drains: new requests are refused, those under way get the grace to finish. A second one
    // cuts them off at once.
    const impatient = new AbortController();
    let closing = false;
    // What a person at the terminal reads (the log lines are for files and machines).
    const say = (line: string) => {
      if (!flags().json) console.error(line);
    };
    const shutdown = (signal: string) => {
      if (closing) {
        if (!impatient.signal.aborted) say('Stopping now.');
        impatient.abort();
        return;
      }
      closing = true;
      const graceSeconds = core.config.shutdownGraceSeconds;
      core.logger.info({ signal, graceSeconds }, 'shutting down: refusing new requests, finishing those under way');
      say(
        `Shutting down: new requests are refused; those under way get up to ${graceSeconds} s to finish (Ctrl+C again to stop now).`,
      );
      void (async () => {
        const left = await core.drain(graceSeconds * 1000, impatient.signal);
        if (left > 0) {
          core.logger.warn({ requests: left }, 'cutting off requests still under way');
          say(`Cutting off ${left} ${left === 1 ? 'request' : 'requests'} still under way.`);
        }
        await core.close();
        say('Stopped.');
        process.exit(0);
      })();
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });

program
  .command('status')
  .description('show the server, its version, data dir, GPUs and queue')
  .action(async () => {
    const c = conn();
    const [status, stats] = await Promise.all([c.client.call('system.status'), c.client.call('system.stats')]);
    out({ ...status, stats }, () => {
      console.log(
        `server    ${status.url} (pid ${status.pid}, up ${Math.round((Date.now() - status.startedAt) / 1000)}s)`,
      );
      console.log(`version   ${status.version} on Node ${status.node}, ${status.platform}`);
      console.log(`data dir  ${status.dataDir}`);
      console.log(`cpu       ${stats.cpu.model}, ${stats.cpu.cores} cores, ${stats.cpu.loadPercent}% load`);
      console.log(`memory    ${formatBytes(stats.memory.usedBytes)} of ${formatBytes(stats.memory.totalBytes)}`);
      if (stats.gpus.length === 0) console.log('gpus      none found (CPU-only mode)');
      for (const g of stats.gpus) {
        const mem = g.memoryTotalMb === null ? '' : `, ${g.memoryUsedMb ?? '?'} of ${g.memoryTotalMb} MiB`;
        console.log(
          `gpu ${g.index}     ${g.name}${mem}${g.utilizationPercent === null ? '' : `, ${g.utilizationPercent}% busy`}`,
        );
      }
      console.log(`queue     ${stats.queue.queued} queued, ${stats.queue.running} running`);
    });
  });

const keys = program.command('keys').description('manage API keys');
keys
  .command('create <name>')
  .description('create an API key; its secret is shown once')
  .option('-s, --scope <scopes>', 'comma-separated scopes: read, write, admin', 'read')
  .action(async (name: string, o: { scope: string }) => {
    const scopes = o.scope.split(',').map((s) => s.trim()) as ('read' | 'write' | 'admin')[];
    const created = await conn().client.call('keys.create', { name, scopes });
    out(created, () => {
      console.log(`created API key ${created.key.id} (${created.key.name}; scopes ${created.key.scopes.join(', ')})`);
      console.log(`secret: ${created.secret}`);
      console.log('Store it now: it is not shown again.');
    });
  });
keys
  .command('list')
  .description('list API keys')
  .option('-a, --all', 'include revoked keys')
  .action(async (o: { all?: boolean }) => {
    const { items } = await conn().client.call('keys.list', { includeRevoked: o.all ?? false });
    out(items, () =>
      printTable(
        items.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: `${k.prefix}…`,
          scopes: k.scopes.join(','),
          created: formatTime(k.createdAt),
          'last used': formatTime(k.lastUsedAt),
          revoked: formatTime(k.revokedAt),
        })),
        'no API keys (create one with: aidos keys create <name>)',
      ),
    );
  });
keys
  .command('revoke <id>')
  .description('revoke an API key')
  .action(async (id: string) => {
    const key = await conn().client.call('keys.revoke', { id });
    out(key, () => console.log(`revoked ${key.id} (${key.name})`));
  });

addTaskCommands(program, context);

const datasets = program.command('datasets').description('datasets and their immutable versions');
datasets
  .command('list')
  .description('list datasets')
  .option('-n, --limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
  .action(async (o: { limit: number }) => {
    const page = await conn().client.call('datasets.list', { limit: o.limit });
    out(page, () =>
      printTable(
        page.items.map((d) => ({
          name: d.name,
          versions: d.versionCount,
          latest: d.latest ? `v${d.latest.number}` : null,
          kind: d.latest?.kind ?? null,
          files: d.latest?.fileCount ?? null,
          size: d.latest ? formatBytes(d.latest.totalBytes) : null,
          updated: formatTime(d.updatedAt),
        })),
        'no datasets (import one with: aidos datasets import <path>)',
      ),
    );
  });
datasets
  .command('import <path>')
  .description(
    'import a file, folder or archive (.zip, .tar, .tar.gz, .tgz: the files inside it) as a new version (made only if the content changed)',
  )
  .option('--name <name>', 'dataset name (default: the folder or file name)')
  .option('-m, --message <message>', 'what changed', '')
  .option('--no-extract', 'import an archive as one file instead of the files inside it')
  .action(async (target: string, o: { name?: string; message: string; extract: boolean }) => {
    const absolute = path.resolve(target);
    const name = o.name ?? datasetNameFrom(absolute);
    const c = conn();
    const job = await waitForTask(
      c,
      (
        await c.client.call('datasets.import', {
          dataset: name,
          path: absolute,
          message: o.message,
          create: true,
          extract: o.extract,
        })
      ).id,
      !isJson(),
    );
    if (job.status !== 'succeeded') throw new AppError('INTERNAL', `import ${job.status}: ${job.error?.message ?? ''}`);
    const result = job.result as ImportResult;
    out(result, () => {
      const v = result.version;
      console.log(
        result.created
          ? `${name} v${v.number}: ${v.fileCount} files, ${formatBytes(v.totalBytes)} (${v.kind})`
          : `${name}: unchanged since v${v.number}; no new version`,
      );
      console.log(
        `read ${result.hashedFiles} of ${result.files} files (${formatBytes(result.hashedBytes)}); the rest were known unchanged`,
      );
      for (const s of result.skipped) console.log(`skipped ${s.path}: ${s.reason}`);
    });
  });
datasets
  .command('versions <dataset>')
  .description('list the versions of a dataset')
  .action(async (dataset: string) => {
    const page = await conn().client.call('datasets.versions', { dataset, limit: 500 });
    out(page, () =>
      printTable(
        page.items.map((v) => ({
          version: `v${v.number}`,
          tags: v.tags.join(',') || null,
          files: v.fileCount,
          size: formatBytes(v.totalBytes),
          kind: v.kind,
          author: v.author,
          created: formatTime(v.createdAt),
          message: v.message || null,
        })),
        'no versions yet',
      ),
    );
  });
datasets
  .command('diff <dataset> <from> [to]')
  .description('files added, removed and changed between two versions (to defaults to latest); --table for rows')
  .option('--table <path>', 'diff the rows and columns of this table file instead')
  .option('--key <column>', 'with --table: match rows by this column, so edits show as changed')
  .action(async (dataset: string, from: string, to: string | undefined, o: { table?: string; key?: string }) => {
    const c = conn().client;
    if (o.table) {
      const d = await c.call('datasets.tableDiff', { dataset, from, to: to ?? 'latest', path: o.table, key: o.key });
      out(d, () => {
        console.log(
          `${d.path} v${d.from.version} (${d.from.rows} rows) → v${d.to.version} (${d.to.rows} rows)${d.key ? `, by ${d.key}` : ''}`,
        );
        console.log(
          `rows: ${d.rows.added} added, ${d.rows.removed} removed, ${d.rows.changed} changed, ${d.rows.unchanged} unchanged`,
        );
        if (d.schema.added.length || d.schema.removed.length) {
          console.log(
            `columns: +${d.schema.added.join(', +') || ' none'}; -${d.schema.removed.join(', -') || ' none'}`,
          );
        }
        for (const r of d.samples.added) console.log(`+ line ${r.line}: ${r.values.join(',')}`);
        for (const r of d.samples.removed) console.log(`- line ${r.line}: ${r.values.join(',')}`);
        for (const r of d.samples.changed) console.log(`~ line ${r.line}: ${r.values.join(',')}`);
        if (d.badRows > 0) console.log(`${d.badRows} unreadable rows left out`);
      });
      return;
    }
    const d = await c.call('datasets.diff', { dataset, from, to: to ?? 'latest' });
    out(d, () => {
      console.log(
        `v${d.from.number} → v${d.to.number}: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`,
      );
      for (const e of d.added) console.log(`+ ${e.path}`);
      for (const e of d.removed) console.log(`- ${e.path}`);
      for (const e of d.changed)
        console.log(`~ ${e.path} (${formatBytes(e.before.size)} → ${formatBytes(e.after.size)})`);
    });
  });
datasets
  .command('profile <dataset> [version]')
  .description("show a version's table profiles (version defaults to latest)")
  .action(async (dataset: string, version?: string) => {
    const p = await conn().client.call('datasets.profile', { dataset, version: version ?? 'latest' });
    out(p, () => {
      for (const t of p.tables) {
        console.log(
          `${t.path}: ${t.rows} rows, ${t.columns.length} columns${t.badRowCount ? `, ${t.badRowCount} unreadable rows` : ''}`,
        );
        printTable(
          t.columns.map((col) => ({
            column: col.name,
            type: col.type,
            missing: col.missing,
            distinct: `${col.distinct}${col.distinctCapped ? '+' : ''}`,
            min: col.min === null ? null : String(col.min),
            max: col.max === null ? null : String(col.max),
            mean: col.mean === null ? null : Number(col.mean.toPrecision(4)),
            top: col.top[0] ? `${col.top[0].value} (${col.top[0].count})` : null,
          })),
          '(no columns)',
        );
        for (const b of t.badRows.slice(0, 5)) console.log(`  line ${b.line}: ${b.reason}`);
      }
    });
  });
datasets
  .command('quality <dataset> [version]')
  .description("show a version's quality report; --run checks it again (with --target as the label column)")
  .option('--run', 'run the checks now and wait for them')
  .option('--target <column>', 'the label column, for class balance and label issues')
  .action(async (dataset: string, version: string | undefined, o: { run?: boolean; target?: string }) => {
    const c = conn();
    const v = version ?? 'latest';
    if (o.run) {
      const job = await waitForTask(
        c,
        (await c.client.call('datasets.qualityRun', { dataset, version: v, target: o.target })).id,
        !isJson(),
      );
      if (job.status !== 'succeeded')
        throw new AppError('INTERNAL', `quality check ${job.status}: ${job.error?.message ?? ''}`);
    }
    const r = await c.client.call('datasets.quality', { dataset, version: v });
    out(r, () => {
      console.log(`score ${r.score} / 100${r.target ? ` (label column: ${r.target})` : ''}`);
      for (const t of r.tables) console.log(`  ${t.path}: ${t.rows} rows, score ${t.score}`);
      printTable(
        r.findings.map((f) => ({
          severity: f.severity,
          check: f.check,
          table: f.table,
          column: f.column,
          count: f.count,
          lines: f.lines.slice(0, 5).join(',') + (f.lines.length > 5 ? ',…' : ''),
          message: f.message,
        })),
        'no findings',
      );
    });
  });
datasets
  .command('push <path>')
  .description('upload a file or folder to the server (resumable chunks) and make a version of exactly its files')
  .option('--name <name>', 'dataset name (default: the folder or file name)')
  .option('-m, --message <message>', 'what changed', '')
  .action(async (target: string, o: { name?: string; message: string }) => {
    const absolute = path.resolve(target);
    const name = o.name ?? datasetNameFrom(absolute);
    const c = conn();
    const files = listFiles(absolute);
    const total = files.reduce((n, f) => n + f.size, 0);
    const bar = flags().json ? undefined : progressBar('upload');
    let sent = 0;
    const uploaded: { path: string; uploadId: string }[] = [];
    try {
      const buffer = Buffer.alloc(UPLOAD_CHUNK_BYTES);
      for (const f of files) {
        // Hash first (streamed), so the server refuses the upload if a byte changes on the way.
        const hash = createHash('sha256');
        for await (const part of createReadStream(f.abs)) hash.update(part as Buffer);
        const upload = await c.client.call('uploads.create', {
          filename: f.rel,
          size: f.size,
          sha256: hash.digest('hex'),
        });
        const fd = openSync(f.abs, 'r');
        try {
          for (let offset = 0; offset < f.size;) {
            const n = readSync(fd, buffer, 0, Math.min(UPLOAD_CHUNK_BYTES, f.size - offset), offset);
            await c.client.send('uploads.append', { id: upload.id, offset }, buffer.subarray(0, n));
            offset += n;
            sent += n;
            bar?.update(total > 0 ? sent / total : 1, f.rel);
          }
        } finally {
          closeSync(fd);
        }
        uploaded.push({ path: f.rel, uploadId: upload.id });
      }
    } finally {
      bar?.stop();
    }
    const result = await c.client.call('datasets.commit', {
      dataset: name,
      files: uploaded,
      base: 'empty',
      message: o.message,
      create: true,
    });
    out(result, () =>
      console.log(
        result.created
          ? `${name} v${result.version.number}: ${result.version.fileCount} files, ${formatBytes(result.version.totalBytes)}`
          : `${name}: unchanged since v${result.version.number}; no new version`,
      ),
    );
  });
datasets
  .command('watch <path>')
  .description('watch a folder: it is imported now and whenever its content settles')
  .option('--name <name>', 'dataset name (default: the folder name)')
  .option('--settle-ms <ms>', 'quiet time before an import', (v) => Number.parseInt(v, 10), 3000)
  .action(async (target: string, o: { name?: string; settleMs: number }) => {
    const absolute = path.resolve(target);
    const w = await conn().client.call('datasets.watch', {
      dataset: o.name ?? datasetNameFrom(absolute),
      path: absolute,
      settleMs: o.settleMs,
      create: true,
    });
    out(w, () => console.log(`watching ${w.path} (id ${w.id}); imports start ${w.settleMs} ms after changes settle`));
  });
datasets
  .command('unwatch <dataset> <id>')
  .description('stop watching a folder')
  .action(async (dataset: string, id: string) => {
    const w = await conn().client.call('datasets.unwatch', { dataset, id });
    out(w, () => console.log(`stopped watching ${w.path}`));
  });
datasets
  .command('export <dataset> <version> <folder>')
  .description('write a version into a new or empty folder')
  .action(async (dataset: string, version: string, folder: string) => {
    const c = conn();
    const job = await waitForTask(
      c,
      (await c.client.call('datasets.export', { dataset, version, path: path.resolve(folder) })).id,
      !isJson(),
    );
    if (job.status !== 'succeeded') throw new AppError('INTERNAL', `export ${job.status}: ${job.error?.message ?? ''}`);
    const result = job.result as { files: number; bytes: number; path: string };
    out(result, () => console.log(`wrote ${result.files} files (${formatBytes(result.bytes)}) to ${result.path}`));
  });
datasets
  .command('tag <dataset> <version> <tag>')
  .description('tag a version (moves the tag if it exists); --delete removes it')
  .option('-d, --delete', 'remove the tag instead')
  .action(async (dataset: string, version: string, tag: string, o: { delete?: boolean }) => {
    const c = conn().client;
    const v = o.delete
      ? await c.call('datasets.untag', { dataset, tag })
      : await c.call('datasets.tag', { dataset, version, tag });
    out(v, () => console.log(o.delete ? `removed tag ${tag} from v${v.number}` : `tagged v${v.number} as ${tag}`));
  });

/** Upload chunks of 8 MiB: small enough to resend cheaply, large enough to keep requests few. */
const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

/** The regular files under a path (or the file itself), relative paths with '/', symlinks skipped. */
function listFiles(root: string): { rel: string; abs: string; size: number }[] {
  const st = lstatSync(root);
  if (st.isFile()) return [{ rel: path.basename(root), abs: root, size: st.size }];
  const out: { rel: string; abs: string; size: number }[] = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(abs, r);
      else if (entry.isFile()) out.push({ rel: r, abs, size: lstatSync(abs).size });
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** A dataset name from a path: lower case, with anything outside [a-z0-9._-] turned into "-". */
function datasetNameFrom(p: string): string {
  const base = path.basename(p).replace(/\.(csv|tsv|jsonl|parquet|txt|zip|tar|tar\.gz|tgz)$/i, '');
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 100);
  if (!name) throw AppError.invalid('--name', `cannot make a dataset name from '${base}'; pass --name`);
  return name;
}

function explain(err: unknown): string {
  if (err instanceof AppError) return `error (${err.code}): ${err.message}`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (err instanceof TypeError && cause) {
    return `error: no AI-DOS server answers at ${lastUrl ?? 'the configured URL'} (${cause.code ?? cause.message}); start one with "aidos serve"`;
  }
  return `error: ${(err as Error).message ?? String(err)}`;
}

addModelhubCommands(program, context);
addTrainosCommands(program, context);
addDeployCommands(program, context);
addDriftCommands(program, context);
addEvalCommands(program, context);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (flags().json) {
    const body =
      err instanceof AppError ? err.toBody() : { error: { code: 'INTERNAL', message: String((err as Error).message) } };
    console.error(JSON.stringify(body));
  } else console.error(explain(err));
  process.exit(err instanceof AppError && err.code === 'INVALID_ARGUMENT' ? 2 : 1);
});
