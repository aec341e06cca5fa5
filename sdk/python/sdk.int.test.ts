import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';

/**
 * The Python SDK (sdk/python) against a real core: its unittest suite runs in Debian's Python with the core's
 * URL and token, then what the tests report (run ids, files, models) is checked on the server through the API.
 * Also checks that the package installs with pip, offline.
 */

const SDK = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(SDK, '../..');
/** Debian's interpreter: the SDK must work with what the system ships, not with a development Python. */
const PYTHON = '/usr/bin/python3';
const DATASET = 'sdk-test-data';

let t: TestCore;
let work: ReturnType<typeof tempDir>;

beforeAll(async () => {
  t = await startTestCore();
  work = tempDir('aidos-sdk-');
  await importFolder(DATASET, {
    'table.csv': 'id,name,score\n1,ada,0.9\n2,bob,0.7\n',
    'notes/readme.txt': 'café notes\n',
    'notes/deep/blob.bin': Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256)),
  });
});
afterAll(async () => {
  await t.close();
  work.remove();
});

async function importFolder(dataset: string, files: Record<string, string | Buffer>): Promise<void> {
  const dir = path.join(work.dir, 'dataset');
  for (const [rel, content] of Object.entries(files)) {
    const dest = path.join(dir, rel);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, content);
    // Aged past the stat cache's racy window, as imports expect of settled files.
    const old = new Date(Date.now() - 60_000);
    utimesSync(dest, old, old);
  }
  const started = await t.client.call('datasets.import', { dataset, path: dir, create: true });
  const job = await waitFor(
    async () => {
      const j: Job = await t.client.call('jobs.get', { id: started.id });
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    },
    30_000,
    'import',
  );
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  expect((job.result as ImportResult).version.number).toBe(1);
}

/** Runs a command without blocking the event loop (the core under test answers from this very process). */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The environment a training script would have: the core's URL and token, nothing of this machine's own. */
function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AIDOS_RUN_ID;
  return env;
}

interface Reported {
  what: string;
  [key: string]: unknown;
}

