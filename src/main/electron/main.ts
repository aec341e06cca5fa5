/**
 * The Electron shell (ARCHITECTURE.md §1): boots the core in-process (or, when its native modules are not built
 * for Electron, as a child Node.js process), opens one window on the renderer the core
 * serves, and offers the renderer exactly two things over IPC (the bootstrap values and the folder picker).
 * No business logic lives here; the rules it applies are pure functions beside it, tested without Electron.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  session,
  shell,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { loadConfig, type Config } from '#platform/config';
import { startCore } from '#core/core';
import { isNativeModuleMismatch, startChildCore, type RunningCore } from './child-core';
import { CHANNELS, type Bootstrap } from './ipc';
import { externalLinkToOpen, isAppNavigation, originOf } from './navigation';
import { isTrustedSender } from './sender-check';
import { startFailureMessage } from './start-failure';

// This file is built to out/main/index.js; the preload and the renderer are built next to it.
const OUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PRELOAD = path.join(OUT_DIR, 'preload', 'index.cjs');
const RENDERER_DIR = path.join(OUT_DIR, 'renderer');

let core: RunningCore | undefined;
let appOrigin = '';
let win: BrowserWindow | null = null;

function rendererDir(): string {
  return existsSync(path.join(RENDERER_DIR, 'index.html')) ? RENDERER_DIR : '';
}

/** The IPC rule: only the main frame of our window, showing a page of the core's origin. */
function fromOurWindow(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!win || win.isDestroyed() || !frame || event.sender.id !== win.webContents.id) return false;
  const isMainFrame = frame.frameTreeNodeId === win.webContents.mainFrame.frameTreeNodeId;
  return isTrustedSender(frame.url, isMainFrame, appOrigin);
}

function registerIpc(): void {
  ipcMain.on(CHANNELS.bootstrap, (event) => {
    let reply: Bootstrap;
    if (!core || !fromOurWindow(event)) reply = { ok: false, error: 'refused: not the AI-DOS window' };
    else {
      try {
        const token = readFileSync(core.localTokenFile, 'utf8').trim();
        reply = { ok: true, apiBaseUrl: core.url, token, platform: process.platform };
      } catch (err) {
        reply = { ok: false, error: `cannot read the local token: ${(err as Error).message}` };
      }
    }
    event.returnValue = reply;
  });

  ipcMain.handle(CHANNELS.chooseFolder, async (event): Promise<string | null> => {
    if (!win || !fromOurWindow(event)) throw new Error('refused: not the AI-DOS window');
    const result = await dialog.showOpenDialog(win, { properties: ['openDirectory', 'createDirectory'] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
}

/** The window shows the app's origin only: other links open in the system browser (http/https) or nowhere. */
function lockNavigation(contents: WebContents): void {
  contents.on('will-navigate', (event) => {
    if (isAppNavigation(event.url, appOrigin)) return;
    event.preventDefault();
    const external = externalLinkToOpen(event.url);
    if (external) void shell.openExternal(external);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppNavigation(event.url, appOrigin)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    const external = externalLinkToOpen(url);
    if (external) void shell.openExternal(external);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function createWindow(url: string): void {
  win = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: 'AI-DOS',
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: PRELOAD,
    },
  });
  lockNavigation(win.webContents);
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => {
    win = null;
  });
  win.loadURL(url).catch((err: unknown) => {
    console.error('AI-DOS: the desktop window could not load the UI:', err);
  });
}

function focusWindow(): void {
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

let closing: Promise<void> | undefined;
let closed = false;

/** Closes the core once (stops the queue, the server and the database); later calls share the first. */
function closeCore(): Promise<void> {
  closing ??= (core ? core.close() : Promise.resolve())
    .catch((err: unknown) => console.error('AI-DOS: closing the core failed:', err))
    .finally(() => {
      closed = true;
    });
  return closing;
}

/** The built CLI beside this file, which a child Node.js runs as `aidos serve`. */
const CLI = path.join(OUT_DIR, 'main', 'cli.js');

/**
 * The core in this process; when its native modules were built for Node.js rather than Electron (a checkout
 * that was not rebuilt for Electron), the same core as a child `aidos serve` under Node.js (`AIDOS_NODE` or
 * `node` on the PATH).
 */
async function startCoreHere(config: Config): Promise<RunningCore> {
  try {
    return await startCore(config);
  } catch (err) {
    if (!isNativeModuleMismatch(err)) throw err;
    console.warn(
      'AI-DOS: native modules are built for Node.js, not Electron; running the core as a child Node.js process',
    );
    const env: NodeJS.ProcessEnv = { ...process.env, AIDOS_HOME: config.dataDir };
    delete env.ELECTRON_RUN_AS_NODE;
    return startChildCore(process.env.AIDOS_NODE ?? 'node', [CLI], env);
  }
}

async function boot(): Promise<void> {
  // The app needs no camera, microphone, notifications, geolocation or the like: every request is refused.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  registerIpc();

  let config: Config | undefined;
  try {
    config = loadConfig({ rendererDir: rendererDir() });
    core = await startCoreHere(config);
    appOrigin = originOf(core.url);
  } catch (err) {
    dialog.showErrorBox('AI-DOS could not start', startFailureMessage(err, config?.dataDir));
    await closeCore();
    app.exit(1);
    return;
  }
  const url = core.url;
  createWindow(url);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(url);
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another AI-DOS window is open: it gets focus (below, in that process) and this one leaves.
  app.quit();
} else {
  app.on('second-instance', focusWindow);

  app.on('window-all-closed', () => {
    // macOS convention: the app stays (and so does its core) until the user quits it.
    if (process.platform !== 'darwin') void closeCore().then(() => app.quit());
  });

  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void closeCore().then(() => app.quit());
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  app.whenReady().then(boot, (err: unknown) => {
    console.error('AI-DOS: Electron failed to start:', err);
    app.exit(1);
  });
}
