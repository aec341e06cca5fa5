// Shared by the ModelHub benchmarks (bench/modelhub-tracking.ts, bench/modelhub-search.ts): a real core in a
// child process, a keep-alive HTTP client, percentiles, and the size of the SQLite file.
//
// Run as a script (`node --import tsx bench/modelhub-common.ts <dataDir>`) it is that child: it starts a core on
// a free loopback port with `dataDir`, prints one JSON line ({ url, tokenFile, dbFile, pid }) and closes the
// core on SIGTERM. A child rather than the benchmark's own process, so the client's work does not share the
// server's event loop (as with `aidos serve`), and the server's CPU time can be read apart from the client's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');

export interface BenchServer {
  url: string;
  token: string;
  dbFile: string;
  pid: number;
  /** CPU time (user + system) the server process has used so far, ms (Linux: /proc/<pid>/stat). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Starts a core in a child process with a fresh data dir under `root`. */
export async function startServer(root: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(path.join(root, 'core-'));
  // MODELHUB_BENCH_CPU_PROF=<dir>: the core writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const prof = process.env.MODELHUB_BENCH_CPU_PROF;
  const flags = prof ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(prof)] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', SELF, dataDir], {
    cwd: ROOT,
    env: { ...process.env, AIDOS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ url: string; tokenFile: string; dbFile: string }>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the core did not report ready within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the core exited (code ${code}) before it was ready`)));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(buffered.slice(0, nl)));
    });
  });
  const pid = child.pid as number;
  return {
    url: ready.url,
    token: readFileSync(ready.tokenFile, 'utf8').trim(),
    dbFile: ready.dbFile,
    pid,
    cpuMs: () => procCpuMs(pid),
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** utime + stime of a process, ms (fields 14 and 15 of proc(5), in USER_HZ = 100 ticks). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A temp dir removed on exit, error or Ctrl-C. */
export function benchRoot(name: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), `aidos-bench-${name}-`));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  return root;
}

/** One keep-alive connection; requests are sent one after another. */
export class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;
  private readonly auth: string;

  constructor(server: BenchServer) {
    this.base = new URL(server.url);
    this.auth = `Bearer ${server.token}`;
  }

  /** POSTs a JSON body (an object, or already serialized) and parses the JSON answer; rejects unless 200. */
  post<T = unknown>(pathname: string, body: unknown): Promise<T> {
    return this.send('POST', pathname, typeof body === 'string' ? body : JSON.stringify(body));
  }

  get<T = unknown>(pathname: string): Promise<T> {
    return this.send('GET', pathname, null);
  }

  /** POSTs bytes (`application/octet-stream`) and parses the JSON answer; rejects unless 200. */
  postBytes<T = unknown>(pathname: string, body: Uint8Array): Promise<T> {
    return this.send('POST', pathname, body);
  }

  /** POSTs a JSON body and returns the answer's bytes (an endpoint that answers binary data). */
  postForBytes(pathname: string, body: string): Promise<Buffer> {
    return this.send('POST', pathname, body, 'bytes');
  }

  private send<T>(
    method: string,
    pathname: string,
    payload: string | Uint8Array | null,
    answer: 'json' | 'bytes' = 'json',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path: pathname,
          method,
          agent: this.agent,
          headers:
            payload === null
              ? { authorization: this.auth }
              : {
                  authorization: this.auth,
                  'content-type': typeof payload === 'string' ? 'application/json' : 'application/octet-stream',
                  'content-length': Buffer.byteLength(payload),
                },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            if (res.statusCode !== 200)
              reject(new Error(`${method} ${pathname}: HTTP ${res.statusCode} ${bytes.toString('utf8', 0, 300)}`));
            else if (answer === 'bytes') resolve(bytes as T);
            else resolve((bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : {}) as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function summarize(times: number[]): { p50: number; p95: number; p99: number; max: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
  };
}

export interface DbSize {
  /** page_count × page_size after a TRUNCATE checkpoint (the file, the WAL being empty). */
  fileBytes: number;
  /** The same without the free pages (pages that a delete left for reuse). */
  usedBytes: number;
  /** Pages of the metric tables and their indexes (dbstat): chunks, and series rows with their indexes. */
  chunkBytes: number;
  seriesBytes: number;
  /** Encoded chunk bytes alone: sum(length(data)). */
  payloadBytes: number;
  chunks: number;
}

/**
 * Sizes the core's database through a second connection (the core keeps running): checkpoints the WAL into the
 * main file first, so the main file holds every committed page.
 */
export function dbSize(dbFile: string): DbSize {
  const db = new Database(dbFile);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const bytesOf = (names: string[]) =>
      (
        db
          .prepare(`SELECT COALESCE(SUM(pgsize), 0) AS b FROM dbstat WHERE name IN (${names.map(() => '?').join(',')})`)
          .get(...names) as { b: number }
      ).b;
    const seriesIndexes = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'modelhub_metric_series' AND type = 'index'")
        .all() as { name: string }[]
    ).map((r) => r.name);
    const payload = db
      .prepare('SELECT COALESCE(SUM(length(data)), 0) AS b, COUNT(*) AS n FROM modelhub_metric_chunks')
      .get() as { b: number; n: number };
    return {
      fileBytes: pages * pageSize,
      usedBytes: (pages - free) * pageSize,
      chunkBytes: bytesOf(['modelhub_metric_chunks']),
      seriesBytes: bytesOf(['modelhub_metric_series', ...seriesIndexes]),
      payloadBytes: payload.b,
      chunks: payload.n,
    };
  } finally {
    db.close();
  }
}

/** The machine line every ModelHub benchmark prints first. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `${cpu}, ${os.cpus().length} cores, Node ${process.version}, load average ${load}`;
}

export const verdict = (met: boolean) => (met ? 'PASS' : 'MISS');

// The child: a core on a free port.
if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: modelhub-common.ts <dataDir>');
  const { loadConfig } = await import('#platform/config');
  const { startCore } = await import('#core/core');
  const config = loadConfig({ port: 0, logToStderr: false, logLevel: 'warn', dataDir }, {});
  const core = await startCore(config);
  const dbFile = path.join(dataDir, 'aidos.db');
  process.stdout.write(`${JSON.stringify({ url: core.url, tokenFile: core.localTokenFile, dbFile })}\n`);
  process.once('SIGTERM', () => {
    void core.close().then(() => process.exit(0));
  });
}
