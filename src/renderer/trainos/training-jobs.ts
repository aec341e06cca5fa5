import type { JobLogLine, TrainingJob } from '#shared/contracts/trainos';

/** A job's page: a query parameter of the queue's route, which is the one route the service registry gives it. */
export function trainingJobPath(jobId: string): string {
  return `/training/jobs?job=${jobId}`;
}

export const TRAINING_JOBS_PATH = '/training/jobs';

/** Where a job runs: "GPU 0,1", "CPU", or null before it is placed. */
export function formatPlacement(placement: TrainingJob['placement']): string | null {
  if (!placement) return null;
  return placement.gpus.length === 0 ? 'CPU' : `GPU ${placement.gpus.join(',')}`;
}

/** What the queue says beside the state: why a queued job waits, or why an ended one did not succeed. */
export function stateNote(job: TrainingJob): string | null {
  if (job.state === 'queued') return job.waitingReason;
  if (job.state === 'succeeded' || job.state === 'running') return null;
  return job.reason;
}

/** A read of the stored log: what `trainingJobs.logs` answers. */
export interface LogPage {
  lines: readonly JobLogLine[];
  nextByte: number;
  atEnd: boolean;
}

interface LiveLine {
  line: JobLogLine;
  nextByte: number;
}

/**
 * A job's log as the page shows it: the stored log read page by page, then continued by live lines, joined by
 * byte offset so that no line is missing or shown twice. Only the last `cap` lines are kept.
 *
 * The joining works because live lines are listened to before a read starts: lines written before the read are
 * in the file, later ones arrive live. While a read is out, live lines wait; a read is caught up when it made no
 * progress, the job has ended, or it reached past a waiting live line (every line after that one came live too).
 */
export class LogTail {
  private held: JobLogLine[] = [];
  private droppedLines = 0;
  private offset = 0;
  private reading = false;
  private waiting: LiveLine[] = [];

  constructor(private readonly cap: number) {}

  /** The log's byte offset after the last line held. */
  get nextByte(): number {
    return this.offset;
  }

  get lines(): readonly JobLogLine[] {
    return this.held;
  }

  /** How many earlier lines were let go to stay within the cap. */
  get dropped(): number {
    return this.droppedLines;
  }

  /** Starts (or goes on) reading the stored log: returns where to read from; live lines wait until it is in. */
  startRead(): number {
    this.reading = true;
    return this.offset;
  }

  /** A page read from `fromByte`; says whether to read on. */
  finishRead(fromByte: number, page: LogPage): 'more' | 'done' {
    if (fromByte !== this.offset) return 'more';
    this.append(page.lines);
    this.offset = page.nextByte;
    const caughtUp =
      page.atEnd || page.nextByte === fromByte || this.waiting.some((live) => live.nextByte <= page.nextByte);
    if (!caughtUp) return 'more';
    this.reading = false;
    for (const live of this.waiting.splice(0)) this.addLive(live.line, live.nextByte);
    return 'done';
  }

  /** A line from the event stream; `nextByte` is the log's offset after it. */
  addLive(line: JobLogLine, nextByte: number): void {
    if (this.reading) {
      this.waiting.push({ line, nextByte });
    } else if (nextByte > this.offset) {
      this.append([line]);
      this.offset = nextByte;
    }
  }

  private append(lines: readonly JobLogLine[]): void {
    this.held.push(...lines);
    // Trimmed in steps, not per line: slicing a long array for every line would cost more than the lines.
    if (this.held.length > this.cap * 1.1) {
      const excess = this.held.length - this.cap;
      this.held = this.held.slice(excess);
      this.droppedLines += excess;
    }
  }
}
