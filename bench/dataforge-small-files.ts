// DataForge with many small files: 100,000 files x 4 KiB of random bytes (folders of 1,000) imported into a fresh
// core through the real service (`datasets.import`, the job `aidos datasets import` runs), against
// `git lfs track '*' && git add -A` on the same files in a fresh git repository; then both again with nothing
// changed (the stat cache; git's index). Plain `git add -A` stands in when git-lfs is not installed (then the
// output says so). Targets: import >= 5x faster than git lfs; a no-change re-import < 1 s.
//   npx tsx bench/dataforge-small-files.ts [--files 100000] [--json]
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { startTestCore } from '#core/testing';
import { childrenCpuMs, importFolder, jobWatcher } from './dataforge-common';

const { values: opts } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
  },
});
const FILES = Number(opts.files);
const FILE_BYTES = 4096;
const PER_FOLDER = 1000;
const TARGET_SPEEDUP = 5;
const TARGET_REIMPORT_MS = 1000;
const run = promisify(execFile);

// Everything (the files, the core's data dir, the git repository) lives under one temp dir, removed on exit,
// error or Ctrl-C.
const root = mkdtempSync(path.join(os.tmpdir(), 'aidos-bench-df-small-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.once('exit', cleanup); // also after an uncaught error
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

/** `d000/f0000.bin`...: random files, last modified an hour ago (the stat cache does not trust newer ones). */
function generate(dir: string): void {
  const buf = Buffer.allocUnsafe(FILE_BYTES);
  const hourAgo = new Date(Date.now() - 3600_000);
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / PER_FOLDER)).padStart(3, '0')}`);
    if (i % PER_FOLDER === 0) mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${String(i % PER_FOLDER).padStart(4, '0')}.bin`);
    writeFileSync(file, randomFillSync(buf));
    utimesSync(file, hourAgo, hourAgo);
  }
}

