import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(fraction: number, message?: string): void;
  stop(): void;
}

/**
 * The CLI's progress bar for long work. Draws on a terminal; when output is not a TTY (CI, pipes) it prints a
 * plain line now and then instead of escape codes.
 */
export function progressBar(title: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {percentage}% {message}`,
      stream,
      noTTYOutput: !stream.isTTY,
      notTTYSchedule: 2000,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { message: '' });
  return {
    update: (fraction, message) =>
      bar.update(Math.round(Math.max(0, Math.min(1, fraction)) * 100), { message: message ?? '' }),
    stop: () => bar.stop(),
  };
}
