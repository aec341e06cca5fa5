/**
 * The text of the native error dialog shown when the core cannot start inside the desktop app. The core's own
 * message already names the problem; this adds what a desktop user (who has no --port flag) can do about it.
 */
export function startFailureMessage(err: unknown, dataDir?: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const configFile = dataDir ? `"port" in ${dataDir}/config.json` : '"port" in the data dir\'s config.json';
  if (/already in use/i.test(message) && /port/i.test(message)) {
    return (
      `${message}\n\nAnother AI-DOS (perhaps "aidos serve") or another program is using that port. ` +
      `Stop it, or choose another port with the AIDOS_PORT environment variable or ${configFile}.`
    );
  }
  if (code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION/.test(message)) {
    return (
      `${message}\n\nA native module (better-sqlite3) was compiled for Node.js, not for Electron. ` +
      'Rebuild it for Electron with "npx @electron/rebuild -f -w better-sqlite3", or use the headless shell ("aidos serve").'
    );
  }
  return message;
}
