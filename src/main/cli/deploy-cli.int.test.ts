import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { fixturePath } from '#platform/testing';

const LLAMA = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');
const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));

let t: TestCore;
const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

/** `runCli` with bytes on the child's stdin (chat and predict read it). */
function aidosWithInput(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--data-dir', t.core.dataDir, ...args], {
      env: { ...process.env, AIDOS_URL: '', AIDOS_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

// Each command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
beforeAll(async () => {
  t = await startTestCore();
  const bytes = readFileSync(LLAMA);
  const upload = await t.client.call('uploads.create', { filename: 'tiny-llama.gguf', size: bytes.length });
  await t.client.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
  await t.client.call('models.create', { name: 'tiny-llama' });
  await t.client.call('models.createVersion', { name: 'tiny-llama', uploadId: upload.id, aliases: ['champion'] });
});
afterAll(async () => {
  await t?.close();
});

describe('aidos deploy, deployments, chat and predict', { timeout: 120_000 }, () => {
  it('deploys a registered model by alias and prints its state', async () => {
    const r = await aidos(['deploy', 'tiny-llama@champion', '--name', 'tiny', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tiny ready on cpu$/m);
  });

  it('lists deployments as a table', async () => {
    const r = await aidos(['deployments', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+RUNTIME\s+MODEL\s+PLACEMENT\s+REASON$/);
    expect(r.stdout).toMatch(/^tiny\s+ready\s+gguf\s+tiny-llama v1 \(@champion\)\s+cpu\s+-$/m);
  });

  it('chats: each stdin line is a message, the answer streams to stdout', async () => {
    const r = await aidosWithInput(
      ['chat', 'tiny', '--temperature', '0', '--no-history'],
      'The quick brown\nNode.js runs\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(' fox jumps over the lazy dog.\n JavaScript on the server.\n');
  });

  it('predicts a completion from JSON on stdin, and shows the request log', async () => {
    const r = await aidosWithInput(['predict', 'tiny'], JSON.stringify({ prompt: 'Once upon a time', temperature: 0 }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(' there was a little robot who loved to count: one, two, three, four, five.\n');
    const logs = await aidos(['deployments', 'logs', 'tiny']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^\S+ \S+\s+completion\s+ok\s+\d+\s+\d+\+\d+\s+Once upon a time/m);
  });

  it('stops a deployment; chat then fails with the reason and exit code 1', async () => {
    const stop = await aidos(['deployments', 'stop', 'tiny']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('tiny stopped\n');
    const r = await aidosWithInput(['chat', 'tiny'], 'hello\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/deployment 'tiny' is stopped/);
  });

  it('deploys a file that is not a model with a clear error (exit code 2)', async () => {
    const r = await aidos(['deploy', '--file', '/nope/missing.gguf']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/file: '\/nope\/missing.gguf' does not exist/);
  });
});
