import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { runBuiltinTrainer } from '#platform/builtin-training/train';
import { fixturePath, tempDir } from '#platform/testing';

const LLAMA = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');
const MLP = fixturePath('models', 'digits_mlp.onnx');
const BERT_FILE = fixturePath('models', 'tiny-bert-embed.gguf');
const DIGITS = JSON.parse(readFileSync(fixturePath('models', 'digits_mlp.expected.json'), 'utf8')) as {
  X: number[][];
  logits: number[][];
};
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
  const onnx = readFileSync(MLP);
  const up = await t.client.call('uploads.create', { filename: 'digits_mlp.onnx', size: onnx.length });
  await t.client.send('uploads.append', { id: up.id, offset: 0 }, onnx);
  await t.client.call('models.create', { name: 'digits' });
  await t.client.call('models.createVersion', { name: 'digits', uploadId: up.id });
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
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+RUNTIME\s+MODEL\s+PLACEMENT\s+REPLICAS\s+REASON$/);
    expect(r.stdout).toMatch(/^tiny\s+ready\s+gguf\s+tiny-llama v1 \(@champion\)\s+cpu\s+1 \(1\.\.1\)\s+-$/m);
  });

  it('chats: each stdin line is a message, the answer streams to stdout', async () => {
    const r = await aidosWithInput(
      ['chat', 'tiny', '--temperature', '0', '--no-history'],
      'The quick brown\nNode.js runs\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(' fox jumps over the lazy dog.\n JavaScript on the server.\n');
  });

  it('keeps chatting when the conversation outgrows the context, dropping its oldest exchanges', async () => {
    // The tiny model's context is 128 tokens: fourteen exchanges do not fit, and every line is still answered.
    const lines = Array.from({ length: 14 }, () => 'The quick brown fox jumps').join('\n');
    const r = await aidosWithInput(['chat', 'tiny', '--temperature', '0', '--max-tokens', '4'], `${lines}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/\n/g)).toHaveLength(14);
    expect(r.stderr).toMatch(/outgrew the model's context: its oldest exchange was dropped/);
  });

  it('predicts a completion from JSON on stdin, and shows the request log', async () => {
    const r = await aidosWithInput(['predict', 'tiny'], JSON.stringify({ prompt: 'Once upon a time', temperature: 0 }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(' there was a little robot who loved to count: one, two, three, four, five.\n');
    const logs = await aidos(['deployments', 'logs', 'tiny']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^AT\s+ENDPOINT\s+VERSION\s+STATUS\s+MS\s+TOKENS\s+INPUT\s+OUTPUT$/m);
    expect(logs.stdout).toMatch(/^\S+ \S+\s+completion\s+1\s+ok\s+\d+\s+\d+\+\d+\s+Once upon a time/m);
    // Only the failures, or only another version's: none here.
    const errors = await aidos(['deployments', 'logs', 'tiny', '--status', 'error']);
    expect(errors.stdout).not.toMatch(/\sok\s/);
    const other = await aidos(['deployments', 'logs', 'tiny', '--model-version', '2']);
    expect(other.stdout.trim()).toBe('no requests logged');
  });

  it('sets what the request log keeps, and shows the events of a deployment', async () => {
    const set = await aidos(['deployments', 'log-settings', 'tiny', '--sample-rate', '0.25', '--max-chars', '100']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('tiny: request log keeps 25% of successes and every failure, cut to 100 characters\n');
    expect((await t.client.call('deployments.get', { deployment: 'tiny' })).requestLog).toEqual({
      sampleRate: 0.25,
      maxChars: 100,
    });
    // The API's refusal names the flag given, not the field it set.
    const over = await aidos(['deployments', 'log-settings', 'tiny', '--sample-rate', '2']);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/^error \(INVALID_ARGUMENT\): --sample-rate: /m);
    const idle = await aidos(['deploy', '--file', MLP, '--name', 'idle0', '--idle-unload', '0']);
    expect(idle.code).toBe(2);
    expect(idle.stderr).toMatch(/^error \(INVALID_ARGUMENT\): --idle-unload: /m);
    // Without flags, the settings as they are.
    const shown = await aidos(['deployments', 'log-settings', 'tiny']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe('tiny: request log keeps 25% of successes and every failure, cut to 100 characters\n');
    const events = await aidos(['deployments', 'events', 'tiny', '-n', '50']);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toMatch(/^AT\s+STATE\s+MESSAGE$/m);
    expect(events.stdout).toMatch(/^\S+ \S+\s+ready\s+requestLog changed$/m);
    expect(events.stdout).toMatch(/^\S+ \S+\s+loading\s+loading tiny-llama version 1/m);
  });

  it('stops a deployment; chat then fails with the reason and exit code 1', async () => {
    const stop = await aidos(['deployments', 'stop', 'tiny']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('tiny stopped\n');
    const r = await aidosWithInput(['chat', 'tiny'], 'hello\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/deployment 'tiny' is stopped/);
  });

  it('takes a path in place of a model name, and says how to try an embedding model', async () => {
    const r = await aidos(['deploy', path.relative(process.cwd(), BERT_FILE), '--name', 'bert', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `bert ready on cpu\ntry it: echo '{"input": "hello"}' | aidos predict bert   (OpenAI clients: embeddings, model "bert")\n`,
    );
    expect((await aidos(['deployments', 'delete', 'bert'])).code).toBe(0);
  });

  it('refuses --lazy with --min-replicas above 0, and predict input that is none of the three', async () => {
    const lazy = await aidos(['deploy', '--file', MLP, '--lazy', '--min-replicas', '2', '--name', 'lazy']);
    expect(lazy.code).toBe(2);
    expect(lazy.stderr).toMatch(/--lazy: loads on the first request \(min replicas 0\): leave out --min-replicas 2/);
    const none = await aidosWithInput(['predict', 'tiny'], '{"temperature": 0}');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/stdin: give prompt \(a completion\), messages \(a chat\) or input \(embeddings\)/);
  });

  it('deploys a file that is not a model with a clear error (exit code 2)', async () => {
    const r = await aidos(['deploy', '--file', '/nope/missing.gguf']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/file: '\/nope\/missing.gguf' does not exist/);
  });

  it('deploys with --runtime tfjs only a version that carries a TF.js export, naming runtime otherwise', async () => {
    const r = await aidos(['deploy', 'digits:1', '--runtime', 'tfjs', '--name', 'digits-tfjs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/runtime: version 1 of 'digits' is an ONNX model without a TF\.js export/);
  });
});

describe('aidos deploy, predict and deployments scale with ONNX models', { timeout: 120_000 }, () => {
  /** The largest difference between a printed `logits [1, 10] [...]` line and the expected logits of a row. */
  const logitsDiff = (stdout: string, row: number) => {
    const m = /^logits \[1, 10\] (\[.*\])$/m.exec(stdout);
    expect(m, stdout).not.toBeNull();
    const got = JSON.parse(m?.[1] as string) as number[];
    return Math.max(...got.map((v, i) => Math.abs(v - (DIGITS.logits[row]?.[i] as number))));
  };

  it('deploys a registered ONNX model and predicts from a v2 body and from tensors by name', async () => {
    const r = await aidos(['deploy', 'digits:1', '--max-replicas', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'digits ready on cpu\ntry it: aidos predict digits < input.json   (KServe v2: POST /v2/models/digits/infer)\n',
    );
    const v2 = await aidosWithInput(
      ['predict', 'digits'],
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: DIGITS.X[2] }] }),
    );
    expect(v2.code, v2.stderr).toBe(0);
    expect(logitsDiff(v2.stdout, 2)).toBeLessThan(1e-4);
    const named = await aidosWithInput(
      ['predict', 'digits'],
      JSON.stringify({ inputs: { x: { shape: [1, 64], data: DIGITS.X[7] } } }),
    );
    expect(named.code, named.stderr).toBe(0);
    expect(logitsDiff(named.stdout, 7)).toBeLessThan(1e-4);
    const bad = await aidosWithInput(
      ['predict', 'digits'],
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/inputs\.x: /);
  });

  it('scales the replicas of an ONNX deployment', async () => {
    const r = await aidos(['deployments', 'scale', 'digits', '--min', '2', '--max', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('digits ready on cpu, 2 replicas running (2..3)\n');
    // Down to zero: without an idle timeout it never gets there, and is told so; with one, it is set too.
    const zero = await aidos(['deployments', 'scale', 'digits', '--min', '0']);
    expect(zero.code, zero.stderr).toBe(0);
    expect(zero.stderr).toMatch(/no idle timeout, so it never scales to zero; give one with --idle-unload/);
    const timed = await aidos(['deployments', 'scale', 'digits', '--idle-unload', '600', '--min', '2']);
    expect(timed.stderr).toBe('');
    expect((await t.client.call('deployments.get', { deployment: 'digits' })).idleUnloadSeconds).toBe(600);
  });

  it('sets a canary version beside the main one, shows it, refuses a bad percent, and promotes it', async () => {
    const onnx = readFileSync(MLP);
    const up = await t.client.call('uploads.create', { filename: 'digits_mlp.onnx', size: onnx.length });
    await t.client.send('uploads.append', { id: up.id, offset: 0 }, onnx);
    await t.client.call('models.createVersion', { name: 'digits', uploadId: up.id });
    const set = await aidos(['deployments', 'traffic', 'digits', '--canary', '2', '--percent', '10']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('digits ready on cpu; canary v2 answers 10% of requests\n');
    const bad = await aidos(['deployments', 'traffic', 'digits', '--canary', '2', '--percent', '150']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/traffic\.percent/);
    const show = await aidos(['deployments', 'show', 'digits']);
    expect(show.stdout).toMatch(/^traffic +canary v2 answers 10% of requests$/m);
    const promoted = await aidos(['deployments', 'promote', 'digits']);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toBe('digits ready on cpu\n');
    expect((await t.client.call('deployments.get', { deployment: 'digits' })).source).toMatchObject({ version: 2 });
  });

  it('deploys a tabular model file with the preprocessing beside it and predicts labels from JSON rows', async () => {
    const dir = tempDir('aidos-cli-tabular-');
    try {
      const trained = await runBuiltinTrainer(
        { kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 30, learningRate: 0.02 },
        fixturePath('data'),
        null,
        { log: () => undefined, epochEnd: async () => undefined, checkpoint: async () => undefined },
      );
      writeFileSync(path.join(dir.dir, 'model.onnx'), trained.onnx);
      writeFileSync(path.join(dir.dir, 'preprocessing.json'), JSON.stringify(trained.preprocessing));
      const deployed = await aidos(['deploy', '--file', path.join(dir.dir, 'model.onnx'), '--name', 'iris']);
      expect(deployed.code, deployed.stderr).toBe(0);
      const rows = [
        { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
        { sepal_length: 6.3, sepal_width: 3.3, petal_length: 6.0, petal_width: 2.5 },
      ];
      const r = await aidosWithInput(['predict', 'iris'], JSON.stringify({ rows }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('setosa\nvirginica\n');
    } finally {
      dir.remove();
    }
  });
});
