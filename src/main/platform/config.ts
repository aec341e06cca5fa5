import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '#shared/errors';

/** As large as one upload may be. */
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 ** 3;
const DEFAULT_MAX_ARCHIVE_BYTES = 256 * 1024 ** 3;
const DEFAULT_MAX_ARCHIVE_ENTRIES = 1_000_000;

/**
 * Configuration, lowest to highest precedence: defaults, `<dataDir>/config.json`, environment (`AIDOS_*`),
 * command-line flags. Validated once at start; a bad value stops the start with a message naming it.
 */
export const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8000),
  /** Binding beyond loopback needs this and at least one API key. */
  allowRemote: z.boolean().default(false),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Also log to stderr (the log file in `<dataDir>/logs` is always written). */
  logToStderr: z.boolean().default(true),
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * On SIGTERM or Ctrl+C, `aidos serve` refuses new requests (503) and gives those under way, queued ones included,
   * this long to finish before it cuts them off; a second signal stops it at once.
   */
  shutdownGraceSeconds: z.number().min(0).max(3600).default(30),
  rateLimit: z
    .object({
      /** Requests per key per window; the local token is not limited. */
      max: z.number().int().min(1).default(600),
      windowMs: z.number().int().min(100).default(60_000),
    })
    .default({ max: 600, windowMs: 60_000 }),
  queue: z
    .object({
      concurrency: z.number().int().min(1).max(64).default(4),
      leaseMs: z.number().int().min(500).default(30_000),
      pollMs: z.number().int().min(10).default(500),
    })
    .default({ concurrency: 4, leaseMs: 30_000, pollMs: 500 }),
  /** Directory of the built renderer served at `/`; empty to serve no UI. */
  rendererDir: z.string().default(''),
  dataforge: z
    .object({
      /** The largest file an import (folder, file or archive entry) or an upload may hold. */
      maxFileBytes: z.number().int().min(1).default(DEFAULT_MAX_FILE_BYTES),
      /** Archive imports stop past this many uncompressed bytes in all, or this many entries (zip bombs). */
      maxArchiveBytes: z.number().int().min(1).default(DEFAULT_MAX_ARCHIVE_BYTES),
      maxArchiveEntries: z.number().int().min(1).default(DEFAULT_MAX_ARCHIVE_ENTRIES),
    })
    .default({
      maxFileBytes: DEFAULT_MAX_FILE_BYTES,
      maxArchiveBytes: DEFAULT_MAX_ARCHIVE_BYTES,
      maxArchiveEntries: DEFAULT_MAX_ARCHIVE_ENTRIES,
    }),
  trainos: z
    .object({
      /** The Slurm cluster that training jobs with `executor: 'slurm'` go to. */
      slurm: z
        .object({
          /** Its slurm.conf (SLURM_CONF for every Slurm command); default: Slurm's own lookup. */
          conf: z.string().min(1).optional(),
          /** Where sbatch, squeue, scancel and scontrol are; default: PATH. */
          binDir: z.string().min(1).optional(),
          /** `--partition`; default: the cluster's default partition. */
          partition: z.string().min(1).optional(),
          /** More sbatch options for every job (`--account=ml`). */
          sbatchArgs: z.array(z.string()).default([]),
        })
        .default({ sbatchArgs: [] }),
    })
    .default({ slurm: { sbatchArgs: [] } }),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.AIDOS_HOME ?? path.join(homedir(), '.aidos'));
}

/** `fromFile` is there so that a variable setting one key of a section keeps the file's other keys. */
function envOverrides(env: NodeJS.ProcessEnv, fromFile: Partial<ConfigInput>): Partial<ConfigInput> {
  const out: Partial<ConfigInput> = {};
  if (env.AIDOS_HOST) out.host = env.AIDOS_HOST;
  if (env.AIDOS_PORT) out.port = Number(env.AIDOS_PORT);
  if (env.AIDOS_LOG_LEVEL) out.logLevel = env.AIDOS_LOG_LEVEL as Config['logLevel'];
  if (env.AIDOS_SHUTDOWN_GRACE_SECONDS) out.shutdownGraceSeconds = Number(env.AIDOS_SHUTDOWN_GRACE_SECONDS);
  if (env.AIDOS_SLURM_CONF || env.AIDOS_SLURM_PARTITION) {
    const slurm = { ...fromFile.trainos?.slurm };
    if (env.AIDOS_SLURM_CONF) slurm.conf = env.AIDOS_SLURM_CONF;
    if (env.AIDOS_SLURM_PARTITION) slurm.partition = env.AIDOS_SLURM_PARTITION;
    out.trainos = { ...fromFile.trainos, slurm };
  }
  if (env.AIDOS_MAX_FILE_BYTES)
    out.dataforge = { ...fromFile.dataforge, maxFileBytes: Number(env.AIDOS_MAX_FILE_BYTES) };
  return out;
}

export function loadConfig(flags: Partial<ConfigInput> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(flags.dataDir ?? defaultDataDir(env));
  const file = path.join(dataDir, 'config.json');
  let fromFile: Partial<ConfigInput> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Partial<ConfigInput>;
    } catch (err) {
      throw new AppError('INVALID_ARGUMENT', `${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const result = ConfigSchema.safeParse({ ...fromFile, ...envOverrides(env, fromFile), ...defined, dataDir });
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || 'config';
    throw new AppError('INVALID_ARGUMENT', `configuration ${where}: ${issue?.message ?? 'invalid'}`, {
      issues: result.error.issues,
    });
  }
  return result.data;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The local token's file: read by the CLI and the desktop shell, written by the security service. */
export function localTokenPath(dataDir: string): string {
  return path.join(dataDir, 'token');
}
