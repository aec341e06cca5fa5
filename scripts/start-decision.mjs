// Which shell `npm start` runs: the Electron desktop app when its runtime can run here, else the headless
// core (`aidos serve`), with one line saying why. Pure apart from locateElectron, which only reads files.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const INSTALL_HINT = 'to install it, run: node node_modules/electron/install.js';

/**
 * Where the Electron executable would be, without the side effect of `require('electron')`, which tries to
 * download the binary when it is missing (a network call `npm start` must not make silently).
 * @returns {{ electronPath: string | null, packageDir: string | null }}
 */
export function locateElectron(env = process.env, require = createRequire(import.meta.url)) {
  let packageDir;
  try {
    packageDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { electronPath: null, packageDir: null };
  }
  let relative;
  try {
    relative = readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    relative = '';
  }
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    return { electronPath: path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron'), packageDir };
  }
  return { electronPath: relative ? path.join(packageDir, 'dist', relative) : null, packageDir };
}

/** True for an existing regular file this process may execute. */
export function isExecutableFile(file) {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {{
 *   electronPath: string | null,          // from locateElectron(); null when the binary was never downloaded
 *   isExecutable: (file: string) => boolean,
 *   platform: NodeJS.Platform,
 *   env: Record<string, string | undefined>,
 *   uid?: number,                         // process.getuid?.(): Chromium's sandbox refuses to run as root
 * }} input
 * @returns {{ shell: 'electron', electronPath: string } | { shell: 'headless', reason: string }}
 */
export function chooseShell({ electronPath, isExecutable, platform, env, uid }) {
  if (env.AIDOS_HEADLESS && env.AIDOS_HEADLESS !== '0') {
    return { shell: 'headless', reason: 'AIDOS_HEADLESS is set' };
  }
  if (!electronPath) {
    return {
      shell: 'headless',
      reason:
        'Electron runtime not installed (its binary is downloaded on first use and that failed or has not happened: ' +
        `node_modules/electron/path.txt is missing; ${INSTALL_HINT})`,
    };
  }
  if (!isExecutable(electronPath)) {
    return {
      shell: 'headless',
      reason: `Electron runtime not installed (${electronPath} is missing or not executable; ${INSTALL_HINT})`,
    };
  }
  if (platform !== 'darwin' && platform !== 'win32') {
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) {
      return { shell: 'headless', reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
    }
    if (platform === 'linux' && uid === 0) {
      return {
        shell: 'headless',
        reason: "running as root (Chromium's sandbox does not run as root, and AI-DOS keeps the sandbox on)",
      };
    }
  }
  return { shell: 'electron', electronPath };
}
