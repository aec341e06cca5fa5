import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir } from '#platform/testing';
import type { Benchmark } from '#shared/contracts/evalkit-evaluations';
import type { LlmRun, LlmRunSummary, LlmSuiteInput } from '#shared/contracts/evalkit-llm';

let t: TestCore;
let files: { dir: string; remove: () => void };
const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

// The memoriser answers its sentences exactly at temperature 0 (test-fixtures/README.md); `threads: 1` on these
// 2-core machines. Each command is a child process compiling the CLI with tsx: seconds each on a busy machine.
const suite: LlmSuiteInput = {
  name: 'cli',
  prompts: [{ name: 'whole', user: '{{start}}' }],
  cases: [
    {
      name: 'fox',
      vars: { start: 'The quick brown' },
      expected: ' fox jumps over the lazy dog.',
      assertions: [{ type: 'equals' }],
    },
    {
      name: 'node',
      vars: { start: 'Node.js runs' },
      expected: ' Python in the browser.',
      assertions: [{ type: 'equals' }],
    },
    {
      name: 'json',
      vars: { start: 'The quick brown' },
      responseFormat: { type: 'json' },
      assertions: [{ type: 'is-json' }],
    },
  ],
  generation: { temperature: 0, maxTokens: 24 },
};

function writeSuite(name: string, spec: unknown): string {
  const file = join(files.dir, name);
  writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec));
  return file;
}

beforeAll(async () => {
  files = tempDir('aidos-eval-llm-cli-');
  t = await startTestCore();
  await t.client.call('deployments.create', {
    file: fixturePath('models', 'tiny-llama-memorizer-q8.gguf'),
    name: 'tiny',
    threads: 1,
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
  files?.remove();
});

describe('aidos eval llm', { timeout: 180_000 }, () => {
  let first: string;

  it('saves a suite from a file, runs it, prints the pass/fail matrix with why cells failed, and exits 1', async () => {
    const r = await aidos(['eval', 'llm', 'run', writeSuite('suite.json', suite), '--model', 'tiny']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^saved suite cli from .*suite\.json$/m);
    const [latest] = (await t.client.call('llmRuns.list', { suite: 'cli' })).items;
    first = latest!.id;
    expect(r.stdout).toMatch(new RegExp(`^id\\s+${first}$`, 'm'));
    expect(r.stdout).toMatch(/^state\s+succeeded$/m);
    expect(r.stdout).toMatch(/^cells\s+3 of 3 done, 2 passed$/m);
    expect(r.stdout).toMatch(/^CASE\s+WHOLE × TINY$/m);
    expect(r.stdout).toMatch(/^fox\s+pass$/m);
    expect(r.stdout).toMatch(/^node\s+FAIL$/m);
    // JSON mode, asked for by the case, makes the memoriser's answer valid JSON.
    expect(r.stdout).toMatch(/^json\s+pass$/m);
    expect(r.stdout).toMatch(/^passed\s+2\/3$/m);
    expect(r.stdout).toContain(
      'whole × tiny × node: equals: expected " Python in the browser.", got " JavaScript on the server."\n' +
        '  diff:  [-Python in-]{+JavaScript on+} the [-browser.-]{+server.+}\n',
    );
  });

  it('replaces the suite of that name from an edited file, and exits 0 when every cell passes', async () => {
    const fixed = { ...suite, cases: suite.cases.filter((c) => c.name !== 'node') };
    const r = await aidos(['--json', 'eval', 'llm', 'run', writeSuite('suite.json', fixed), '-m', 'tiny']);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout) as LlmRun;
    expect(run).toMatchObject({ suite: 'cli', state: 'succeeded', cellCount: 2, passed: 2 });
    expect((await t.client.call('llmSuites.get', { suite: 'cli' })).cases).toHaveLength(2);
  });

  it('runs a saved suite by name without waiting, then lists runs, suites and shows one', async () => {
    const queued = await aidos(['--json', 'eval', 'llm', 'run', 'cli', '-m', 'tiny', '--no-wait']);
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout) as LlmRunSummary).toMatchObject({ suite: 'cli', state: 'queued' });

    const list = await aidos(['eval', 'llm', 'list', '--suite', 'cli']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+SUITE\s+STATE\s+MODELS\s+CELLS\s+PASSED\s+CREATED$/m);
    expect(list.stdout).toMatch(new RegExp(`^${first}\\s+cli\\s+succeeded\\s+tiny\\s+3/3\\s+2\\s`, 'm'));
    expect(list.stdout.trim().split('\n')).toHaveLength(4);

    const suites = await aidos(['eval', 'llm', 'suites']);
    expect(suites.code, suites.stderr).toBe(0);
    expect(suites.stdout).toMatch(/^cli\s+\S+\s+1\s+2\s/m);

    const shown = await aidos(['eval', 'llm', 'show', first]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^node\s+FAIL$/m);
    expect(shown.stdout).toMatch(/^failures$/m);
  });

  it('refuses a missing deployment, an unreadable file and a bad suite, naming the problem (exit 2)', async () => {
    const ghost = await aidos(['eval', 'llm', 'run', 'cli', '--model', 'ghost']);
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toBe('error (INVALID_ARGUMENT): models[0]: no deployment named ghost\n');
    const broken = await aidos(['eval', 'llm', 'run', writeSuite('broken.json', '{"name": '), '-m', 'tiny']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error \(INVALID_ARGUMENT\): suite: .*broken\.json: .*JSON/);
    const bad = writeSuite('bad.json', { ...suite, name: 'bad', prompts: [{ name: 'p', user: '{{topic}}' }] });
    const refused = await aidos(['eval', 'llm', 'run', bad, '-m', 'tiny']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'error (INVALID_ARGUMENT): body.prompts.0.user: unknown variable {{topic}}: case 0 (fox) does not define it\n',
    );
  });
});

