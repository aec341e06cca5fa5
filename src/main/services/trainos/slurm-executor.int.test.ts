import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestCore } from '#core/testing';
import { silentLogger } from '#platform/logger';
import { tempDir, waitFor } from '#platform/testing';
import type { ExecutorEvent, ExecutorJobStatus, JobRuntimeEnv, ScriptJobSpec } from './executor';
import { SlurmExecutor, type SlurmExecutorOptions, type SlurmJobHandle } from './slurm-executor';

// A real single-node Slurm cluster (slurmctld + slurmd + munged, 16 CPUs, 2 fake GPUs), started once for this file
// by scripts/slurm-local.sh. The tests run concurrently: the time-out test alone takes 60-90 s (Slurm's smallest
// time limit is a minute, checked every ~30 s), and the others fit in that time beside it.

const SLURM_LOCAL = fileURLToPath(new URL('../../../../scripts/slurm-local.sh', import.meta.url));
const TIMEOUT_TEST_MS = 150_000;

let clusterDir = '';
/** The cluster's environment, as `slurm-local.sh start` printed it (SLURM_CONF, SLURM_LOCAL_DIR). */
const clusterEnv: Record<string, string> = {};
let tmp: ReturnType<typeof tempDir>;
const executors: SlurmExecutor[] = [];

const runtimeEnv: JobRuntimeEnv = {
  AIDOS_URL: 'http://127.0.0.1:7700',
  AIDOS_TOKEN: 'token-1',
  AIDOS_RUN_ID: 'run-1',
  CUDA_VISIBLE_DEVICES: '',
};

beforeAll(() => {
  // A short path: munged's socket path in it must stay under 108 bytes.
  clusterDir = mkdtempSync('/tmp/aidos-slurm-');
  const started = spawnSync('bash', [SLURM_LOCAL, 'start', clusterDir], {
    encoding: 'utf8',
    env: { ...process.env, SLURM_LOCAL_REST: '0' },
  });
  if (started.status !== 0) {
    throw new Error(
      'could not start a throwaway Slurm cluster with scripts/slurm-local.sh: it needs root and the Debian ' +
        `packages slurmctld slurmd slurm-client munge (CI installs them)\n${started.stderr || started.error?.message}`,
    );
  }
  for (const m of started.stdout.matchAll(/^export (\w+)=(.*)$/gm)) clusterEnv[m[1] as string] = m[2] as string;
  tmp = tempDir('aidos-slurm-executor-');
}, 60_000);

afterAll(() => {
  for (const executor of executors) executor.close();
  if (clusterDir) {
    spawnSync('bash', [SLURM_LOCAL, 'stop', clusterDir], { stdio: 'ignore' });
    rmSync(clusterDir, { recursive: true, force: true });
  }
  tmp?.remove();
}, 60_000);

function slurmConf(): string {
  return clusterEnv.SLURM_CONF as string;
}

