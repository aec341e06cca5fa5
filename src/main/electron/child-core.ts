import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A core the desktop shell uses: in its own process, or a child `aidos serve` when that cannot be. */
export interface RunningCore {
  url: string;
  localTokenFile: string;
  close(): Promise<void>;
}

/**
 * Native modules (better-sqlite3) built for Node.js cannot load inside Electron (a different ABI); until they
 * are rebuilt for Electron (as packaging does), the shell runs the core as a child `aidos serve` under
 * Node.js and shows it in its window — the renderer talks HTTP to the core either way.
 */
export function isNativeModuleMismatch(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return (err as { code?: unknown } | null)?.code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION/.test(message);
}

/** Starts `<command> <args> --json serve` and resolves once it prints where it listens. */
export async function startChildCore(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<RunningCore> {
  // Quitting the app stops the core at once, as the in-process core does: requests under way are cut off with a
  // 503 rather than holding the quit for the serve command's grace.
  const child = spawn(command, [...args, '--json', 'serve'], {
    env: { ...env, AIDOS_SHUTDOWN_GRACE_SECONDS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<{ url: string; tokenFile: string }>((resolve, reject) => {
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as { url: string; tokenFile: string });
      } catch {
        reject(new Error(`the core printed an unexpected line: ${line}`));
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the core exited with code ${code}: ${stderr.trim()}`)));
  });
  const { url, tokenFile } = await ready;
  return {
    url,
    localTokenFile: tokenFile,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
