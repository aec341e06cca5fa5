import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { tempDir, waitFor } from '#platform/testing';
import { AppError } from '#shared/errors';

const NODE = process.execPath;

describe('training templates', { timeout: 120_000 }, () => {
  let t: TestCore;
  let data: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    data = tempDir('aidos-templates-');
    // A template of the data dir's own, beside the shipped ones: prints its arguments and its dataset's files.
    const dir = path.join(data.dir, 'templates', 'echo');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'echo.mjs'),
      `import { readdirSync } from 'node:fs';
       console.log(JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), files: readdirSync(process.env.AIDOS_DATASET_INPUT) }));`,
    );
    writeFileSync(
      path.join(dir, 'template.json'),
      JSON.stringify({
        id: 'echo',
        title: 'Echo',
        kind: 'script',
        command: [NODE, 'echo.mjs', '--rate={rate}', '--mode', '{mode}', '{count}', '{flag}'],
        params: [
          { name: 'rate', type: 'number', required: true },
          { name: 'mode', type: 'choice', choices: ['fast', 'slow'], default: 'fast' },
          { name: 'count', type: 'int', default: 3 },
          { name: 'flag', type: 'boolean', default: false },
        ],
        datasets: [{ as: 'INPUT', help: 'any files' }],
      }),
    );
    // A broken manifest is left out, not fatal.
    mkdirSync(path.join(data.dir, 'templates', 'broken'));
    writeFileSync(path.join(data.dir, 'templates', 'broken', 'template.json'), '{"id": "broken", "kind": "script"');
    t = await startTestCore({ dataDir: data.dir });
    const files = tempDir('aidos-template-data-');
    writeFileSync(path.join(files.dir, 'rows.csv'), 'a,b\n1,2\n');
    const imported = await t.client.call('datasets.import', { dataset: 'rows', path: files.dir, create: true });
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: imported.id })).status) || undefined,
      30_000,
      'the import',
    );
    files.remove();
  });
  afterAll(async () => {
    await t.close();
    data.remove();
  });

  const rejects = async (promise: Promise<unknown>): Promise<AppError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  };

  it('lists the shipped templates and the data dir’s own, leaving out one that does not parse', async () => {
    const { templates } = await t.client.call('trainingTemplates.list', {});
    expect(templates.map((x) => x.id).sort()).toEqual([
      'builtin-image-classifier',
      'builtin-tabular-classifier',
      'builtin-tabular-regressor',
      'builtin-text-classifier',
      'echo',
      'pytorch-tabular',
    ]);
    const pytorch = templates.find((x) => x.id === 'pytorch-tabular');
    expect(pytorch?.params.find((p) => p.name === 'target')).toMatchObject({ type: 'string', required: true });
    expect(pytorch?.datasets).toEqual([expect.objectContaining({ as: 'TRAIN' })]);
  });

  it('submits a job from a template: the command filled in, run in its folder with its dataset', async () => {
    const job = await t.client.call('trainingTemplates.submit', {
      template: 'echo',
      params: { rate: 0.5, mode: 'slow', flag: true },
      datasets: { INPUT: { dataset: 'rows' } },
      experiment: 'templated',
    });
    expect(job.spec).toMatchObject({
      name: 'Echo',
      command: [NODE, 'echo.mjs', '--rate=0.5', '--mode', 'slow', '3', 'true'],
      workingDir: path.join(data.dir, 'templates', 'echo'),
      datasets: [{ dataset: 'rows', version: '1', as: 'INPUT' }],
      experiment: 'templated',
    });
    const done = await waitFor(
      async () => {
        const j = await t.client.call('trainingJobs.get', { job: job.id });
        return j.state === 'queued' || j.state === 'running' ? undefined : j;
      },
      60_000,
      'the job to end',
    );
    expect(done.state).toBe('succeeded');
    const log = await t.client.call('trainingJobs.logs', { job: job.id });
    expect(JSON.parse(log.lines[0]?.text ?? '{}')).toEqual({
      argv: ['--rate=0.5', '--mode', 'slow', '3', 'true'],
      cwd: path.join(data.dir, 'templates', 'echo'),
      files: ['rows.csv'],
    });
  });

  it('refuses unknown templates, missing or mistyped parameters and datasets, naming the field', async () => {
    const submit = (input: Record<string, unknown>) =>
      rejects(
        t.client.call('trainingTemplates.submit', {
          template: 'echo',
          datasets: { INPUT: { dataset: 'rows' } },
          ...input,
        } as never),
      );
    const unknown = await submit({ template: 'nope' });
    expect([unknown.httpStatus, unknown.message]).toEqual([404, "training template 'nope' does not exist"]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ params: {} }, /^params\.rate: is required$/],
      [{ params: { rate: 'fast' } }, /^params\.rate: must be a number/],
      [{ params: { rate: 1, count: 1.5 } }, /^params\.count: must be a whole number/],
      [{ params: { rate: 1, mode: 'medium' } }, /^params\.mode: must be one of fast, slow/],
      [{ params: { rate: 1, flag: 'yes' } }, /^params\.flag: must be true or false/],
      [{ params: { rate: 1, speed: 2 } }, /^params\.speed: template 'echo' has no parameter 'speed'/],
      [{ params: { rate: 1 }, datasets: {} }, /^datasets\.INPUT: is required/],
      [
        { params: { rate: 1 }, datasets: { INPUT: { dataset: 'rows' }, OTHER: { dataset: 'rows' } } },
        /^datasets\.OTHER/,
      ],
      [{ params: { rate: 1 }, datasets: { INPUT: { dataset: 'missing' } } }, /^datasets\.0: .*missing/],
    ];
    for (const [input, message] of cases) {
      const err = await submit(input);
      expect([err.httpStatus, err.message]).toEqual([400, expect.stringMatching(message)]);
    }
  });
});
