/**
 * The desktop shell's wiring, run under plain Node with a stand-in for Electron (testing/electron-stub.ts):
 * main.ts boots a real core, opens its window on the core's URL with the locked-down webPreferences, refuses
 * foreign navigation, IPC callers and permissions, and closes the core before it quits.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as stub from './testing/electron-stub';

vi.mock('electron', () => import('./testing/electron-stub'));

let dataDir = '';
const savedEnv = { ...process.env };

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aidos-shell-'));
  process.env.AIDOS_HOME = dataDir;
  process.env.AIDOS_PORT = '0';
  process.env.AIDOS_LOG_LEVEL = 'silent';
  stub.resetStub();
  vi.resetModules();
});

afterEach(async () => {
  // Leave nothing running if a test failed half-way.
  for (const win of stub.BrowserWindow.getAllWindows()) win.close();
  await until(() => stub.state.quit || stub.state.exitCode !== null, 'the shell to quit').catch(() => undefined);
  process.env = { ...savedEnv };
  rmSync(dataDir, { recursive: true, force: true });
});

async function until<T>(read: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function navigation(url: string) {
  return {
    url,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

async function bootShell() {
  await import('./main');
  const win = await until(() => stub.BrowserWindow.all.find((w) => w.url), 'the window to load the UI');
  return { win, url: win.url as string, contents: win.webContents };
}

describe('the Electron shell', () => {
  it('boots the core and opens a locked-down window on its URL', async () => {
    const { win, url } = await bootShell();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const prefs = win.options.webPreferences ?? {};
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(prefs.preload)).toMatch(/[/\\]preload[/\\]index\.cjs$/);
    await until(() => win.shown, 'the window to show');
  });

  it('keeps the window on the app origin and sends http(s) links to the system browser', async () => {
    const { url, contents } = await bootShell();
    const inside = navigation(`${url}/jobs`);
    contents.emit('will-navigate', inside);
    expect(inside.defaultPrevented).toBe(false);

    const outside = navigation('https://example.com/docs');
    contents.emit('will-navigate', outside);
    expect(outside.defaultPrevented).toBe(true);
    expect(stub.state.openedExternal).toEqual(['https://example.com/docs']);

    const redirect = navigation('http://evil.example/');
    contents.emit('will-redirect', redirect);
    expect(redirect.defaultPrevented).toBe(true);

    expect(contents.windowOpenHandler?.({ url: 'https://huggingface.co/' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(stub.state.openedExternal).toEqual(['https://example.com/docs', 'https://huggingface.co/']);
  });

  it('refuses every permission request', async () => {
    await bootShell();
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      stub.state.permissionHandler?.({}, permission, (granted) => answers.push(granted));
    }
    expect(answers).toEqual([false, false, false, false]);
  });

  it('answers IPC only from the main frame of its window on the app origin', async () => {
    const { url, contents } = await bootShell();
    const bootstrap = stub.ipcMain.listeners.get('aidos:bootstrap') as (e: unknown) => void;
    const chooseFolder = stub.ipcMain.handlers.get('aidos:choose-folder') as (e: unknown) => Promise<string | null>;
    const main = contents.mainFrame.frameTreeNodeId;
    const call = (event: { sender: unknown; senderFrame: unknown }) => {
      const e = { ...event, returnValue: undefined as unknown };
      bootstrap(e);
      return e.returnValue;
    };

    const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const trusted = { sender: contents, senderFrame: { frameTreeNodeId: main, url: `${url}/` } };
    expect(call(trusted)).toEqual({ ok: true, apiBaseUrl: url, token, platform: process.platform });
    await expect(chooseFolder(trusted)).resolves.toBe('/picked/folder');

    const refused = [
      { sender: contents, senderFrame: { frameTreeNodeId: main + 1, url: `${url}/` } }, // a subframe
      { sender: contents, senderFrame: { frameTreeNodeId: main, url: 'https://evil.example/' } }, // navigated away
      { sender: new stub.StubWebContents(), senderFrame: { frameTreeNodeId: main, url: `${url}/` } }, // another window
      { sender: contents, senderFrame: null }, // the frame is gone
    ];
    for (const event of refused) {
      expect(call(event)).toMatchObject({ ok: false });
      await expect(chooseFolder(event)).rejects.toThrow(/refused/);
    }
  });

  it('closes the core, then quits, when its window closes', async () => {
    const { win, url } = await bootShell();
    expect(existsSync(path.join(dataDir, 'aidos.lock'))).toBe(true);
    win.close();
    await until(() => stub.state.quit, 'the app to quit');
    expect(existsSync(path.join(dataDir, 'aidos.lock'))).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('says so in a native error dialog when its port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    process.env.AIDOS_PORT = String(port);
    try {
      await import('./main');
      await until(() => stub.state.exitCode !== null, 'the shell to give up');
      expect(stub.state.exitCode).toBe(1);
      expect(stub.state.errorBoxes).toHaveLength(1);
      expect(stub.state.errorBoxes[0]?.message).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(stub.state.errorBoxes[0]?.message).toContain('AIDOS_PORT');
      expect(stub.BrowserWindow.all).toHaveLength(0);
      expect(existsSync(path.join(dataDir, 'aidos.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
