// TrainOS scheduler throughput against Slurm 22.05 on the same machine (issue 5): N `/bin/true` jobs
//   ours:  a real core in a child process (fresh data dir); N jobs POSTed one after another to
//          /api/v1/training/jobs ({ command: ['/bin/true'], resources: 0 GPUs, 1 CPU thread, 64 MB }), over one
//          keep-alive connection; done when no job is queued or running. The core runs as many jobs at once as
//          the machine has CPU threads.
//   Slurm: a throwaway single-node cluster (scripts/slurm-local.sh: 16 advertised CPUs unless SLURM_LOCAL_CPUS
//          says otherwise); N `sbatch --wrap /bin/true` one after another; done when its job-completion file
//          holds N lines (read from disk, so that watching does not load the controller).
// Each: jobs/s = N / (first submission -> last job ended). Target: ours >= 2x Slurm's jobs/s.
// Slurm needs ~1 min per 1,000 jobs here: --slurm-jobs runs it with fewer jobs (said so in the output), 0 skips it.
//   npx tsx bench/trainos-throughput.ts [--jobs 10000] [--slurm-jobs N] [--json]
// MODELHUB_BENCH_CPU_PROF=<dir> (bench/modelhub-common.ts): the core writes a V8 CPU profile there when it stops.
import { execFile, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import Database from 'better-sqlite3';
import { benchRoot, machineLine, startServer, verdict, type BenchServer } from './modelhub-common';

const { values: opts } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    'slurm-jobs': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const JOBS = Number(opts.jobs);
const SLURM_JOBS = Number(opts['slurm-jobs'] ?? opts.jobs);
const TARGET_RATIO = 2;
/** A run that makes no progress for this long is stuck: the benchmark fails rather than hangs. */
const STALL_MS = 180_000;

const SLURM_LOCAL = fileURLToPath(new URL('../scripts/slurm-local.sh', import.meta.url));
const run = promisify(execFile);

interface Phase {
  jobs: number;
  /** First submission to last submission answered. */
  submitS: number;
  /** First submission to the last job ended. */
  totalS: number;
  jobsPerSecond: number;
  /** How the jobs ended: { COMPLETED: 10000 } or { succeeded: 10000 }. */
  outcomes: Record<string, number>;
  loadBefore: string;
  loadAfter: string;
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function until(done: () => { finished: boolean; progress: number }, pollMs: number): Promise<void> {
  let progress = -1;
  let progressAt = Date.now();
  for (;;) {
    const now = done();
    if (now.finished) return;
    if (now.progress !== progress) {
      progress = now.progress;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > STALL_MS) {
      throw new Error(`no progress for ${STALL_MS / 1000} s (${progress} jobs ended)`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** POSTs over one keep-alive connection; resolves with the status code, rejects on anything but 2xx. */
function poster(server: BenchServer): (pathname: string, body: string) => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(server.url);
  return (pathname, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path: pathname,
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${server.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new Error(`POST ${pathname}: HTTP ${code} ${text.slice(0, 300)}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

async function ours(root: string): Promise<Phase & { serverCpuUsPerJob: number }> {
  const loadBefore = load();
  const server = await startServer(root);
  // Read beside the core (WAL: readers do not block it), so that watching costs the core nothing.
  const db = new Database(server.dbFile, { readonly: true });
  try {
    const post = poster(server);
    const workingDir = mkdtempSync(path.join(root, 'work-'));
    const body = JSON.stringify({
      command: ['/bin/true'],
      workingDir,
      resources: { gpus: 0, cpuThreads: 1, ramMb: 64 },
    });
    const cpu0 = server.cpuMs();
    const t0 = Date.now();
    for (let i = 0; i < JOBS; i++) await post('/api/v1/training/jobs', body);
    const submitS = (Date.now() - t0) / 1000;
    const unfinished = db.prepare("SELECT count(*) AS n FROM trainos_jobs WHERE state IN ('queued', 'running')");
    await until(() => {
      const left = (unfinished.get() as { n: number }).n;
      return { finished: left === 0, progress: JOBS - left };
    }, 50);
    const serverCpuUsPerJob = ((server.cpuMs() - cpu0) * 1000) / JOBS;
    const { last } = db.prepare('SELECT max(ended_at) AS last FROM trainos_jobs').get() as { last: number };
    const rows = db.prepare('SELECT state, count(*) AS n FROM trainos_jobs GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    const totalS = (last - t0) / 1000;
    return {
      jobs: JOBS,
      submitS,
      totalS,
      jobsPerSecond: JOBS / totalS,
      outcomes: Object.fromEntries(rows.map((r) => [r.state, r.n])),
      serverCpuUsPerJob,
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    db.close();
    await server.stop();
  }
}

/** Counts the lines of a file that grows, reading only what is new each time (the machine is Slurm's meanwhile). */
function endedJobsCounter(file: string): () => number {
  let offset = 0;
  let lines = 0;
  const chunk = Buffer.alloc(1024 * 1024);
  return () => {
    let fd;
    try {
      fd = openSync(file, 'r');
    } catch {
      return 0; // no job has ended yet
    }
    try {
      for (let got = readSync(fd, chunk, 0, chunk.length, offset); got > 0;) {
        for (let i = 0; i < got; i++) if (chunk[i] === 0x0a) lines++;
        offset += got;
        got = readSync(fd, chunk, 0, chunk.length, offset);
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

async function slurm(): Promise<Phase & { cpus: string }> {
  const loadBefore = load();
  // A short path: munged's socket path in it must stay under 108 bytes.
  const dir = mkdtempSync('/tmp/aidos-bench-slurm-');
  const started = spawnSync('bash', [SLURM_LOCAL, 'start', dir], {
    encoding: 'utf8',
    env: {
      ...process.env,
      SLURM_LOCAL_REST: '0',
      // Slurm refuses jobs beyond MaxJobCount (default 10,000), ended ones included until MinJobAge has passed.
      SLURM_LOCAL_EXTRA_CONF: [process.env.SLURM_LOCAL_EXTRA_CONF, `MaxJobCount=${Math.max(10_000, 2 * SLURM_JOBS)}`]
        .filter(Boolean)
        .join('\n'),
    },
  });
  try {
    if (started.status !== 0) throw new Error(`scripts/slurm-local.sh start failed:\n${started.stderr}`);
    const env = { ...process.env };
    for (const m of started.stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2];
    const out = path.join(dir, 'out');
    mkdirSync(out);
    const jobComp = path.join(dir, 'log', 'jobcomp.txt');
    const t0 = Date.now();
    for (let i = 0; i < SLURM_JOBS; i++) await run('sbatch', ['--parsable', '--wrap', '/bin/true'], { env, cwd: out });
    const submitS = (Date.now() - t0) / 1000;
    const ended = endedJobsCounter(jobComp);
    await until(() => {
      const count = ended();
      return { finished: count >= SLURM_JOBS, progress: count };
    }, 100);
    const totalS = (Date.now() - t0) / 1000;
    const outcomes: Record<string, number> = {};
    for (const line of readFileSync(jobComp, 'utf8').split('\n').filter(Boolean)) {
      const state = / JobState=(\S+)/.exec(line)?.[1] ?? 'unknown';
      outcomes[state] = (outcomes[state] ?? 0) + 1;
    }
    return {
      jobs: SLURM_JOBS,
      submitS,
      totalS,
      jobsPerSecond: SLURM_JOBS / totalS,
      outcomes,
      cpus: process.env.SLURM_LOCAL_CPUS ?? '16',
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    spawnSync('bash', [SLURM_LOCAL, 'stop', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const root = benchRoot('trainos-throughput');
  const machine = machineLine();
  const ourResult = await ours(root);
  // Said at once: the Slurm phase takes minutes and may fail on its own.
  console.error(
    `ours: ${ourResult.jobs} jobs in ${ourResult.totalS.toFixed(1)} s (${ourResult.jobsPerSecond.toFixed(1)} jobs/s)`,
  );
  const slurmResult = SLURM_JOBS > 0 ? await slurm() : null;
  const ratio = slurmResult ? ourResult.jobsPerSecond / slurmResult.jobsPerSecond : null;
  const result = {
    benchmark: 'trainos-throughput',
    machine,
    ours: { ...ourResult, cpuThreads: os.availableParallelism() },
    slurm: slurmResult,
    ratio,
    target: TARGET_RATIO,
    met: ratio !== null && ratio >= TARGET_RATIO && slurmResult?.jobs === JOBS,
  };
  if (opts.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const row = (name: string, p: Phase) =>
    `${name.padEnd(34)} ${String(p.jobs).padStart(6)} ${p.submitS.toFixed(1).padStart(9)} ${(p.jobs / p.submitS).toFixed(1).padStart(9)} ${p.totalS.toFixed(1).padStart(9)} ${p.jobsPerSecond.toFixed(1).padStart(8)}   ${JSON.stringify(p.outcomes)}`;
  console.log(`trainos-throughput  ${machine}`);
  console.log(
    `${'runner'.padEnd(34)} ${'jobs'.padStart(6)} ${'submit s'.padStart(9)} ${'submit/s'.padStart(9)} ${'total s'.padStart(9)} ${'jobs/s'.padStart(8)}   outcomes`,
  );
  console.log(row(`ours (TrainOS, ${os.availableParallelism()} CPU threads)`, ourResult));
  if (slurmResult) console.log(row(`Slurm 22.05 (${slurmResult.cpus} CPUs advertised)`, slurmResult));
  console.log(
    `ours: server CPU ${ourResult.serverCpuUsPerJob.toFixed(0)} µs/job; load average before ${ourResult.loadBefore}, after ${ourResult.loadAfter}`,
  );
  if (slurmResult) {
    console.log(`Slurm: load average before ${slurmResult.loadBefore}, after ${slurmResult.loadAfter}`);
    if (slurmResult.jobs !== JOBS)
      console.log(`NOTE: Slurm ran ${slurmResult.jobs} jobs (--slurm-jobs), not ${JOBS}: its jobs/s is for that size`);
    console.log(`ratio ours/Slurm: ${(ratio ?? 0).toFixed(2)}x (target >= ${TARGET_RATIO}x) ${verdict(result.met)}`);
  } else {
    console.log('Slurm skipped (--slurm-jobs 0): no ratio');
  }
}

await main();
