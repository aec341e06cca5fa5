// API round trip: N sequential authenticated GET /api/v1/status requests against a real `aidos serve`, over
// one keep-alive connection, each timed with process.hrtime.bigint(). Target: p50 <= 1 ms.
//   node bench/api-roundtrip.mjs [--n 5000] [--warmup 500] [--path /api/v1/status] [--json]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, ensureBuilt } from '../scripts/start-build.mjs';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '500' },
    path: { type: 'string', default: '/api/v1/status' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(opts.n);
const WARMUP = Number(opts.warmup);
const TARGET_P50_MS = 1;

/** Starts `aidos serve` on a free port with a fresh data dir; resolves with its ready line. */
function startServer(dataDir) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'aidos.js'), '--json', 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, AIDOS_HOME: dataDir, AIDOS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the server did not report ready within 30 s')), 30_000);
    child.on('exit', (code) => reject(new Error(`the server exited (code ${code}) before it was ready`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve({ child, ready: JSON.parse(buffered.slice(0, nl)) });
      } catch (err) {
        reject(new Error(`unexpected first line from the server: ${buffered.slice(0, nl)} (${err.message})`));
      }
    });
  });
}

function stopServer(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function get(agent, url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
        else resolve(req.reusedSocket);
      });
    });
    req.on('error', reject);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  if (!ensureBuilt()) process.exit(1);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aidos-bench-api-'));
  const { child, ready } = await startServer(dataDir);
  try {
    const token = readFileSync(ready.tokenFile, 'utf8').trim();
    const url = new URL(opts.path, ready.url);
    const headers = { authorization: `Bearer ${token}` };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let sockets = 0;
    const countSocket = (reused) => {
      if (!reused) sockets++;
    };

    for (let i = 0; i < WARMUP; i++) countSocket(await get(agent, url, headers));
    const times = new Float64Array(N);
    const started = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      countSocket(await get(agent, url, headers));
      times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    agent.destroy();

    const sorted = [...times].sort((a, b) => a - b);
    const mean = sorted.reduce((s, x) => s + x, 0) / N;
    const result = {
      benchmark: 'api-roundtrip',
      path: url.pathname,
      requests: N,
      warmup: WARMUP,
      connections: sockets,
      p50Ms: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[N - 1],
      meanMs: mean,
      requestsPerSecond: N / elapsedS,
      targetP50Ms: TARGET_P50_MS,
    };
    result.targetMet = result.p50Ms <= TARGET_P50_MS;
    if (opts.json) console.log(JSON.stringify(result));
    else {
      const ms = (x) => `${x.toFixed(3)} ms`;
      console.log(
        `api-roundtrip: ${N} sequential GET ${url.pathname} (token auth, keep-alive, ${sockets} connection(s), ${WARMUP} warm-up)`,
      );
      console.log(
        `  p50 ${ms(result.p50Ms)}  p90 ${ms(result.p90Ms)}  p99 ${ms(result.p99Ms)}  max ${ms(result.maxMs)}  mean ${ms(mean)}`,
      );
      console.log(`  ${result.requestsPerSecond.toFixed(0)} requests/s`);
      console.log(`  target p50 <= ${TARGET_P50_MS} ms: ${result.targetMet ? 'met' : 'MISSED'}`);
    }
  } finally {
    await stopServer(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
