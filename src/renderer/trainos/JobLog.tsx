import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { trainosEvents, type JobLogLine } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { useApi } from '../lib/api';
import { useEvents } from '../lib/events';
import { formatTime } from '../lib/format';
import { LogTail } from './training-jobs';

/** The most lines the page keeps: enough to scroll back through, few enough not to slow the page down. */
const MAX_LINES = 5_000;
/** Lines are drawn in blocks of this many; the browser skips laying out blocks off screen. */
const BLOCK = 200;
const PAGE_BYTES = 1_048_576;
/** A chatty job redraws the log a few times a second at most. */
const REDRAW_MS = 100;
/** How close to the bottom still counts as following the end, in pixels. */
const STICK_PX = 24;

const JobLogEvent = trainosEvents['training.job.log'];

/**
 * A job's log: the stored log read page by page, then followed live (`training.job.log`), joined by byte offset.
 * After the event stream reconnects, what it missed is read from the stored log.
 */
function useJobLog(jobId: string): {
  tail: LogTail;
  version: number;
  reading: boolean;
  error: unknown;
  retry: () => void;
} {
  const api = useApi();
  const tailRef = useRef<LogTail>(null);
  tailRef.current ??= new LogTail(MAX_LINES);
  const tail = tailRef.current;
  const [version, setVersion] = useState(0);
  const [reading, setReading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const redraw = useThrottled(() => setVersion((v) => v + 1), REDRAW_MS);

  useLiveEvents(
    (name) => name === 'training.job.log',
    (event) => {
      const parsed = JobLogEvent.safeParse(event.data);
      if (!parsed.success || parsed.data.jobId !== jobId) return;
      for (const { nextByte, ...line } of parsed.data.lines) tail.addLive(line, nextByte);
      redraw();
    },
  );

  const readRef = useRef(false);
  const read = useCallback(async () => {
    if (readRef.current) return;
    readRef.current = true;
    setReading(true);
    setError(null);
    try {
      for (;;) {
        const fromByte = tail.startRead();
        const page = await api.call('trainingJobs.logs', { job: jobId, fromByte, maxBytes: PAGE_BYTES });
        const next = tail.finishRead(fromByte, page);
        redraw();
        if (next === 'done') break;
      }
    } catch (err) {
      // Live lines keep waiting: joining them without the missing part would leave a gap.
      setError(err);
    } finally {
      readRef.current = false;
      setReading(false);
    }
  }, [api, jobId, redraw, tail]);

  useEffect(() => {
    void read();
    // Lines that came while the event stream was down are only in the stored log.
    let wasOpen = useEvents.getState().connection.state === 'open';
    return useEvents.subscribe((state) => {
      const open = state.connection.state === 'open';
      if (!open && wasOpen) tail.startRead();
      if (open && !wasOpen) void read();
      wasOpen = open;
    });
  }, [read, tail]);

  return { tail, version, reading, error, retry: () => void read() };
}

/** The live log of a job: stderr marked, following the end until the reader scrolls up. */
export function JobLog({ jobId, running }: { jobId: string; running: boolean }) {
  const { tail, version, reading, error, retry } = useJobLog(jobId);
  const scroller = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && following) el.scrollTop = el.scrollHeight;
  }, [version, following]);

  const onScroll = () => {
    const el = scroller.current;
    if (el) setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_PX);
  };

  const lines = tail.lines;
  const blocks: { first: number; lines: readonly JobLogLine[] }[] = [];
  // Blocks start at whole multiples of BLOCK in the log, so a block's lines stay the same as lines are added.
  const firstNumber = tail.dropped;
  for (let start = 0; start < lines.length;) {
    const number = firstNumber + start;
    const end = Math.min(lines.length, start + BLOCK - (number % BLOCK));
    blocks.push({ first: number, lines: lines.slice(start, end) });
    start = end;
  }

  return (
    <Card
      title="Log"
      actions={
        <>
          {reading && <Spinner small />}
          <span className="text-[12px] text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="job-log-count">
            {lines.length + tail.dropped} lines
          </span>
          {!following && (
            <Button
              size="sm"
              onClick={() => {
                setFollowing(true);
              }}
            >
              Follow the end ↓
            </Button>
          )}
        </>
      }
      bodyClassName="p-0"
    >
      {error !== null && (
        <ErrorBanner className="m-3" error={error} title="The log could not be read" onRetry={retry} />
      )}
      <div
        ref={scroller}
        onScroll={onScroll}
        data-testid="job-log"
        data-following={following}
        role="log"
        aria-label="Job log"
        className="max-h-[28rem] min-h-24 overflow-auto bg-zinc-50 py-2 font-mono text-[12px] leading-5 dark:bg-zinc-950"
      >
        {tail.dropped > 0 && (
          <p className="px-3 pb-1 text-zinc-500 italic">
            {tail.dropped} earlier lines are not shown (the page keeps the last {MAX_LINES}).
          </p>
        )}
        {blocks.map((block) => (
          <LogBlock key={block.first} first={block.first} lines={block.lines} />
        ))}
        {lines.length === 0 && !reading && (
          <p className="px-3 text-zinc-500">{running ? 'No output yet.' : 'The job wrote nothing.'}</p>
        )}
      </div>
    </Card>
  );
}

/** A block of lines; redrawn only when a line is added to it. */
const LogBlock = memo(
  function LogBlock({ first, lines }: { first: number; lines: readonly JobLogLine[] }) {
    return (
      <div className="[contain-intrinsic-size:auto_4000px] [content-visibility:auto]">
        {lines.map((line, index) => (
          <div
            key={first + index}
            data-testid="job-log-line"
            data-stream={line.stream}
            className={cx(
              'flex gap-3 border-l-2 pr-3 pl-2.5 whitespace-pre-wrap break-all',
              line.stream === 'stderr'
                ? 'border-red-500 bg-red-50 text-red-800 dark:border-red-500/70 dark:bg-red-950/40 dark:text-red-300'
                : 'border-transparent text-zinc-800 dark:text-zinc-200',
            )}
          >
            <span
              className="shrink-0 text-zinc-400 select-none dark:text-zinc-600"
              title={new Date(line.time).toISOString()}
            >
              {formatTime(line.time)}
            </span>
            <span className="min-w-0">{line.text}</span>
          </div>
        ))}
      </div>
    );
  },
  (before, after) =>
    before.first === after.first && before.lines.length === after.lines.length && before.lines[0] === after.lines[0],
);
