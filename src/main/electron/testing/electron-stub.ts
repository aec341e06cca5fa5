/**
 * A stand-in for the 'electron' module, just large enough for main.ts to run under plain Node in a test (the
 * Electron binary cannot be downloaded on the build machines). It records what the shell asks of Electron and
 * lets the test play the user's part: close the window, click a link, call over IPC.
 */
import { EventEmitter } from 'node:events';

// vi.resetModules() gives main.ts a fresh copy of this module; the objects live on globalThis so that the test
// and every copy see the same ones.
const shared = ((globalThis as { __aidosElectronStub?: Record<string, unknown> }).__aidosElectronStub ??= {});
function once<T>(key: string, make: () => T): T {
  if (!(key in shared)) shared[key] = make();
  return shared[key] as T;
}

type Listener = (...args: never[]) => unknown;

export const state = once('state', () => ({
  errorBoxes: [] as { title: string; message: string }[],
  openedExternal: [] as string[],
  permissionHandler: null as
    null | ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void),
  quit: false,
  exitCode: null as number | null,
}));

class StubApp extends EventEmitter {
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  /** Like Electron: `before-quit` may cancel the quit with preventDefault(). */
  quit(): void {
    const event = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit('before-quit', event);
    if (!event.defaultPrevented) state.quit = true;
  }
  exit(code = 0): void {
    state.exitCode = code;
  }
}

export const app = once('app', () => new StubApp());

const ids = once('ids', () => ({ next: 1 }));

export class StubWebContents extends EventEmitter {
  readonly id = ids.next++;
  readonly mainFrame = { frameTreeNodeId: this.id * 1000, url: '' };
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

const windows = once('windows', () => [] as BrowserWindow[]);

export class BrowserWindow extends EventEmitter {
  static get all(): BrowserWindow[] {
    return windows;
  }
  static getAllWindows(): BrowserWindow[] {
    return windows.filter((w) => !w.destroyed);
  }
  readonly webContents = new StubWebContents();
  destroyed = false;
  shown = false;
  url: string | null = null;
  constructor(readonly options: { webPreferences?: Record<string, unknown> } & Record<string, unknown>) {
    super();
    windows.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.url = url;
    this.webContents.mainFrame.url = url;
    setImmediate(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  show(): void {
    this.shown = true;
  }
  focus(): void {}
  /** The user closes the window. */
  close(): void {
    this.destroyed = true;
    this.emit('closed');
    if (BrowserWindow.getAllWindows().length === 0) app.emit('window-all-closed');
  }
}

export const ipcMain = once('ipcMain', () => ({
  listeners: new Map<string, Listener>(),
  handlers: new Map<string, Listener>(),
  on(channel: string, listener: Listener) {
    this.listeners.set(channel, listener);
  },
  handle(channel: string, handler: Listener) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  },
}));

export const dialog = once('dialog', () => ({
  showErrorBox(title: string, message: string) {
    state.errorBoxes.push({ title, message });
  },
  showOpenDialog: () => Promise.resolve({ canceled: false, filePaths: ['/picked/folder'] }),
}));

export const session = {
  defaultSession: {
    setPermissionRequestHandler(handler: typeof state.permissionHandler) {
      state.permissionHandler = handler;
    },
  },
};

export const shell = {
  openExternal(url: string): Promise<void> {
    state.openedExternal.push(url);
    return Promise.resolve();
  },
};

/** Forgets everything, so main.ts can be imported afresh by the next test. */
export function resetStub(): void {
  state.errorBoxes = [];
  state.openedExternal = [];
  state.permissionHandler = null;
  state.quit = false;
  state.exitCode = null;
  app.removeAllListeners();
  windows.length = 0;
  ipcMain.listeners.clear();
  ipcMain.handlers.clear();
}