describe('aidos eval bench', { timeout: 120_000 }, () => {
  let id: string;

  it('loads a deployment at a concurrency for a duration and prints throughput and latency percentiles', async () => {
    const r = await aidos(['eval', 'bench', 'tiny', '--concurrency', '2', '--duration', '1', '--max-tokens', '4']);
    expect(r.code, r.stderr).toBe(0);
    const [latest] = (await t.client.call('benchmarks.list', { deployment: 'tiny' })).items;
    id = latest!.id;
    expect(latest).toMatchObject({ state: 'succeeded', concurrency: 2, durationSeconds: 1, errors: 0 });
    expect(latest!.requests).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(r.stdout).toMatch(/^deployment\s+tiny \(gguf\)$/m);
    expect(r.stdout).toMatch(/^endpoint\s+\/v1\/chat\/completions$/m);
    expect(r.stdout).toMatch(/^load\s+2 clients for 1 s$/m);
    expect(r.stdout).toMatch(new RegExp(`^requests\\s+${latest!.requests} answered, 0 failed$`, 'm'));
    expect(r.stdout).toMatch(/^throughput\s+[\d.]+ requests\/s$/m);
    expect(r.stdout).toMatch(/^latency\s+mean [\d.]+ ms, p50 [\d.]+, p95 [\d.]+, p99 [\d.]+, max [\d.]+$/m);
  });

  it('lists the benchmarks of a deployment and shows one as JSON', async () => {
    const list = await aidos(['eval', 'bench', 'list', 'tiny']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+STATE\s+DEPLOYMENT\s+MODEL\s+CLIENTS\s+SECONDS\s+REQUESTS\s+ERRORS\s+REQ\/S/m);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+succeeded\\s+tiny\\s+-\\s+2\\s+1\\s+\\d+\\s+0\\s+[\\d.]+`, 'm'));
    const shown = await aidos(['--json', 'eval', 'bench', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    const b = JSON.parse(shown.stdout) as Benchmark;
    expect(b).toMatchObject({ id, deployment: 'tiny', runtime: 'gguf' });
    expect(b.latencyMs?.p99).toBeGreaterThanOrEqual(b.latencyMs?.p50 ?? Infinity);
  });

  it('refuses a deployment that does not exist (exit 2)', async () => {
    const r = await aidos(['eval', 'bench', 'ghost', '--duration', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error \(INVALID_ARGUMENT\): deployment: .*ghost/);
  });
});