/** The share of time some task waited for I/O over the last 10 s (Linux PSI), or null where the kernel has no PSI. */
function ioPressure(): number | null {
  try {
    const match = /^some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/io', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

interface Timed {
  wallMs: number;
  cpuMs: number;
}

async function gitLfsAvailable(): Promise<boolean> {
  try {
    await run('git', ['lfs', 'version']);
    return true;
  } catch {
    return false;
  }
}

/** A fresh repository whose work tree is `folder` (git's own files elsewhere, so the folder stays as it was). */
async function gitSide(folder: string, lfs: boolean): Promise<{ add: Timed; again: Timed; version: string }> {
  const gitDir = path.join(root, 'repo.git');
  const home = path.join(root, 'home'); // no user or system config, and `git lfs install` writes here
  mkdirSync(home);
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_DIR: gitDir,
    GIT_WORK_TREE: folder,
  };
  const git = (...args: string[]) => run('git', args, { cwd: folder, env, maxBuffer: 256 * 2 ** 20 });
  const timed = async (fn: () => Promise<unknown>): Promise<Timed> => {
    const cpu0 = childrenCpuMs();
    const t0 = performance.now();
    await fn();
    return { wallMs: performance.now() - t0, cpuMs: childrenCpuMs() - cpu0 };
  };
  await git('init', '-q');
  if (lfs) await git('lfs', 'install', '--local');
  const version = lfs ? (await git('lfs', 'version')).stdout.trim() : (await git('version')).stdout.trim();
  const add = await timed(async () => {
    if (lfs) await git('lfs', 'track', '*');
    await git('add', '-A');
  });
  const again = await timed(() => git('add', '-A'));
  const staged = (await git('ls-files')).stdout.split('\n').filter((l) => l.endsWith('.bin')).length;
  if (staged !== FILES) throw new Error(`git staged ${staged} of ${FILES} files`);
  if (lfs) {
    const pointers = (await git('lfs', 'ls-files')).stdout.split('\n').filter((l) => l.endsWith('.bin')).length;
    if (pointers !== FILES) throw new Error(`git lfs stored ${pointers} of ${FILES} files`);
  }
  return { add, again, version };
}

async function main() {
  const load0 = os.loadavg();
  const folder = path.join(root, 'data');
  const g0 = performance.now();
  generate(folder);
  const generateMs = performance.now() - g0;
  // Written back before anything is timed: otherwise the import's fsyncs wait for the 400 MB just generated
  // (ext4 commits its journal for every file), while git, which never fsyncs, would not.
  const s0 = performance.now();
  await run('sync');
  const syncMs = performance.now() - s0;
  const io0 = ioPressure();

  const t = await startTestCore({ dataDir: path.join(root, 'core') });
  let cold;
  let again;
  try {
    const finished = jobWatcher(t);
    cold = await importFolder(t, finished, folder);
    again = await importFolder(t, finished, folder);
  } finally {
    await t.close();
  }
  if (cold.result.hashedFiles !== FILES || !cold.result.created)
    throw new Error(`cold import hashed ${cold.result.hashedFiles} of ${FILES} files`);
  const lfs = await gitLfsAvailable();
  const git = await gitSide(folder, lfs);
  const load1 = os.loadavg();
  const io1 = ioPressure();

  const result = {
    benchmark: 'dataforge-small-files',
    files: FILES,
    fileBytes: FILE_BYTES,
    generateMs,
    syncMs,
    importWallMs: cold.wallMs,
    importJobMs: cold.jobMs,
    importCpuMs: cold.cpuMs,
    importFilesPerSecond: FILES / (cold.wallMs / 1000),
    reimportWallMs: again.wallMs,
    reimportJobMs: again.jobMs,
    reimportCpuMs: again.cpuMs,
    reimportHashedFiles: again.result.hashedFiles,
    reimportCreated: again.result.created,
    git: {
      lfs,
      version: git.version,
      command: lfs ? "git lfs track '*' && git add -A" : 'git add -A',
      ...git.add,
      again: git.again,
    },
    speedup: git.add.wallMs / cold.wallMs,
    loadAverage: { start: load0, end: load1 },
    ioPressure: { start: io0, end: io1 },
    targetSpeedup: TARGET_SPEEDUP,
    targetReimportMs: TARGET_REIMPORT_MS,
    speedupMet: false,
    reimportMet: false,
  };
  result.speedupMet = result.speedup >= TARGET_SPEEDUP;
  result.reimportMet = again.wallMs < TARGET_REIMPORT_MS && again.result.hashedFiles === 0 && !again.result.created;
  if (opts.json) console.log(JSON.stringify(result));
  else {
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rate = (ms: number) => `${(FILES / (ms / 1000)).toFixed(0)} files/s`;
    console.log(
      `dataforge-small-files: ${FILES} files x ${FILE_BYTES / 1024} KiB random, folders of ${PER_FOLDER} ` +
        `(generated in ${s(generateMs)}, then \`sync\` ${s(syncMs)})`,
    );
    console.log(
      `  cold import (fresh core)   ${s(cold.wallMs)} (job ${s(cold.jobMs)}, CPU ${s(cold.cpuMs)})  ->  ${rate(cold.wallMs)}`,
    );
    console.log(
      `  ${result.git.command.padEnd(25)}  ${s(git.add.wallMs)} (CPU ${s(git.add.cpuMs)})  ->  ${rate(git.add.wallMs)}   [${git.version}]`,
    );
    if (!lfs)
      console.log('  (git-lfs is not installed: plain `git add -A` stands in, which does less work than git lfs)');
    console.log(`  import is ${result.speedup.toFixed(2)}x as fast as ${lfs ? 'git lfs' : 'git add'}`);
    console.log(
      `  re-import, nothing changed ${again.wallMs.toFixed(0)} ms (job ${again.jobMs} ms, CPU ${again.cpuMs.toFixed(0)} ms), ` +
        `${again.result.hashedFiles} files read, ${again.result.created ? 'a new version (unexpected)' : 'no new version'}`,
    );
    console.log(
      `  git add -A, nothing changed ${git.again.wallMs.toFixed(0)} ms (CPU ${git.again.cpuMs.toFixed(0)} ms)`,
    );
    console.log(
      `  load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end` +
        (io0 === null || io1 === null ? '' : `; I/O pressure (some, avg10) ${io0}% at start, ${io1}% at end`),
    );
    console.log(
      `  target import >= ${TARGET_SPEEDUP}x as fast as ${lfs ? 'git lfs' : 'git add'}: ${result.speedupMet ? 'met' : 'MISSED'}`,
    );
    console.log(`  target no-change re-import < ${TARGET_REIMPORT_MS} ms: ${result.reimportMet ? 'met' : 'MISSED'}`);
  }
}

try {
  await main();
} finally {
  cleanup();
}
