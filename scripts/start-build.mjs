// Builds the app (electron-vite build) when out/ is missing or older than its sources; used by `npm start`
// and the benchmarks. A build takes a few seconds; an up-to-date tree skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the build must produce: the desktop main, the CLI, the preload script and the web UI. */
export const OUTPUTS = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const INPUTS = [
  'src',
  'package.json',
  'electron.vite.config.ts',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
];

function newestMtime(file) {
  if (!existsSync(file)) return 0;
  const st = statSync(file);
  if (!st.isDirectory()) return /\.test\.tsx?$/.test(file) ? 0 : st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

/** Why a build is needed, or null when out/ is up to date. */
export function buildNeeded(root = ROOT) {
  const outputs = OUTPUTS.map((f) => path.join(root, f));
  const missing = outputs.find((f) => !existsSync(f));
  if (missing) return `${path.relative(root, missing)} is missing`;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  const newestInput = Math.max(...INPUTS.map((f) => newestMtime(path.join(root, f))));
  return newestInput > oldestOutput ? 'the sources changed since the last build' : null;
}

/** Builds if needed; on failure prints the build's output and returns false. */
export function ensureBuilt({ root = ROOT, log = (line) => console.error(line) } = {}) {
  const why = buildNeeded(root);
  if (!why) return true;
  log(`aidos: building (${why}): electron-vite build`);
  // The package's exports hide its bin script from require.resolve; it sits at a fixed place in node_modules.
  const cli = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(cli)) {
    log('aidos: electron-vite is not installed: run "npm install" first');
    return false;
  }
  const result = spawnSync(process.execPath, [cli, 'build'], { cwd: root, encoding: 'utf8' });
  if (result.status === 0) return true;
  log(`${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd());
  log(`aidos: the build failed (${result.error?.message ?? `exit code ${result.status}`})`);
  return false;
}
