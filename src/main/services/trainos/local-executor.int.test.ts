import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '#platform/logger';
import { tempDir, waitFor } from '#platform/testing';
import type { ExecutorEvent, ExecutorJobStatus, JobRuntimeEnv, ScriptJobSpec } from './executor';
import { LocalExecutor, type LocalProcessHandle } from './local-executor';

const KILL_GRACE_MS = 300;

let tmp: ReturnType<typeof tempDir>;
let executors: LocalExecutor[];
/** Process groups of the jobs the tests started, killed after each test whatever it left running. */
let groups: Set<number>;

const runtimeEnv: JobRuntimeEnv = {
  AIDOS_URL: 'http://127.0.0.1:7700',
  AIDOS_TOKEN: 'token-1',
  AIDOS_RUN_ID: 'run-1',
  CUDA_VISIBLE_DEVICES: '',
};

function makeExecutor(): LocalExecutor {
  const executor = new LocalExecutor(silentLogger(), { killGraceMs: KILL_GRACE_MS, pollMs: 20 });
  executor.subscribe((event) => {
    if (event.type === 'state' && event.job.handle) groups.add(event.job.handle.pid);
  });
  executors.push(executor);
  return executor;
}

function jobSpec(id: string, script: string, more: Partial<ScriptJobSpec> = {}): ScriptJobSpec {
  return {
    id,
    command: ['/bin/sh', '-c', script],
    workingDir: tmp.dir,
    runtimeEnv,
    logFile: path.join(tmp.dir, 'logs', `${id}.log`),
    ...more,
  };
}

function handleOf(status: ExecutorJobStatus<LocalProcessHandle>): LocalProcessHandle {
  if (!status.handle) throw new Error(`job ${status.id} has no process`);
  return status.handle;
}

/** Running: the pid exists and has not ended (a zombie waits only to be reaped). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function logTexts(executor: LocalExecutor, id: string): Promise<string[]> {
  return (await executor.readLog(id)).lines.map((line) => line.text);
}

function liveLines(events: ExecutorEvent<LocalProcessHandle>[], id: string): [string, string][] {
  return events.flatMap((e) => (e.type === 'log' && e.jobId === id ? [[e.line.stream, e.line.text]] : []));
}

/** proc(5) field 4. */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Resolves with the pid a job printed as `<label> <pid>`. */
async function printedPid(executor: LocalExecutor, id: string, label: string): Promise<number> {
  const line = await waitFor(
    async () => (await logTexts(executor, id)).find((text) => text.startsWith(`${label} `)),
    10_000,
    `the job to print its ${label}`,
  );
  return Number(line.slice(label.length + 1));
}

beforeEach(() => {
  tmp = tempDir('aidos-executor-');
  executors = [];
  groups = new Set();
});

