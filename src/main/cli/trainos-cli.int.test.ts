import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
    const submitOffline = (...options: string[]) =>
      runCli(['--url', 'http://127.0.0.1:9', '--token', 'x', 'jobs', 'submit', ...options, '--', 'true']);
    const badEnv = await submitOffline('--env', 'NOPE');
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("error (INVALID_ARGUMENT): --env: 'NOPE' is not KEY=VALUE");
    const badExecutor = await submitOffline('--executor', 'k8s');
    expect(badExecutor.code).toBe(2);
    expect(badExecutor.stderr).toContain("error (INVALID_ARGUMENT): --executor: is 'local' or 'slurm' (got 'k8s')");
    const badKeep = await submitOffline('--keep-checkpoints', '0');
    expect(badKeep.code).toBe(2);
    expect(badKeep.stderr).toContain('error (INVALID_ARGUMENT): --keep-checkpoints:');
  });
});

describe('aidos jobs from templates, checkpoints and sweeps', { timeout: 240_000 }, () => {
  // A template of the data dir's own: prints its arguments, saves a checkpoint and logs `loss` = its rate.
  const script = `
    const env = process.env;
    const headers = { authorization: 'Bearer ' + env.AIDOS_TOKEN };
    console.log('rate ' + process.argv[2] + ' on ' + env.AIDOS_DATASET_INPUT.length + ' chars of path');
    await fetch(env.AIDOS_URL + '/api/v1/training/jobs/' + env.AIDOS_JOB_ID + '/checkpoints?step=1&name=w.bin', {
      method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: 'weights' });
    await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: env.AIDOS_RUN_ID, key: 'loss', value: Number(process.argv[2]), timestamp: Date.now(), step: 1 }) });`;
  beforeAll(async () => {
    const dir = path.join(t.core.dataDir, 'templates', 'rate');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'run.mjs'), script);
    writeFileSync(
      path.join(dir, 'template.json'),
      JSON.stringify({
        id: 'rate',
        title: 'Rate',
        kind: 'script',
        command: [process.execPath, 'run.mjs', '{rate}'],
        params: [{ name: 'rate', type: 'number', required: true, help: 'how fast' }],
        datasets: [{ as: 'INPUT', help: 'any files' }],
      }),
    );
    const files = tempDir('aidos-cli-template-data-');
    writeFileSync(path.join(files.dir, 'a.txt'), 'a');
    const imported = await t.client.call('datasets.import', { dataset: 'letters', path: files.dir, create: true });
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: imported.id })).status) || undefined,
      30_000,
      'the import',
    );
    files.remove();
  });

  it('lists templates, submits one with parameters and a dataset, and lists the job’s checkpoints', async () => {
    const listed = await aidos(['jobs', 'templates']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^rate {2}Rate$/m);
    expect(listed.stdout).toMatch(/^ {2}--param rate=<number> \(required\) {2}how fast$/m);
    expect(listed.stdout).toMatch(/^ {2}--dataset INPUT=<dataset>\[@version\] {2}any files$/m);
    expect(listed.stdout).toMatch(/^pytorch-tabular /m);

    const run = await aidos([
      'jobs',
      'submit',
      '--template',
      'rate',
      '--param',
      'rate=0.25',
      '--dataset',
      'INPUT=letters@1',
      '--follow',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^rate 0\.25 on \d+ chars of path$/m);
    const id = submittedId(run.stderr);
    const shown = await aidos(['jobs', 'show', id]);
    expect(shown.stdout).not.toMatch(/^keeps/m);
    const kept = await aidos([
      'jobs',
      'submit',
      '--template',
      'rate',
      '--param',
      'rate=1',
      '--dataset',
      'INPUT=letters',
      '--keep-checkpoints',
      '3',
      '--follow',
    ]);
    expect(kept.code, kept.stderr).toBe(0);
    expect((await aidos(['jobs', 'show', submittedId(kept.stderr)])).stdout).toMatch(
      /^keeps {7}the newest 3 checkpoints$/m,
    );
    const checkpoints = await aidos(['jobs', 'checkpoints', id]);
    expect(checkpoints.code, checkpoints.stderr).toBe(0);
    expect(checkpoints.stdout).toMatch(/^\w{26}\s+1\s+1\s+w\.bin\s+7\s+\d{4}-/m);

    const refused = await aidos(['jobs', 'submit', '--template', 'rate', '--dataset', 'INPUT=letters']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/params\.rate: is required/);
  });

  it('creates a sweep from a JSON file and shows its trials, best first', async () => {
    const file = path.join(workDir.dir, 'sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'rates',
        template: { template: 'rate', datasets: { INPUT: { dataset: 'letters' } } },
        space: { rate: { type: 'choice', values: [0.5, 0.125, 0.25] } },
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: 'grid',
        parallel: 3,
      }),
    );
    const created = await aidos(['sweeps', 'create', file]);
    expect(created.code, created.stderr).toBe(0);
    const id = /^(\w{26}) running/.exec(created.stdout)?.[1] as string;
    expect(id).toBeDefined();
    await waitFor(
      async () => (await t.client.call('trainingSweeps.get', { sweep: id })).state !== 'running' || undefined,
      120_000,
      'the sweep to end',
    );
    const shown = await aidos(['sweeps', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    const rows = shown.stdout.trim().split('\n').slice(3);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 5))).toEqual([
      ['2', '*', 'completed', '0.125', '1'],
      ['3', 'completed', '0.25', '1', '0.25'],
      ['1', 'completed', '0.5', '1', '0.5'],
    ]);
  });
});
