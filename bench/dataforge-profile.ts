// DataForge table profiling: a 1,000,000-row x 20-column CSV (integers, floats, categories, free text with quoted
// commas, dates, datetimes, booleans, some missing values) imported into a fresh core, then profiled by a
// `dataforge.profile` job (`profileVersion`) in this process. The profile and quality jobs the import starts by
// itself are held back (cancelled while queued) so that the profile is measured alone; then both run together, as
// they do after every import (skip that with --profile-only). Memory is the process's (core included): RSS
// sampled every 50 ms and `process.resourceUsage().maxRSS` (the kernel's peak, which sampling cannot miss).
// Targets: profile < 15 s, peak RSS < 500 MB.
//   npx tsx bench/dataforge-profile.ts [--rows 1000000] [--profile-only] [--json]
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { VersionProfile } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'profile-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const SAMPLE_MS = 50;
const TARGET_MS = 15_000;
const TARGET_RSS_MB = 500;
const MB = 1e6;

// Everything (the CSV, the core's data dir) lives under one temp dir, removed on exit, error or Ctrl-C.
const root = mkdtempSync(path.join(os.tmpdir(), 'aidos-bench-df-profile-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.once('exit', cleanup); // also after an uncaught error
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** mulberry32: the same CSV every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLUMNS = [
  'id',
  'user_id',
  'age',
  'quantity',
  'price',
  'score',
  'lat',
  'lon',
  'ratio',
  'category',
  'country',
  'status',
  'segment',
  'name',
  'comment',
  'email',
  'created_at',
  'updated_at',
  'is_active',
  'tag',
];
const CATEGORIES = [
  'books',
  'electronics',
  'garden',
  'toys',
  'grocery',
  'sports',
  'beauty',
  'automotive',
  'music',
  'health',
  'office',
  'pets',
];
const COUNTRIES =
  'US GB DE FR IT ES NL BE SE NO DK FI PL CZ AT CH IE PT GR HU RO BG HR SI SK LT LV EE JP KR CN IN ID TH VN PH MY SG AU NZ CA MX BR AR CL CO PE ZA EG NG KE'.split(
    ' ',
  );
const STATUSES = ['active', 'inactive', 'pending'];
const TAGS = ['new', 'sale', 'clearance', 'featured', 'limited', 'bundle', 'gift'];
const WORDS = (
  'the quick brown fox jumps over lazy dog data model train test split value price customer order ship return great ' +
  'poor average fast slow would buy again broken works fine love it hate box arrived late early quality cheap'
).split(' ');

/** Writes the CSV in chunks of rows, with backpressure, so generating it holds little memory. */
async function generateCsv(file: string): Promise<void> {
  const rnd = seeded(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const maybe = (p: number, value: () => string) => (rnd() < p ? '' : value());
  const day0 = Date.UTC(2015, 0, 1);
  const out = createWriteStream(file);
  const write = (chunk: string) =>
    out.write(chunk) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', r));
  await write(`${COLUMNS.join(',')}\n`);
  let chunk = '';
  for (let i = 1; i <= ROWS; i++) {
    const words = Array.from({ length: 3 + Math.floor(rnd() * 10) }, () => pick(WORDS));
    if (rnd() < 0.1) words.splice(2, 0, ',');
    if (rnd() < 0.02) words.push('"really"');
    const comment = words.join(' ');
    const created = day0 + Math.floor(rnd() * 3650) * 86_400_000;
    const row = [
      i,
      1 + Math.floor(rnd() * 1_000_000),
      maybe(0.02, () => String(18 + Math.floor(rnd() * 72))),
      Math.floor(rnd() * 1000),
      (rnd() * 500).toFixed(2),
      maybe(0.05, () => ((rnd() + rnd() + rnd() - 1.5) * 40).toFixed(4)),
      (rnd() * 180 - 90).toFixed(6),
      (rnd() * 360 - 180).toFixed(6),
      maybe(0.1, () => rnd().toFixed(5)),
      pick(CATEGORIES),
      maybe(0.01, () => pick(COUNTRIES)),
      pick(STATUSES),
      `${String.fromCharCode(65 + Math.floor(rnd() * 26))}${Math.floor(rnd() * 100)}`,
      `${pick(WORDS)} ${pick(WORDS)}`,
      maybe(0.2, () => (/[,"]/.test(comment) ? `"${comment.replaceAll('"', '""')}"` : comment)),
      `user${i}@example.com`,
      new Date(created).toISOString().slice(0, 10),
      maybe(0.03, () => new Date(created + Math.floor(rnd() * 86_400_000 * 30)).toISOString().slice(0, 19) + 'Z'),
      rnd() < 0.5 ? 'true' : 'false',
      maybe(0.3, () => pick(TAGS)),
    ];
    chunk += `${row.join(',')}\n`;
    if (i % 5000 === 0) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(file, hourAgo, hourAgo);
}

/** When each job started and ended, from the bus; subscribed before the import, so none is missed. */
function jobWatcher(t: TestCore) {
  const started = new Map<string, number>();
  const ended = new Map<string, { job: Job; at: number }>();
  const waiters = new Map<string, () => void>();
  let hold = true;
  t.core.bus.on('job.*', (event) => {
    const job = (event.data as { job?: Job }).job;
    if (!job) return;
    const at = performance.now();
    if (event.name === 'job.queued' && hold && job.type !== 'dataforge.import') t.core.queue.cancel(job.id);
    else if (event.name === 'job.started') started.set(job.id, at);
    else if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      ended.set(job.id, { job, at });
      waiters.get(job.id)?.();
    }
  });
  return {
    release: () => (hold = false),
    /** The job once it ended, and its run time from the started to the ended event. */
    finished: async (id: string) => {
      if (!ended.has(id)) await new Promise<void>((resolve) => waiters.set(id, resolve));
      const end = ended.get(id) as { job: Job; at: number };
      if (end.job.status !== 'succeeded')
        throw new Error(`${end.job.type} ${end.job.status}: ${end.job.error?.message ?? ''}`);
      return { job: end.job, ms: end.at - (started.get(id) ?? end.at) };
    },
  };
}

/** RSS every 50 ms, the peak kept per phase; the longest gap between samples shows how long the event loop was busy. */
function memorySampler() {
  let phase = 'idle';
  const peaks = new Map<string, number>();
  const gaps = new Map<string, number>();
  let last = performance.now();
  const sample = () => {
    const now = performance.now();
    gaps.set(phase, Math.max(gaps.get(phase) ?? 0, now - last));
    last = now;
    peaks.set(phase, Math.max(peaks.get(phase) ?? 0, process.memoryUsage().rss));
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    enter(next: string) {
      sample();
      phase = next;
      last = performance.now();
      sample();
    },
    peakMB: (p: string) => (peaks.get(p) ?? 0) / MB,
    gapMs: (p: string) => gaps.get(p) ?? 0,
    stop: () => clearInterval(timer),
  };
}

const maxRssMB = () => (process.resourceUsage().maxRSS * 1024) / MB;

async function main() {
  const load0 = os.loadavg();
  const folder = path.join(root, 'data');
  mkdirSync(folder);
  const csv = path.join(folder, 'events.csv');
  const g0 = performance.now();
  await generateCsv(csv);
  const generateMs = performance.now() - g0;
  const csvBytes = statSync(csv).size;

  const mem = memorySampler();
  const t = await startTestCore({ dataDir: path.join(root, 'core') });
  try {
    const jobs = jobWatcher(t);
    const rssBeforeImportMB = process.memoryUsage().rss / MB;
    mem.enter('import');
    const i0 = performance.now();
    const imported = await t.client.call('datasets.import', {
      dataset: 'bench',
      path: folder,
      create: true,
      message: 'bench',
    });
    await jobs.finished(imported.id);
    const importMs = performance.now() - i0;
    jobs.release();
    const version = { dataset: 'bench', version: 'latest' };

    // The measured run: profileVersion alone, as `POST .../profile` (datasets.profileRun) starts it.
    mem.enter('between');
    const rssBeforeProfileMB = process.memoryUsage().rss / MB;
    const maxRssBeforeProfileMB = maxRssMB();
    mem.enter('profile');
    const cpu0 = process.cpuUsage();
    const profiled = await jobs.finished((await t.client.call('datasets.profileRun', version)).id);
    const cpu = process.cpuUsage(cpu0);
    mem.enter('between');
    const maxRssAfterProfileMB = maxRssMB();

    // What every import starts: the profile and the quality check at once.
    let together: { profileMs: number; qualityMs: number; peakMB: number; maxRssMB: number } | undefined;
    if (!opts['profile-only']) {
      mem.enter('together');
      const [p, q] = await Promise.all([
        t.client.call('datasets.profileRun', version).then((job) => jobs.finished(job.id)),
        t.client.call('datasets.qualityRun', version).then((job) => jobs.finished(job.id)),
      ]);
      mem.enter('between');
      together = { profileMs: p.ms, qualityMs: q.ms, peakMB: mem.peakMB('together'), maxRssMB: maxRssMB() };
    }
    mem.stop();

    const table = (profiled.job.result as VersionProfile).tables[0];
    if (!table || table.rows !== ROWS || table.columns.length !== COLUMNS.length || table.badRowCount !== 0) {
      throw new Error(
        `unexpected profile: ${JSON.stringify({ rows: table?.rows, columns: table?.columns.length, bad: table?.badRowCount })}`,
      );
    }
    const load1 = os.loadavg();
    const profileMs = profiled.ms;
    // maxRSS is the process's lifetime peak: it counts against the profile only if the profile raised it.
    const profilePeakMB = Math.max(
      mem.peakMB('profile'),
      maxRssAfterProfileMB > maxRssBeforeProfileMB ? maxRssAfterProfileMB : 0,
    );
    const result = {
      benchmark: 'dataforge-profile',
      rows: ROWS,
      columns: COLUMNS.length,
      csvBytes,
      generateMs,
      importMs,
      profileMs,
      profileJobMs: (profiled.job.finishedAt ?? 0) - (profiled.job.startedAt ?? 0),
      // The whole process's CPU while the profile ran (on a loaded machine, wall time is more than CPU time).
      profileCpuMs: (cpu.user + cpu.system) / 1000,
      rssBeforeImportMB,
      peakRssImportMB: mem.peakMB('import'),
      rssBeforeProfileMB,
      peakRssProfileMB: mem.peakMB('profile'),
      maxRssBeforeProfileMB,
      maxRssAfterProfileMB,
      profilePeakMB,
      maxSampleGapMs: mem.gapMs('profile'),
      together: together ?? null,
      types: Object.fromEntries(table.columns.map((c) => [c.name, c.type])),
      loadAverage: { start: load0, end: load1 },
      targetMs: TARGET_MS,
      targetRssMB: TARGET_RSS_MB,
      timeMet: profileMs < TARGET_MS,
      rssMet: profilePeakMB < TARGET_RSS_MB,
    };
    if (opts.json) console.log(JSON.stringify(result));
    else {
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const mb = (x: number) => `${x.toFixed(0)} MB`;
      console.log(
        `dataforge-profile: ${ROWS} rows x ${COLUMNS.length} columns, ${(csvBytes / MB).toFixed(0)} MB CSV (generated in ${s(generateMs)}), ` +
          `import ${s(importMs)} (peak RSS ${mb(result.peakRssImportMB)})`,
      );
      console.log(
        `  profile alone (datasets.profileRun)  ${s(profileMs)} (job ${s(result.profileJobMs)}, CPU ${s(result.profileCpuMs)})  ->  ${(ROWS / (profileMs / 1000)).toFixed(0)} rows/s, ` +
          `${(csvBytes / MB / (profileMs / 1000)).toFixed(1)} MB/s`,
      );
      console.log(
        `  RSS ${mb(rssBeforeImportMB)} before the import, ${mb(rssBeforeProfileMB)} before the profile, peak ${mb(result.peakRssProfileMB)} ` +
          `sampled during it (longest gap between samples ${result.maxSampleGapMs.toFixed(0)} ms); maxRSS ${mb(maxRssBeforeProfileMB)} before, ` +
          `${mb(maxRssAfterProfileMB)} after`,
      );
      if (together) {
        console.log(
          `  profile + quality check at once (as after an import)  profile ${s(together.profileMs)}, quality ${s(together.qualityMs)}; ` +
            `peak RSS ${mb(together.peakMB)} sampled, maxRSS ${mb(together.maxRssMB)}`,
        );
      }
      console.log(`  column types: ${table.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
      console.log(
        `  load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`,
      );
      console.log(`  target profile < ${TARGET_MS / 1000} s: ${result.timeMet ? 'met' : 'MISSED'}`);
      console.log(`  target peak RSS < ${TARGET_RSS_MB} MB: ${result.rssMet ? 'met' : 'MISSED'}`);
    }
  } finally {
    mem.stop();
    await t.close();
  }
}

try {
  await main();
} finally {
  cleanup();
}