async function mlflow<T>(route: string, query: Record<string, string>): Promise<T> {
  const res = await t.request(`/api/2.0/mlflow/${route}?${new URLSearchParams(query).toString()}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

describe('the Python SDK', () => {
  let reported: Reported[] = [];
  const find = (what: string): Reported => {
    const r = reported.find((x) => x.what === what);
    if (!r) throw new Error(`the Python tests reported no '${what}'`);
    return r;
  };

  it('passes its unittest suite against a real core', async () => {
    const reportFile = path.join(work.dir, 'report.jsonl');
    const { code, output } = await run(
      PYTHON,
      ['-m', 'unittest', 'discover', '-s', 'sdk/python/tests', '-v'],
      pythonEnv({
        AIDOS_URL: t.client.baseUrl,
        AIDOS_TOKEN: t.token,
        // Nowhere a token file could be found by accident.
        AIDOS_HOME: path.join(work.dir, 'no-home'),
        AIDOS_TEST_DATASET: DATASET,
        AIDOS_TEST_WORK: path.join(work.dir, 'py'),
        AIDOS_TEST_REPORT: reportFile,
        PYTHONPATH: path.join(SDK, 'src'),
        PYTHONDONTWRITEBYTECODE: '1',
      }),
      150_000,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK/m);
    expect(output).not.toMatch(/skipped/);
    reported = readFileSync(reportFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Reported);
  }, 180_000);

  it('left exactly the logged points in the metric history, without duplicates', async () => {
    const happy = find('happy');
    const got = await t.client.call('runs.history', { run: happy.run_id as string, key: 'loss' });
    expect(got.items.map((p) => [p.step, p.value])).toEqual(
      (happy.steps as number[]).map((s, i) => [s, (happy.values as number[])[i]]),
    );
    const run = await t.client.call('runs.get', { run: happy.run_id as string });
    expect(run.info.status).toBe('FINISHED');

    const batched = find('batched');
    const history = await mlflow<{ metrics: { step: number }[] }>('metrics/get-history', {
      run_id: batched.run_id as string,
      metric_key: 'loss',
    });
    const steps = history.metrics.map((m) => m.step);
    expect(steps).toHaveLength(batched.count as number);
    expect(new Set(steps).size).toBe(batched.count);
  });

  it('stored artifact bytes equal to the uploaded file', async () => {
    const artifact = find('artifact');
    const { bytes } = await t.client.file('runs.artifact', {
      run: artifact.run_id as string,
      path: artifact.path as string,
    });
    expect(Buffer.from(bytes).equals(readFileSync(artifact.local as string))).toBe(true);
  });

  it('registered the model version its alias points at, and failed the run of a script that raised', async () => {
    const model = find('model');
    const version = await mlflow<{ model_version: { version: string; source: string } }>('registered-models/alias', {
      name: model.name as string,
      alias: model.alias as string,
    });
    expect(version.model_version.version).toBe(String(model.version));
    expect(version.model_version.source).toBe(model.source);

    const failed = await mlflow<{ run: { info: { status: string } } }>('runs/get', {
      run_id: find('failed').run_id as string,
    });
    expect(failed.run.info.status).toBe('FAILED');
  });

  it('logged system metrics under MLflow names only where they were on', async () => {
    const keys = async (runId: string) => {
      const got = await mlflow<{ run: { data: { metrics?: { key: string }[] } } }>('runs/get', { run_id: runId });
      return (got.run.data.metrics ?? []).map((m) => m.key).filter((k) => k.startsWith('system/'));
    };
    const system = find('system');
    const names = await keys(system.run_id as string);
    expect(names.sort()).toEqual(system.names);
    expect(names).toEqual(
      expect.arrayContaining([
        'system/cpu_utilization_percentage',
        'system/system_memory_usage_megabytes',
        'system/system_memory_usage_percentage',
        'system/process_rss_megabytes',
        'system/gpu_0_utilization_percentage',
      ]),
    );
    for (const id of find('no-system').run_ids as string[]) expect(await keys(id)).toEqual([]);
  });

  it('recorded the dataset versions runs used as MLflow dataset inputs', async () => {
    for (const what of ['input', 'auto-input']) {
      const input = find(what);
      const got = await mlflow<{
        run: {
          inputs: { dataset_inputs?: { dataset: Record<string, string>; tags?: { key: string; value: string }[] }[] };
        };
      }>('runs/get', { run_id: input.run_id as string });
      const inputs = got.run.inputs.dataset_inputs ?? [];
      expect(inputs).toHaveLength(1);
      expect(inputs[0]?.dataset).toMatchObject({ name: DATASET, source_type: 'aidos', source: input.source });
      expect(inputs[0]?.dataset.digest).toMatch(/^[0-9a-f]{16}$/);
      expect(inputs[0]?.tags).toEqual([{ key: 'mlflow.data.context', value: input.context }]);
    }
  });
});

describe('packaging', () => {
  it('installs with pip from the source folder, offline, and imports from where it was installed', async () => {
    // A copy, so that the build's egg-info and build/ folders never land in the checkout.
    const source = path.join(work.dir, 'sdk-copy');
    cpSync(SDK, source, { recursive: true, filter: (p) => !p.includes('__pycache__') && !p.endsWith('.ts') });
    const target = path.join(work.dir, 'site');
    const env = pythonEnv({ PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PYTHONDONTWRITEBYTECODE: '1' });
    delete env.PYTHONPATH;
    const install = await run(
      PYTHON,
      [
        '-m',
        'pip',
        'install',
        '--no-deps',
        '--no-build-isolation',
        '--no-index',
        '--no-cache-dir',
        '--target',
        target,
        source,
      ],
      env,
      120_000,
    );
    expect(install.code, install.output).toBe(0);
    expect(existsSync(path.join(target, 'aidos', '__init__.py'))).toBe(true);
    expect(existsSync(path.join(target, 'aidos', 'py.typed'))).toBe(true);

    const imported = await run(
      PYTHON,
      ['-c', 'import aidos, aidos.datasets; print(aidos.__version__, aidos.__file__)'],
      { ...env, PYTHONPATH: target },
      30_000,
    );
    expect(imported.code, imported.output).toBe(0);
    expect(imported.output.trim()).toBe(`0.1.0 ${path.join(target, 'aidos', '__init__.py')}`);
  }, 150_000);
});
