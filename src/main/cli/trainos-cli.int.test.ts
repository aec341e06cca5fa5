import { realpathSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '#shared/contracts/trainos';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';

const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

/** The id at the start of the line `aidos jobs submit --follow` writes to stderr first. */
function submittedId(stderr: string): string {
  const id = /^(\w{26}) (queued|running)/m.exec(stderr)?.[1];
  expect(id, stderr).toBeDefined();
  return id as string;
}

// Each command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
let t: TestCore;
let workDir: { dir: string; remove: () => void };
beforeAll(async () => {
  t = await startTestCore();
  workDir = tempDir('aidos-cli-jobs-');
});
afterAll(async () => {
  // Training processes outlive the app: stop any a failed test left behind.
  const { items } = await t.client.call('trainingJobs.list', { state: 'running' });
  await Promise.all(items.map((job) => t.client.call('trainingJobs.cancel', { job: job.id })));
  await t.close();
  workDir.remove();
});

describe('aidos jobs (training jobs)', { timeout: 180_000 }, () => {
  const program = [
    "console.log('one')",
    'console.log(process.env.GREETING)',
    'console.log(process.cwd())',
    "console.error('oops')",
  ].join(';');
  let succeededId: string;
  let failedId: string;

  it('submits a job with --follow, printing its stdout and stderr as the program did, and exits 0', async () => {
    const r = await aidos([
      'jobs',
      'submit',
      '--name',
      'hello',
      '--env',
      'GREETING=hi there',
      '--cwd',
      workDir.dir,
      '--follow',
      '--',
      process.execPath,
      '-e',
      program,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`one\nhi there\n${realpathSync(workDir.dir)}\n`);
    expect(r.stderr).toMatch(/^oops$/m);
    succeededId = submittedId(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^${succeededId} succeeded$`, 'm'));
  });

  it('follows a failing job to its end, shows why and exits 1', async () => {
    const r = await aidos(['jobs', 'submit', '--follow', '--', '/bin/sh', '-c', 'echo failing; exit 3']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('failing\n');
    failedId = submittedId(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^${failedId} failed: .*\\b3\\b`, 'm'));
  });

  it('lists jobs, shows one and prints its stored log', async () => {
    const list = await aidos(['jobs', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+ATTEMPT\s+PLACEMENT\s+REASON\s+STARTED\s+ENDED$/);
    expect(list.stdout).toMatch(new RegExp(`^${succeededId}\\s+hello\\s+succeeded\\s+1\\s+cpu\\s+-\\s+\\d{4}-`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${failedId}\\s+sh\\s+failed\\s+1\\s+cpu\\s+.*3`, 'm'));

    const shown = await aidos(['jobs', 'show', succeededId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^state\s+succeeded$/m);
    expect(shown.stdout).toMatch(/^env\s+GREETING$/m);
    expect(shown.stdout).toMatch(/^placement\s+cpu$/m);
    expect(shown.stdout).toMatch(/^exit code\s+0$/m);
    expect(shown.stdout).toContain(`${process.execPath} -e '${program.replaceAll("'", "'\\''")}'`);

    const logs = await aidos(['jobs', 'logs', succeededId]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toBe(`one\nhi there\n${realpathSync(workDir.dir)}\n`);
    expect(logs.stderr).toBe('oops\n');
  });

  it('follows the log of a running job until it ends', async () => {
    const job = await t.client.call('trainingJobs.submit', {
      command: ['/bin/sh', '-c', 'echo first; sleep 2; echo second'],
      workingDir: workDir.dir,
    });
    const r = await aidos(['jobs', 'logs', job.id, '-f']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('first\nsecond\n');
    expect((await t.client.call('trainingJobs.get', { job: job.id })).state).toBe('succeeded');
  });

  it('cancels a running job', async () => {
    const job = await t.client.call('trainingJobs.submit', { command: ['sleep', '60'], workingDir: workDir.dir });
    await waitFor(
      async () => ((await t.client.call('trainingJobs.get', { job: job.id })).state === 'running' ? true : undefined),
      30_000,
      'the job to run',
    );
    const r = await aidos(['jobs', 'cancel', job.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^(cancelled ${job.id}|cancel requested for ${job.id} \\(it is running\\))$`),
    );
    const ended = await waitFor(
      async () => {
        const latest = await t.client.call('trainingJobs.get', { job: job.id });
        return latest.state === 'running' ? undefined : latest;
      },
      30_000,
      'the job to stop',
    );
    expect(ended.state).toBe('cancelled');
  });

  it('retries an ended job as a new job', async () => {
    const r = await aidos(['--json', 'jobs', 'retry', failedId]);
    expect(r.code, r.stderr).toBe(0);
    const retried = JSON.parse(r.stdout) as TrainingJob;
    expect(retried.id).not.toBe(failedId);
    expect(retried).toMatchObject({ retryOf: failedId, spec: { command: ['/bin/sh', '-c', 'echo failing; exit 3'] } });
  });

  it('refuses bad input before any request, with exit code 2', async () => {
    const noCommand = await aidos(['jobs', 'submit', '--name', 'x', '--']);
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain('error (INVALID_ARGUMENT): command: give the program to run after --');
    // No server answers at this URL: the error comes before any request.
    const badEnv = await runCli([
      '--url',
      'http://127.0.0.1:9',
      '--token',
      'x',
      'jobs',
      'submit',
      '--env',
      'NOPE',
      '--',
      'true',
    ]);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("error (INVALID_ARGUMENT): --env: 'NOPE' is not KEY=VALUE");
  });
});