function makeExecutor(options: SlurmExecutorOptions = {}): {
  executor: SlurmExecutor;
  events: ExecutorEvent<SlurmJobHandle>[];
} {
  const executor = new SlurmExecutor(silentLogger(), { slurmConf: slurmConf(), pollMs: 200, ...options });
  const events: ExecutorEvent<SlurmJobHandle>[] = [];
  executor.subscribe((event) => events.push(event));
  executors.push(executor);
  return { executor, events };
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

function slurmJobId(status: ExecutorJobStatus<SlurmJobHandle>): string {
  if (!status.handle) throw new Error(`job ${status.id} has no Slurm job id`);
  return status.handle.slurmJobId;
}

/** A field of `scontrol show job -o` (a value may hold spaces: it runs up to the next ` Key=`). */
function scontrolField(id: string, key: string): string | undefined {
  const shown = spawnSync('scontrol', ['show', 'job', '-o', id], {
    encoding: 'utf8',
    env: { ...process.env, SLURM_CONF: slurmConf() },
  });
  return new RegExp(`(?:^| )${key}=(.*?)(?= [A-Za-z/:]+=|$)`).exec(shown.stdout.trim())?.[1];
}

async function logTexts(executor: SlurmExecutor, id: string): Promise<string[]> {
  return (await executor.readLog(id)).lines.map((line) => line.text);
}

function liveLines(events: ExecutorEvent<SlurmJobHandle>[], id: string): [string, string][] {
  return events.flatMap((e) => (e.type === 'log' && e.jobId === id ? [[e.line.stream, e.line.text]] : []));
}

function states(events: ExecutorEvent<SlurmJobHandle>[], id: string): string[] {
  return events.flatMap((e) => (e.type === 'state' && e.job.id === id ? [e.job.state] : []));
}

async function waitForLine(executor: SlurmExecutor, id: string, text: string): Promise<void> {
  await waitFor(async () => (await logTexts(executor, id)).includes(text), 30_000, `'${text}' in the log of ${id}`);
}

describe.concurrent('slurm executor', () => {
  it('runs a job to success: its stdout and stderr lines reach the log and subscribers, marked by stream', async ({
    expect,
  }) => {
    const { executor, events } = makeExecutor();

    const started = await executor.start(jobSpec('ok', 'echo "out 1"; echo "err 1" >&2; sleep 1; echo "out 2"'));
    expect(started.state).toBe('starting');
    expect(slurmJobId(started)).toMatch(/^\d+$/);
    const ended = await executor.ended('ok');

    expect(ended).toMatchObject({ state: 'succeeded', exitCode: 0, signal: null, reason: null });
    expect(ended.startedAt).not.toBeNull();
    expect(states(events, 'ok')).toEqual(['starting', 'running', 'succeeded']);
    const live = liveLines(events, 'ok');
    expect(live.filter(([stream]) => stream === 'stdout')).toEqual([
      ['stdout', 'out 1'],
      ['stdout', 'out 2'],
    ]);
    expect(live.filter(([stream]) => stream === 'stderr')).toEqual([['stderr', 'err 1']]);
    const page = await executor.readLog('ok');
    expect(page.atEnd).toBe(true);
    expect(page.lines.map((l) => [l.stream, l.text])).toEqual(live);
    const lastLive = events.filter((e) => e.type === 'log').at(-1);
    expect(lastLive?.type === 'log' && lastLive.nextByte).toBe(page.nextByte);
    // Slurm's raw files are in the log now.
    expect(existsSync(`${tmp.dir}/logs/ok.log.stdout.raw`)).toBe(false);
  });

  it('fails a job that exits with code 3: "exited with code 3"', async ({ expect }) => {
    const { executor } = makeExecutor();

    await executor.start(jobSpec('exit-3', 'echo failing; exit 3'));

    expect(await executor.ended('exit-3')).toMatchObject({
      state: 'failed',
      exitCode: 3,
      signal: null,
      reason: 'exited with code 3',
    });
    expect(await logTexts(executor, 'exit-3')).toEqual(['failing']);
  });

  it('writes the log where it is asked to, even in a folder whose name holds % and spaces', async ({ expect }) => {
    const { executor } = makeExecutor();
    const logFile = path.join(tmp.dir, 'logs 100%j %%', 'percent.log');

    await executor.start(jobSpec('percent', 'echo kept', { logFile }));

    expect((await executor.ended('percent')).state).toBe('succeeded');
    expect(await logTexts(executor, 'percent')).toEqual(['kept']);
    expect(readFileSync(logFile, 'utf8')).toMatch(/ stdout kept\n$/);
  });

  it("gives the job the user's environment and TrainOS's, which wins, literally", async ({ expect }) => {
    const { executor } = makeExecutor();
    const tricky = `it's "$(echo not run)" \`x\` $HOME\nsecond line`;

    await executor.start(
      jobSpec('env', 'printf "%s|%s|%s|[%s]\\n" "$USER_VAR" "$AIDOS_RUN_ID" "$TRICKY" "$CUDA_VISIBLE_DEVICES"', {
        env: { USER_VAR: 'from the user', AIDOS_RUN_ID: 'the user loses', TRICKY: tricky },
      }),
    );

    expect((await executor.ended('env')).state).toBe('succeeded');
    expect(await logTexts(executor, 'env')).toEqual([`from the user|run-1|${tricky.split('\n')[0]}`, 'second line|[]']);
  });

  it('passes argv literally (spaces, quotes, $(...), globs) and runs in the working dir', async ({ expect }) => {
    const { executor } = makeExecutor();
    const workingDir = path.join(tmp.dir, 'work dir');
    mkdirSync(workingDir);
    const args = ['a b', "it's", '$(touch pwned)', '"q"', '*', '', '; echo injected'];

    await executor.start({
      ...jobSpec('argv', ''),
      command: ['/bin/sh', '-c', 'pwd; for a in "$@"; do printf "[%s]\\n" "$a"; done', 'sh', ...args],
      workingDir,
    });

    expect((await executor.ended('argv')).state).toBe('succeeded');
    expect(await logTexts(executor, 'argv')).toEqual([workingDir, ...args.map((a) => `[${a}]`)]);
    expect(existsSync(path.join(workingDir, 'pwned'))).toBe(false);
    expect(scontrolField(slurmJobId(executor.status('argv')), 'WorkDir')).toBe(workingDir);
  });

  it('fails a job whose working dir is missing instead of running it elsewhere', async ({ expect }) => {
    const { executor } = makeExecutor();

    await executor.start(jobSpec('no-dir', 'echo ran', { workingDir: path.join(tmp.dir, 'missing') }));

    expect(await executor.ended('no-dir')).toMatchObject({ state: 'failed', exitCode: 1 });
    expect(await logTexts(executor, 'no-dir')).not.toContain('ran');
  });

  it('asks Slurm for the CPUs, memory and time limit (minutes, rounded up) the job needs', async ({ expect }) => {
    const { executor } = makeExecutor();

    const started = await executor.start(
      jobSpec('resources', 'echo "cpus=$SLURM_CPUS_PER_TASK mem=$SLURM_MEM_PER_NODE"; sleep 60', {
        resources: { gpus: 0, cpuThreads: 2, ramMb: 200 },
        maxRuntimeMs: 61_000,
      }),
    );
    await waitForLine(executor, 'resources', 'cpus=2 mem=200');

    const slurmId = slurmJobId(started);
    expect(scontrolField(slurmId, 'TimeLimit')).toBe('00:02:00');
    expect(scontrolField(slurmId, 'JobName')).toBe('aidos-resources');
    expect(scontrolField(slurmId, 'TRES')).toContain('mem=200M');
    await executor.cancel('resources');
    expect((await executor.ended('resources')).state).toBe('cancelled');
  });

  it('gives a job asking for a GPU one of the cluster GPUs; more GPUs than there are fail with Slurm reason', async ({
    expect,
  }) => {
    const { executor } = makeExecutor();
    const resources = { gpus: 1, cpuThreads: 1, ramMb: 100 };

    await executor.start(
      jobSpec('gpu', 'echo "cuda=$CUDA_VISIBLE_DEVICES slurm=$SLURM_JOB_GPUS"', { resources, runtimeEnv }),
    );
    const impossible = await executor.start(jobSpec('gpu-5', 'true', { resources: { ...resources, gpus: 5 } }));

    expect((await executor.ended('gpu')).state).toBe('succeeded');
    expect(await logTexts(executor, 'gpu')).toEqual([expect.stringMatching(/^cuda=([01]) slurm=\1$/)]);
    expect(impossible).toMatchObject({ state: 'failed', handle: null });
    expect(impossible.reason).toBe('could not submit to Slurm: Requested node configuration is not available');
  });

  it('cancels a running job: Slurm stops it and its state is cancelled', async ({ expect }) => {
    const { executor, events } = makeExecutor();

    await executor.start(jobSpec('cancel', 'echo started; sleep 120'));
    await waitForLine(executor, 'cancel', 'started');
    await executor.cancel('cancel');

    expect(await executor.ended('cancel')).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(states(events, 'cancel')).toEqual(['starting', 'running', 'cancelled']);
  });

  it(
    'ends a job that runs past its maximum runtime as timed-out',
    async ({ expect }) => {
      const { executor } = makeExecutor();

      await executor.start(jobSpec('slow', 'echo started; sleep 300', { maxRuntimeMs: 1000 }));

      expect(await executor.ended('slow')).toMatchObject({
        state: 'timed-out',
        reason: 'ran past its time limit of 1 min',
      });
      expect(await logTexts(executor, 'slow')).toContain('started');
    },
    TIMEOUT_TEST_MS,
  );

  it('adopts a running job after a restart and follows it to its end', async ({ expect }) => {
    const first = makeExecutor().executor;
    const spec = jobSpec('adopt-running', 'echo before; sleep 3; echo after');
    await first.start(spec);
    await waitForLine(first, 'adopt-running', 'before');
    const { handle, startedAt } = first.status('adopt-running');
    first.close();

    const { executor: second } = makeExecutor();
    const adopted = await second.adopt({
      id: 'adopt-running',
      logFile: spec.logFile,
      handle: handle as SlurmJobHandle,
      startedAt: startedAt as number,
    });

    expect(adopted.state).toBe('running');
    expect(await second.ended('adopt-running')).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(await logTexts(second, 'adopt-running')).toEqual(['before', 'after']);
  });

  it('adopts a job that ended while the app was down: its final state and all its output', async ({ expect }) => {
    const first = makeExecutor().executor;
    const spec = jobSpec('adopt-ended', 'echo done; exit 4');
    const started = await first.start(spec);
    first.close();
    await waitFor(() => scontrolField(slurmJobId(started), 'JobState') === 'FAILED', 30_000, 'the job to end in Slurm');

    const { executor: second } = makeExecutor();
    const adopted = await second.adopt({
      id: 'adopt-ended',
      logFile: spec.logFile,
      handle: started.handle as SlurmJobHandle,
      startedAt: Date.now(),
    });

    expect(adopted).toMatchObject({ state: 'failed', exitCode: 4, reason: 'exited with code 4' });
    expect(await logTexts(second, 'adopt-ended')).toEqual(['done']);
  });

  it('reads a job Slurm has forgotten from its job-completion file, else fails it as unknown', async ({ expect }) => {
    const { executor } = makeExecutor();
    const started = await executor.start(jobSpec('completed', 'exit 2'));
    await executor.ended('completed');
    const jobComp = path.join(clusterEnv.SLURM_LOCAL_DIR as string, 'log', 'jobcomp.txt');
    const line = await waitFor(
      () =>
        readFileSync(jobComp, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(`JobId=${slurmJobId(started)} `)),
      10_000,
      "the job's line in the job-completion file",
    );
    // The controller forgets a job MinJobAge after it ended (an hour here): ids it never had stand for such jobs.
    appendFileSync(
      jobComp,
      `${line.replace(/^JobId=\d+ /, 'JobId=900001 ').replace(' Name=aidos-completed ', ' Name=aidos-forgotten ')}\n`,
    );

    const fromFile = await executor.adopt({
      id: 'forgotten',
      logFile: path.join(tmp.dir, 'logs', 'forgotten.log'),
      handle: { slurmJobId: '900001' },
      startedAt: Date.now(),
    });
    const unknown = await executor.adopt({
      id: 'unknown',
      logFile: path.join(tmp.dir, 'logs', 'unknown.log'),
      handle: { slurmJobId: '900002' },
      startedAt: Date.now(),
    });

    expect(fromFile).toMatchObject({ state: 'failed', exitCode: 2, reason: 'exited with code 2' });
    expect(unknown.state).toBe('failed');
    expect(unknown.reason).toMatch(/^Slurm no longer knows job 900002 .* how it ended is unknown$/);
  });

  it('fails a job at once, saying why, when Slurm is missing or its controller unreachable', async ({ expect }) => {
    const noBin = path.join(tmp.dir, 'no-slurm-bin');
    mkdirSync(noBin);
    const unreachableConf = path.join(tmp.dir, 'unreachable-slurm.conf');
    // The same cluster on a port where nothing listens.
    writeFileSync(
      unreachableConf,
      readFileSync(slurmConf(), 'utf8').replace(/^SlurmctldPort=\d+$/m, 'SlurmctldPort=9'),
    );

    const [notInstalled, noConfig, noController] = await Promise.all([
      makeExecutor({ slurmBinDir: noBin }).executor.start(jobSpec('not-installed', 'true')),
      makeExecutor({ slurmConf: path.join(tmp.dir, 'missing.conf') }).executor.start(jobSpec('no-config', 'true')),
      makeExecutor({ slurmConf: unreachableConf }).executor.start(jobSpec('no-controller', 'true')),
    ]);

    expect(notInstalled).toMatchObject({
      state: 'failed',
      reason: `could not submit to Slurm: Slurm is not installed here (no sbatch in ${noBin})`,
    });
    expect(noConfig.state).toBe('failed');
    expect(noConfig.reason).toMatch(/^could not submit to Slurm: its configuration .*missing\.conf does not exist$/);
    expect(noController.state).toBe('failed');
    expect(noController.reason).toMatch(/^could not submit to Slurm: Unable to contact slurm controller/);
  });

  it('runs training jobs with executor slurm through TrainOS: sent to Slurm at once, logging to their run, GPUs from Slurm', async ({
    expect,
  }) => {
    const t = await startTestCore({ trainos: { slurm: { conf: slurmConf(), sbatchArgs: [] } } });
    try {
      // Logs a metric to its run through MLflow's REST API and prints what Slurm gave it.
      const program = `
        const env = process.env;
        const res = await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
          method: 'POST',
          headers: { authorization: 'Bearer ' + env.AIDOS_TOKEN, 'content-type': 'application/json' },
          body: JSON.stringify({ run_id: env.AIDOS_RUN_ID, key: 'loss', value: 0.5, timestamp: 1, step: 1 }),
        });
        if (!res.ok) throw new Error('log-metric ' + res.status);
        console.log('gpus=[' + env.CUDA_VISIBLE_DEVICES + '] job=' + env.SLURM_JOB_ID);`;
      const submit = (name: string, gpus: number) =>
        t.client.call('trainingJobs.submit', {
          name,
          command: [process.execPath, '--input-type=module', '-e', program],
          workingDir: tmp.dir,
          executor: 'slurm',
          resources: { gpus, cpuThreads: 1, ramMb: 256 },
        });
      const ended = (id: string) =>
        waitFor(
          async () => {
            const job = await t.client.call('trainingJobs.get', { job: id });
            return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
          },
          60_000,
          `job ${id} to end`,
        );
      const [cpu, gpu] = await Promise.all([submit('on-cpu', 0), submit('on-gpu', 1)]);
      const [cpuDone, gpuDone] = await Promise.all([ended(cpu.id), ended(gpu.id)]);
      for (const done of [cpuDone, gpuDone]) {
        expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded', exitCode: 0, placement: { gpus: [] } });
        const history = await t.request(
          `/api/2.0/mlflow/metrics/get-history?run_id=${done.runId as string}&metric_key=loss`,
        );
        expect(((await history.json()) as { metrics: unknown[] }).metrics).toHaveLength(1);
      }
      const printed = async (id: string) =>
        (await t.client.call('trainingJobs.logs', { job: id })).lines.map((l) => l.text).join('\n');
      expect(await printed(cpu.id)).toMatch(/^gpus=\[\] job=\d+$/m);
      // One of the cluster's GPUs, as Slurm numbers them for the job.
      expect(await printed(gpu.id)).toMatch(/^gpus=\[0\] job=\d+$/m);

      await expect(
        t.client.call('trainingJobs.submit', {
          command: ['true'],
          workingDir: tmp.dir,
          executor: 'slurm',
          resources: { gpus: 'any' },
        }),
      ).rejects.toThrow(/resources\.gpus: 'any' is for jobs on this machine/);
    } finally {
      await t.close();
    }
  });
});