afterEach(() => {
  for (const executor of executors) executor.close();
  for (const pgid of groups) {
    if (!isRunning(pgid)) continue;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  tmp.remove();
});

describe('local executor', () => {
  it('runs a command to success: its lines go to the log and to subscribers, in order', async () => {
    const executor = makeExecutor();
    const events: ExecutorEvent<LocalProcessHandle>[] = [];
    executor.subscribe((event) => events.push(event));
    const spec = jobSpec('ok', 'for i in 1 2 3; do echo "line $i"; done; echo "to stderr" >&2');

    const started = await executor.start(spec);
    expect(started.state).toBe('running');
    expect(handleOf(started).processStartTime).toMatch(/^[0-9a-f-]+:\d+$/);
    const ended = await executor.ended('ok');

    expect(ended).toMatchObject({ state: 'succeeded', exitCode: 0, signal: null, reason: null });
    expect(events.flatMap((e) => (e.type === 'state' ? [e.job.state] : []))).toEqual([
      'starting',
      'running',
      'succeeded',
    ]);
    const expected = [
      ['stdout', 'line 1'],
      ['stdout', 'line 2'],
      ['stdout', 'line 3'],
      ['stderr', 'to stderr'],
    ];
    expect(liveLines(events, 'ok')).toEqual(expected);
    const page = await executor.readLog('ok');
    expect(page.lines.map((line) => [line.stream, line.text])).toEqual(expected);
    expect(page.atEnd).toBe(true);
    const stored = readFileSync(spec.logFile, 'utf8');
    expect(stored).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout line 1$/m);
    const lastLog = events.filter((e) => e.type === 'log').at(-1);
    expect(lastLog?.type === 'log' && lastLog.nextByte).toBe(statSync(spec.logFile).size);
    expect(readFileSync(`${spec.logFile}.exit-code`, 'utf8').trim()).toBe('0');

    await executor.cancel('ok'); // a no-op once ended
    expect(executor.status('ok')).toEqual(ended);
  });

  it('gives the process the user env and the runtime env (which wins), with CUDA_VISIBLE_DEVICES empty on CPU', async () => {
    const executor = makeExecutor();
    const workingDir = path.join(tmp.dir, 'work');
    mkdirSync(workingDir);
    const script =
      'echo "run=$AIDOS_RUN_ID gpus=[${CUDA_VISIBLE_DEVICES-unset}] lr=$LR data=$AIDOS_DATASET_TRAIN dir=$(pwd)"';
    await executor.start(
      jobSpec('env', script, {
        command: ['sh', '-c', script], // found on PATH
        workingDir,
        env: { LR: '0.01', AIDOS_RUN_ID: 'the user cannot move the run' },
        runtimeEnv: { ...runtimeEnv, AIDOS_DATASET_TRAIN: '/data/train' },
      }),
    );
    expect(await executor.ended('env')).toMatchObject({ state: 'succeeded' });
    expect(await logTexts(executor, 'env')).toEqual([`run=run-1 gpus=[] lr=0.01 data=/data/train dir=${workingDir}`]);
  });

  it('fails a job that exits with a non-zero code, saying so', async () => {
    const executor = makeExecutor();
    await executor.start(jobSpec('exit3', 'echo "bad input" >&2; exit 3'));
    expect(await executor.ended('exit3')).toMatchObject({
      state: 'failed',
      exitCode: 3,
      signal: null,
      reason: 'exited with code 3',
    });
    expect((await executor.readLog('exit3')).lines).toMatchObject([{ stream: 'stderr', text: 'bad input' }]);
  });

  it('fails a command that is not found or not executable without starting anything', async () => {
    const executor = makeExecutor();
    writeFileSync(path.join(tmp.dir, 'train.sh'), 'echo hi\n');
    chmodSync(path.join(tmp.dir, 'train.sh'), 0o644);
    const cases = [
      [['no-such-program-aidos', '--lr', '0.01'], 'could not start: no-such-program-aidos not found'],
      [['./missing.py'], 'could not start: ./missing.py not found'],
      [['./train.sh'], 'could not start: ./train.sh is not executable'],
    ] as const;
    for (const [index, [command, reason]] of cases.entries()) {
      const status = await executor.start(jobSpec(`missing-${index}`, '', { command }));
      expect(status).toMatchObject({ state: 'failed', reason, handle: null, exitCode: null });
    }
  });

  it('fails a job whose working dir does not exist, naming the dir', async () => {
    const executor = makeExecutor();
    const workingDir = path.join(tmp.dir, 'nowhere');
    const status = await executor.start(jobSpec('nodir', 'echo hi', { workingDir }));
    expect(status).toMatchObject({ state: 'failed', reason: `working dir ${workingDir} does not exist` });
  });

  it('cancels a process that traps SIGTERM: SIGKILL after the grace period, state cancelled', async () => {
    const executor = makeExecutor();
    const events: ExecutorEvent<LocalProcessHandle>[] = [];
    executor.subscribe((event) => events.push(event));
    await executor.start(
      jobSpec('stubborn', `trap 'echo "got TERM, ignoring it"' TERM; echo ready; while :; do sleep 1 & wait; done`),
    );
    await waitFor(() => liveLines(events, 'stubborn').some(([, text]) => text === 'ready'), 10_000, 'ready');

    const cancelledAt = Date.now();
    await executor.cancel('stubborn');
    await waitFor(() => liveLines(events, 'stubborn').some(([, text]) => text.startsWith('got TERM')), 10_000, 'TERM');
    const ended = await executor.ended('stubborn');

    expect(ended).toMatchObject({ state: 'cancelled', reason: 'cancelled', signal: 'SIGKILL', exitCode: null });
    expect(ended.endedAt ?? 0).toBeGreaterThanOrEqual(cancelledAt + KILL_GRACE_MS - 10);
  });

  it('cancels a job asked to stop while the launcher is still starting it', async () => {
    const executor = makeExecutor();
    const starting = executor.start(jobSpec('early', 'exec sleep 30'));
    await executor.cancel('early'); // before the launcher has answered
    expect((await starting).state).not.toBe('succeeded');
    expect(await executor.ended('early')).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
  });

  it('cancels the children of a job too', async () => {
    const executor = makeExecutor();
    await executor.start(jobSpec('parent', 'sleep 30 & echo "child $!"; wait'));
    const child = await printedPid(executor, 'parent', 'child');
    expect(isRunning(child)).toBe(true);

    await executor.cancel('parent');

    expect(await executor.ended('parent')).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    await waitFor(() => !isRunning(child), 2000, 'the child to end');
  });

  it('stops a job that runs past its maximum runtime', async () => {
    const executor = makeExecutor();
    const started = await executor.start(jobSpec('slow', 'sleep 30', { maxRuntimeMs: 300 }));
    const ended = await executor.ended('slow');
    expect(ended).toMatchObject({ state: 'timed-out', reason: 'ran past its maximum runtime of 300 ms' });
    expect((ended.endedAt ?? 0) - (started.startedAt ?? 0)).toBeGreaterThanOrEqual(300);
  });

  it('reports a process killed by SIGKILL from outside as a likely out-of-memory kill', async () => {
    const executor = makeExecutor();
    await executor.start(jobSpec('oom', 'echo "pid $$"; exec sleep 30'));
    process.kill(await printedPid(executor, 'oom', 'pid'), 'SIGKILL');
    expect(await executor.ended('oom')).toMatchObject({
      state: 'failed',
      exitCode: null,
      signal: 'SIGKILL',
      reason: 'killed by SIGKILL (out of memory?)',
    });
  });

  it('pages through the stored log from a byte offset', async () => {
    const executor = makeExecutor();
    await executor.start(jobSpec('pages', 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done'));
    await executor.ended('pages');
    const all = Array.from({ length: 200 }, (_, i) => `line ${i}`);

    const paged: string[] = [];
    const offsets: number[] = [];
    for (let fromByte = 0, atEnd = false; !atEnd;) {
      const page = await executor.readLog('pages', { fromByte, maxBytes: 1000 });
      paged.push(...page.lines.map((line) => line.text));
      offsets.push(page.nextByte);
      ({ nextByte: fromByte, atEnd } = page);
    }
    expect(paged).toEqual(all);
    expect(offsets.length).toBeGreaterThan(5);

    const fromMiddle = await executor.readLog('pages', { fromByte: offsets[2] });
    expect(fromMiddle.lines.map((line) => line.text)).toEqual(all.slice(paged.length - fromMiddle.lines.length));
    const tiny = await executor.readLog('pages', { fromByte: 0, maxBytes: 5 });
    expect(tiny.lines.map((line) => line.text)).toEqual(['line 0']);
  });

  it('splits lines over 64 KiB and replaces invalid UTF-8', async () => {
    const executor = makeExecutor();
    await executor.start(
      jobSpec('junk', `head -c 70000 /dev/zero | tr '\\000' a; echo; printf 'caf\\303\\251 \\377\\376 end\\n'`),
    );
    await executor.ended('junk');
    expect(await logTexts(executor, 'junk')).toEqual([
      'a'.repeat(65536),
      'a'.repeat(70000 - 65536),
      'café \uFFFD\uFFFD end',
    ]);
  });

  it('starts jobs from its launcher process, never forking the core, and the launcher ends with the executor', async () => {
    const executor = makeExecutor();
    const started = await executor.start(jobSpec('forked', 'exec sleep 30'));
    const launcher = parentPid(handleOf(started).pid);
    expect(launcher).not.toBe(process.pid);
    expect(parentPid(launcher)).toBe(process.pid);
    expect(readFileSync(`/proc/${launcher}/cmdline`, 'utf8')).toContain('job-launcher');

    executor.close();
    await waitFor(() => !isRunning(launcher), 10_000, 'the launcher to exit');
    expect(isRunning(handleOf(started).pid)).toBe(true); // the job runs on, for the next core to adopt
  });

  it('follows a job whose launcher died to its end, from the exit-code file, and starts later jobs with a new one', async () => {
    const executor = makeExecutor();
    const go = path.join(tmp.dir, 'go');
    const started = await executor.start(
      jobSpec('orphan', `echo before; while [ ! -e '${go}' ]; do sleep 0.05; done; echo after; exit 5`),
    );
    const launcher = parentPid(handleOf(started).pid);
    process.kill(launcher, 'SIGKILL');
    await waitFor(() => !isRunning(launcher), 10_000, 'the launcher to die');
    writeFileSync(go, '');

    expect(await executor.ended('orphan')).toMatchObject({
      state: 'failed',
      exitCode: 5,
      reason: 'exited with code 5',
    });
    expect(await logTexts(executor, 'orphan')).toEqual(['before', 'after']);
    const goOn = path.join(tmp.dir, 'go-on');
    const next = await executor.start(jobSpec('next', `while [ ! -e '${goOn}' ]; do sleep 0.05; done; echo again`));
    expect(parentPid(handleOf(next).pid)).not.toBe(launcher);
    writeFileSync(goOn, '');
    expect(await executor.ended('next')).toMatchObject({ state: 'succeeded' });
  });

  it('adopts a job still running after a restart, follows its log and learns its exit code from the file', async () => {
    const first = makeExecutor();
    const go = path.join(tmp.dir, 'go');
    const spec = jobSpec('live', `echo before; while [ ! -e '${go}' ]; do sleep 0.05; done; echo after; exit 5`);
    const started = await first.start(spec);
    await waitFor(async () => (await logTexts(first, 'live')).includes('before'), 10_000, 'the first line');
    first.close(); // the app stops; the job runs on

    const second = makeExecutor();
    const events: ExecutorEvent<LocalProcessHandle>[] = [];
    second.subscribe((event) => events.push(event));
    const adopted = await second.adopt({
      id: 'live',
      logFile: spec.logFile,
      handle: handleOf(started),
      startedAt: started.startedAt ?? 0,
    });
    expect(adopted.state).toBe('running');
    writeFileSync(go, '');

    expect(await second.ended('live')).toMatchObject({ state: 'failed', exitCode: 5, reason: 'exited with code 5' });
    expect(await logTexts(second, 'live')).toEqual(['before', 'after']);
    expect(liveLines(events, 'live')).toEqual([['stdout', 'after']]);
  });

  it('adopts a job that ended while the app was down: its outcome comes from the exit-code file', async () => {
    const first = makeExecutor();
    const spec = jobSpec('finished', 'sleep 0.2; echo late; exit 7');
    const started = await first.start(spec);
    first.close();
    await waitFor(() => !isRunning(handleOf(started).pid), 10_000, 'the job to end');

    const second = makeExecutor();
    const adopted = await second.adopt({
      id: 'finished',
      logFile: spec.logFile,
      handle: handleOf(started),
      startedAt: started.startedAt ?? 0,
    });

    expect(adopted).toMatchObject({ state: 'failed', exitCode: 7, reason: 'exited with code 7' });
    expect(await logTexts(second, 'finished')).toEqual(['late']);
    expect(existsSync(`${spec.logFile}.stdout.raw`)).toBe(false);
  });

  it('does not adopt a process whose start time differs (a reused pid) and leaves that process alone', async () => {
    const first = makeExecutor();
    const spec = jobSpec('reused', 'exec sleep 30');
    const started = await first.start(spec);
    first.close();
    const { pid } = handleOf(started);

    const second = makeExecutor();
    const adopted = await second.adopt({
      id: 'reused',
      logFile: spec.logFile,
      handle: { pid, processStartTime: 'another-boot:12345' },
      startedAt: started.startedAt ?? 0,
    });
    await second.cancel('reused');

    expect(adopted).toMatchObject({
      state: 'failed',
      reason: 'the app stopped while it ran and it is no longer running',
    });
    expect(isRunning(pid)).toBe(true);
  });
});
