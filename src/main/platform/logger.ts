import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.token',
  '*.secret',
  '*.password',
  'token',
  'secret',
];

export interface LoggerOptions {
  level: string;
  /** `<dataDir>/logs`; the file rotates at 10 MB and keeps the last 5. */
  logDir: string;
  stderr: boolean;
}

/** Structured JSON logs to a rotating file in the data dir and, unless silenced, to stderr. */
export async function createLogger(options: LoggerOptions): Promise<{ logger: Logger; close: () => void }> {
  mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  const file = await pinoRoll({
    file: path.join(options.logDir, 'aidos'),
    extension: '.log',
    size: '10m',
    limit: { count: 5 },
  });
  // A log file that cannot be written (disk full, data dir removed) must not take the core down.
  file.on('error', (err: Error) => process.stderr.write(`aidos: cannot write the log file: ${err.message}\n`));
  const streams: pino.StreamEntry[] = [{ stream: file, level: options.level as pino.Level }];
  if (options.stderr) streams.push({ stream: pino.destination(2), level: options.level as pino.Level });
  const logger = pino(
    { level: options.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    pino.multistream(streams),
  );
  return {
    logger,
    close: () => {
      logger.flush();
      file.end();
    },
  };
}

/** A logger that writes nowhere, for unit tests and tools that do not own a data dir. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
