/**
 * The two IPC channels between the preload script and the main process, and what the bootstrap call returns.
 * The preload script may not import main-process code, so src/preload/index.ts spells the same literals;
 * ipc.test.ts fails when the two drift apart or the preload grows a channel that is not listed here.
 */
export const CHANNELS = {
  /** Synchronous, at preload time: the API base URL, the local token and the platform. */
  bootstrap: 'aidos:bootstrap',
  /** Invoked: the native folder picker; resolves to the chosen path or null. */
  chooseFolder: 'aidos:choose-folder',
} as const;

export type Bootstrap =
  { ok: true; apiBaseUrl: string; token: string; platform: string } | { ok: false; error: string };
