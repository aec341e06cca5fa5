// DataForge import throughput: 256 files x 8 MiB of random bytes imported as a dataset version into a fresh core
// (empty stat cache) through the real service (`datasets.import`, the job `aidos datasets import` runs), against
// `sha256sum` on the same files; then the same folder again (nothing changed: the stat cache should answer).
// The page cache cannot be dropped without root tools, so `sha256sum` runs once untimed to warm it; both sides
// then read from memory. Target: import >= 80% of sha256sum's throughput.
//   npx tsx bench/dataforge-import.ts [--files 256] [--mib 8] [--json]
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { startTestCore } from '#core/testing';
import { childrenCpuMs, importFolder, jobWatcher, type ImportRun } from './dataforge-common';

const { values: opts } = parseArgs({
  options: {
    files: { type: 'string', default: '256' },
    mib: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const FILES = Number(opts.files);
const MIB = Number(opts.mib);
const TARGET_RATIO = 0.8;
const run = promisify(execFile);

// Everything (the files, the core's data dir) lives under one temp dir, removed on exit, error or Ctrl-C.
const root = mkdtempSync(path.join(os.tmpdir(), 'aidos-bench-df-import-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.once('exit', cleanup); // also after an uncaught error
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** Random files, last modified an hour ago (the stat cache does not trust files changed in the last 2 s). */
function generate(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const buf = Buffer.allocUnsafe(MIB * 2 ** 20);
  const hourAgo = new Date(Date.now() - 3600_000);
  const files: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const file = path.join(dir, `part-${String(i).padStart(5, '0')}.bin`);
    writeFileSync(file, randomFillSync(buf));
    utimesSync(file, hourAgo, hourAgo);
    files.push(file);
  }
  return files;
}

/** One `sha256sum` over every file: its wall and CPU time. */
async function sha256sum(files: string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  await run('sha256sum', ['--', ...files], { maxBuffer: 64 * 2 ** 20 });
  return { wallMs: performance.now() - t0, cpuMs: childrenCpuMs() - cpu0 };
}

async function main() {
  const load0 = os.loadavg();
  const folder = path.join(root, 'data');
  const files = generate(folder);
  const bytes = FILES * MIB * 2 ** 20;
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);

  // Written back before anything is timed, or the import's fsyncs would also wait for the 2 GiB just generated.
  await run('sync');
  await sha256sum(files); // warm the page cache (untimed)
  const sumBefore = await sha256sum(files);
  const t = await startTestCore({ dataDir: path.join(root, 'core') });
  let cold: ImportRun;
  let again: ImportRun;
  try {
    const finished = jobWatcher(t);
    cold = await importFolder(t, finished, folder);
    again = await importFolder(t, finished, folder);
  } finally {
    await t.close();
  }
  const sumAfter = await sha256sum(files);
  const load1 = os.loadavg();

  if (cold.result.hashedFiles !== FILES || !cold.result.created)
    throw new Error(`cold import hashed ${cold.result.hashedFiles} of ${FILES} files`);
  const sumMs = (sumBefore.wallMs + sumAfter.wallMs) / 2;
  const sumCpuMs = (sumBefore.cpuMs + sumAfter.cpuMs) / 2;
  const result = {
    benchmark: 'dataforge-import',
    files: FILES,
    fileMiB: MIB,
    bytes,
    sha256sum: { before: sumBefore, after: sumAfter },
    sha256sumMBps: mbps(sumMs),
    sha256sumCpuMBps: mbps(sumCpuMs),
    importWallMs: cold.wallMs,
    importJobMs: cold.jobMs,
    importCpuMs: cold.cpuMs,
    importMBps: mbps(cold.wallMs),
    importCpuMBps: mbps(cold.cpuMs),
    ratio: sumMs / cold.wallMs,
    cpuRatio: sumCpuMs / cold.cpuMs,
    reimportWallMs: again.wallMs,
    reimportJobMs: again.jobMs,
    reimportHashedFiles: again.result.hashedFiles,
    reimportCreated: again.result.created,
    loadAverage: { start: load0, end: load1 },
    targetRatio: TARGET_RATIO,
    targetMet: false,
  };
  result.targetMet = result.ratio >= TARGET_RATIO;
  if (opts.json) console.log(JSON.stringify(result));
  else {
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `dataforge-import: ${FILES} files x ${MIB} MiB random (${(bytes / 2 ** 30).toFixed(2)} GiB), written back with \`sync\`, page cache warmed by an untimed sha256sum`,
    );
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    console.log(
      `  sha256sum (one process, all files)  ${s(sumBefore.wallMs)} before, ${s(sumAfter.wallMs)} after (CPU ${s(sumBefore.cpuMs)}, ${s(sumAfter.cpuMs)})` +
        `  ->  ${result.sha256sumMBps.toFixed(0)} MB/s (per CPU second: ${result.sha256sumCpuMBps.toFixed(0)} MB/s)`,
    );
    console.log(
      `  cold import (fresh core)            ${s(cold.wallMs)} (job ${s(cold.jobMs)}, CPU ${s(cold.cpuMs)})  ->  ${result.importMBps.toFixed(0)} MB/s` +
        ` (per CPU second: ${result.importCpuMBps.toFixed(0)} MB/s)  = ${pct(result.ratio)} of sha256sum (by CPU time: ${pct(result.cpuRatio)})`,
    );
    console.log(
      `  re-import, nothing changed          ${again.wallMs.toFixed(0)} ms (job ${again.jobMs} ms), ${again.result.hashedFiles} files read, ` +
        `${again.result.created ? 'a new version (unexpected)' : 'no new version'}`,
    );
    console.log(
      `  load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`,
    );
    console.log(
      `  target import >= ${TARGET_RATIO * 100}% of sha256sum throughput: ${result.targetMet ? 'met' : 'MISSED'}`,
    );
  }
}

try {
  await main();
} finally {
  cleanup();
}
