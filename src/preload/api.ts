/**
 * The one object the preload script exposes to the renderer as `window.aidos` (Electron only). In a plain
 * browser it is absent and the renderer asks for the token instead.
 */
export interface DesktopBridge {
  /** The core's base URL, e.g. http://127.0.0.1:8000 */
  apiBaseUrl: string;
  /** The local token, so the desktop app never asks for it. */
  token: string;
  /** Opens the native folder picker; resolves to the chosen path or null. */
  chooseFolder(): Promise<string | null>;
  platform: string;
}

declare global {
  interface Window {
    aidos?: DesktopBridge;
  }
}
