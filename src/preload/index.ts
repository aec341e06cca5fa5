/**
 * The preload script (sandboxed, so built as CommonJS): exposes one typed object, `window.aidos`, and nothing
 * else. The values come from the main process once, synchronously, before the page's scripts run; the main
 * process answers only our window's main frame on the app's origin (src/main/electron/sender-check.ts).
 * No generic invoke(channel, ...) passthrough: each capability is one named function.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { DesktopBridge } from './api';

// The same literals as CHANNELS in src/main/electron/ipc.ts (the preload may not import main-process code);
// src/main/electron/ipc.test.ts keeps them in step.
const BOOTSTRAP = 'aidos:bootstrap';
const CHOOSE_FOLDER = 'aidos:choose-folder';

type Bootstrap = { ok: true; apiBaseUrl: string; token: string; platform: string } | { ok: false; error: string };

const boot = ipcRenderer.sendSync(BOOTSTRAP) as Bootstrap;

if (boot.ok) {
  const bridge = {
    apiBaseUrl: boot.apiBaseUrl,
    token: boot.token,
    platform: boot.platform,
    chooseFolder: () => ipcRenderer.invoke(CHOOSE_FOLDER) as Promise<string | null>,
  } satisfies DesktopBridge;
  contextBridge.exposeInMainWorld('aidos', bridge);
} else {
  // Without the bridge the renderer behaves as in a browser: it asks for the token.
  console.warn(`AI-DOS desktop bridge unavailable: ${boot.error}`);
}
