import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import type { LabelTask } from '#shared/contracts/labeling';
import { AppError } from '#shared/errors';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { pngImage } from './test-images';

let t: TestCore;
let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  t = await startTestCore();
  work = tempDir('aidos-labeling-');
  await importFolder('topics', folderWith('topics', { 'topics.jsonl': { copy: fixturePath('data/topics.jsonl') } }));
});
afterAll(async () => {
  await t.close();
  work.remove();
});

async function importFolder(dataset: string, folder: string): Promise<ImportResult> {
  const started = await t.client.call('datasets.import', { dataset, path: folder, create: true });
  const job = await waitFor(
    async () => {
      const j: Job = await t.client.call('jobs.get', { id: started.id });
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    },
    30_000,
    'import',
  );
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  return job.result as ImportResult;
}

/** A folder of copied files (`{ copy: path }`) or written content, aged past the stat cache's racy window. */
function folderWith(name: string, files: Record<string, string | Buffer | { copy: string }>): string {
  const dir = path.join(work.dir, name);
  for (const [rel, content] of Object.entries(files)) {
    const dest = path.join(dir, rel);
    mkdirSync(path.dirname(dest), { recursive: true });
    if (typeof content === 'object' && !Buffer.isBuffer(content)) copyFileSync(content.copy, dest);
    else writeFileSync(dest, content);
    const old = new Date(Date.now() - 60_000);
    utimesSync(dest, old, old);
  }
  return dir;
}

async function rejects(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

async function text(dataset: string, version: string, file: string): Promise<string> {
  const { bytes } = await t.client.file('datasets.content', { dataset, version, path: file });
  return Buffer.from(bytes).toString('utf8');
}

const TOPICS = ['cooking', 'astronomy', 'football', 'programming', 'medicine', 'music', 'finance', 'weather'];

describe('classification over a table with two annotators per task', () => {
  const project = { dataset: 'topics', project: 'topic-check' };

  it('makes one task per row, with hotkeys and colours filled in', async () => {
    const created = await t.client.call('labeling.create', {
      dataset: 'topics',
      name: 'topic-check',
      kind: 'classification',
      labels: TOPICS.map((name) => ({ name })),
      source: { type: 'table', path: 'topics.jsonl', textColumn: 'text' },
      overlap: 2,
      review: true,
    });
    expect(created.stats).toMatchObject({ tasks: 360, open: 360, annotated: 0 });
    expect(created.labels[0]).toMatchObject({ name: 'cooking', hotkey: '1', color: expect.stringMatching(/^#/) });
    expect(created.labels[7]?.hotkey).toBe('8');
    const first = await t.client.call('labeling.tasks', { ...project, limit: 1 });
    expect(first.items[0]).toMatchObject({
      position: 0,
      item: 'topics.jsonl:1',
      status: 'open',
      data: { text: 'Boil the pasta in salted water for about ten minutes.', fields: { topic: 'cooking' } },
    });
  });

  it('hands both annotators the same task until it has its two answers, then moves on', async () => {
    const ann = await t.client.call('labeling.next', { ...project, annotator: 'ann' });
    const bob = await t.client.call('labeling.next', { ...project, annotator: 'bob' });
    expect(ann.task?.position).toBe(0);
    expect(bob.task?.position).toBe(0);
    expect(ann.remaining).toBe(360);
    // A third annotator is not given a task that two others hold.
    const cy = await t.client.call('labeling.next', { ...project, annotator: 'cy' });
    expect(cy.task?.position).toBe(1);
    // Asking again returns the task one already holds.
    expect((await t.client.call('labeling.next', { ...project, annotator: 'ann' })).task?.position).toBe(0);

    const task0 = ann.task as LabelTask;
    const afterAnn = await t.client.call('labeling.annotate', {
      ...project,
      task: task0.id,
      annotator: 'ann',
      value: { labels: ['cooking'] },
      durationMs: 1500,
    });
    expect(afterAnn.status).toBe('in_progress');
    const afterBob = await t.client.call('labeling.annotate', {
      ...project,
      task: task0.id,
      annotator: 'bob',
      value: { labels: ['cooking'] },
    });
    expect(afterBob.status).toBe('annotated');
    expect(afterBob.agreement).toBe(1);
    // cy holds task 1, but the overlap leaves room for a second annotator there.
    expect((await t.client.call('labeling.next', { ...project, annotator: 'ann' })).task?.position).toBe(1);
  });

  it('skips, and undoes an answer so the task comes back', async () => {
    const next = (await t.client.call('labeling.next', { ...project, annotator: 'ann' })).task as LabelTask;
    const skipped = await t.client.call('labeling.annotate', {
      ...project,
      task: next.id,
      annotator: 'ann',
      skip: true,
    });
    expect(skipped.annotations).toEqual([expect.objectContaining({ annotator: 'ann', skipped: true, value: null })]);
    expect(skipped.status).toBe('open');
    const after = (await t.client.call('labeling.next', { ...project, annotator: 'ann' })).task as LabelTask;
    expect(after.position).toBeGreaterThan(next.position);

    await t.client.call('labeling.unannotate', { ...project, task: next.id, annotator: 'ann' });
    // Undone: the skipped task is ann's to answer again (she is asked for the one she holds first).
    await t.client.call('labeling.annotate', {
      ...project,
      task: after.id,
      annotator: 'ann',
      value: { labels: ['music'] },
    });
    expect((await t.client.call('labeling.next', { ...project, annotator: 'ann' })).task?.id).toBe(next.id);
  });

  it('gives a held task back, and lists what one annotator answered, latest first', async () => {
    const holds = { dataset: 'topics', project: 'holds' };
    await t.client.call('labeling.create', {
      dataset: 'topics',
      name: 'holds',
      kind: 'classification',
      labels: [{ name: 'a' }, { name: 'b' }],
      source: { type: 'table', path: 'topics.jsonl' },
    });
    const dee = (await t.client.call('labeling.next', { ...holds, annotator: 'dee' })).task as LabelTask;
    const eve = (await t.client.call('labeling.next', { ...holds, annotator: 'eve' })).task as LabelTask;
    // With an overlap of 1, a held task is nobody else's.
    expect([dee.position, eve.position]).toEqual([0, 1]);
    expect((await t.client.call('labeling.release', { ...holds, annotator: 'dee' })).released).toBe(true);
    expect((await t.client.call('labeling.release', { ...holds, annotator: 'dee' })).released).toBe(false);
    expect((await t.client.call('labeling.next', { ...holds, annotator: 'fay' })).task?.id).toBe(dee.id);
    await t.client.call('labeling.delete', holds);

    const mine = await t.client.call('labeling.tasks', { ...project, annotator: 'ann' });
    expect(mine.total).toBeGreaterThan(1);
    expect(mine.total).toBe(mine.items.length);
    expect(mine.items.every((task) => task.annotations.some((a) => a.annotator === 'ann'))).toBe(true);
    const latest = mine.items.map((task) => task.annotations.find((a) => a.annotator === 'ann')?.updatedAt ?? 0);
    expect(latest).toEqual([...latest].sort((a, b) => b - a));
  });

  it('rejects answers that do not fit the project, naming the problem', async () => {
    const task = (await t.client.call('labeling.tasks', { ...project, limit: 1, offset: 5 })).items[0] as LabelTask;
    const answer = (value: object) =>
      rejects(t.client.call('labeling.annotate', { ...project, task: task.id, annotator: 'ann', value }));
    expect((await answer({ labels: ['sports'] })).message).toMatch(/'sports' is not a label of this project/);
    expect((await answer({ labels: ['music', 'finance'] })).message).toMatch(/exactly one label \(got 2\)/);
    expect((await answer({ spans: [{ start: 0, end: 1, label: 'music' }] })).message).toMatch(/has no spans/);
    const neither = await rejects(t.client.call('labeling.annotate', { ...project, task: task.id }));
    expect(neither.httpStatus).toBe(400);
    expect(neither.message).toMatch(/value: is required/);
    const missing = await rejects(
      t.client.call('labeling.annotate', {
        ...project,
        task: '01J00000000000000000000000',
        value: { labels: ['music'] },
      }),
    );
    expect(missing.httpStatus).toBe(404);
    // Nothing was recorded for the rejected answers.
    expect((await t.client.call('labeling.task', { ...project, task: task.id })).annotations).toEqual([]);
  });

  it("measures agreement with Cohen's and Fleiss' kappa and lists disagreements first for review", async () => {
    // Rows come in blocks of one topic: take one row from each of six blocks.
    const tasks = await Promise.all(
      [20, 60, 100, 140, 180, 220].map(
        async (offset) =>
          (await t.client.call('labeling.tasks', { ...project, offset, limit: 1 })).items[0] as LabelTask,
      ),
    );
    // ann labels by the truth; bob disagrees on two of six.
    for (const [i, task] of tasks.entries()) {
      const truth = task.data.fields?.topic as string;
      await t.client.call('labeling.annotate', {
        ...project,
        task: task.id,
        annotator: 'ann',
        value: { labels: [truth] },
      });
      const bobs = i < 2 ? (truth === 'music' ? 'finance' : 'music') : truth;
      await t.client.call('labeling.annotate', {
        ...project,
        task: task.id,
        annotator: 'bob',
        value: { labels: [bobs] },
      });
    }
    const agreement = await t.client.call('labeling.agreement', project);
    expect(agreement.tasks).toBe(7);
    expect(agreement.overall.metric).toBe('fleiss_kappa');
    expect(agreement.overall.value).toBeGreaterThan(0.5);
    expect(agreement.overall.value).toBeLessThan(1);
    expect(agreement.pairs).toEqual([expect.objectContaining({ a: 'ann', b: 'bob', tasks: 7, metric: 'cohen_kappa' })]);
    expect(agreement.lowest.map((l) => l.taskId)).toEqual([tasks[0]?.id, tasks[1]?.id]);

    const queue = await t.client.call('labeling.tasks', {
      ...project,
      status: 'annotated',
      sort: 'agreement',
      limit: 3,
    });
    expect(queue.total).toBe(7);
    expect(queue.items.map((i) => i.agreement)).toEqual([0, 0, 1]);
  });

  it('reviews: accept an answer or fix it; a reviewed task is final and locked', async () => {
    const queue = await t.client.call('labeling.tasks', {
      ...project,
      status: 'annotated',
      sort: 'agreement',
      limit: 2,
    });
    const [first, second] = queue.items as [LabelTask, LabelTask];
    const annsAnswer = first.annotations.find((a) => a.annotator === 'ann');
    const accepted = await t.client.call('labeling.review', {
      ...project,
      task: first.id,
      reviewer: 'rita',
      accept: annsAnswer?.id,
    });
    expect(accepted.status).toBe('reviewed');
    expect(accepted.review).toMatchObject({ reviewer: 'rita', decision: 'accepted', value: annsAnswer?.value });
    const fixed = await t.client.call('labeling.review', {
      ...project,
      task: second.id,
      reviewer: 'rita',
      value: { labels: ['weather'] },
    });
    expect(fixed.review).toMatchObject({ decision: 'fixed', value: { labels: ['weather'] } });
    const locked = await rejects(
      t.client.call('labeling.annotate', {
        ...project,
        task: first.id,
        annotator: 'bob',
        value: { labels: ['music'] },
      }),
    );
    expect(locked.message).toMatch(/is reviewed/);
    const both = await rejects(
      t.client.call('labeling.review', {
        ...project,
        task: first.id,
        accept: annsAnswer?.id,
        value: { labels: ['music'] },
      }),
    );
    expect(both.httpStatus).toBe(400);
    expect((await t.client.call('labeling.get', project)).stats).toMatchObject({ reviewed: 2, annotated: 5 });
  });

  it('exports reviewed labels as a new dataset version in CSV and JSON lines', async () => {
    const csv = await t.client.call('labeling.export', { ...project, format: 'csv' });
    expect(csv).toMatchObject({ dataset: 'topic-check-labels', created: true, exported: 2, files: ['labels.csv'] });
    const lines = (await text('topic-check-labels', 'latest', 'labels.csv')).trimEnd().split('\n');
    expect(lines[0]).toBe('text,topic,split,label');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/,weather$/);

    // include=final adds the tasks whose two answers agree (consensus); the disagreeing ones stay out.
    const jsonl = await t.client.call('labeling.export', { ...project, format: 'jsonl', include: 'final' });
    expect(jsonl.exported).toBe(7);
    expect(jsonl.version.number).toBe(2);
    const rows = (await text('topic-check-labels', 'latest', 'labels.jsonl'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows[0]).toEqual({
      text: 'Boil the pasta in salted water for about ten minutes.',
      topic: 'cooking',
      split: 'train',
      label: 'cooking',
    });

    // The same export again makes no new version.
    const again = await t.client.call('labeling.export', { ...project, format: 'jsonl', include: 'final' });
    expect(again.created).toBe(false);
    const coco = await rejects(t.client.call('labeling.export', { ...project, format: 'coco' }));
    expect(coco.message).toMatch(/COCO holds bounding boxes/);
  });

  it('edits the label schema: renames rewrite answers; removing a used label is refused', async () => {
    const renamed = await t.client.call('labeling.update', {
      ...project,
      renames: { weather: 'climate' },
      instructions: 'Pick the topic of the sentence.',
    });
    expect(renamed.labels.map((l) => l.name)).toContain('climate');
    expect(renamed.instructions).toBe('Pick the topic of the sentence.');
    const reviewed = await t.client.call('labeling.tasks', { ...project, status: 'reviewed' });
    expect(reviewed.items.map((i) => i.review?.value.labels?.[0])).toContain('climate');

    const removal = await rejects(
      t.client.call('labeling.update', { ...project, labels: [{ name: 'music' }, { name: 'finance' }] }),
    );
    expect(removal.httpStatus).toBe(409);
    expect(removal.message).toMatch(/'cooking'.* used by answers/);
    const keys = await rejects(
      t.client.call('labeling.update', {
        ...project,
        labels: [
          ...renamed.labels.map((l) => ({ name: l.name })),
          { name: 'x', hotkey: '1' },
          { name: 'y', hotkey: '1' },
        ],
      }),
    );
    expect(keys.message).toMatch(/key '1' is given twice/);
    const added = await t.client.call('labeling.update', {
      ...project,
      labels: [...renamed.labels.map((l) => ({ name: l.name, color: l.color })), { name: 'travel', hotkey: 't' }],
    });
    expect(added.labels.at(-1)).toMatchObject({ name: 'travel', hotkey: 't' });
  });
});

describe('pre-annotations', () => {
  it('attaches a model’s suggestions by item, checked like answers', async () => {
    const project = { dataset: 'topics', project: 'suggested' };
    await t.client.call('labeling.create', {
      dataset: 'topics',
      name: 'suggested',
      kind: 'multilabel',
      labels: [{ name: 'food' }, { name: 'science' }],
      source: { type: 'table', path: 'topics.jsonl', textColumn: 'text' },
    });
    const result = await t.client.call('labeling.predictions', {
      ...project,
      model: 'keyword-rules',
      items: [{ item: 'topics.jsonl:1', value: { labels: ['food'] }, score: 0.9 }],
    });
    expect(result.updated).toBe(1);
    const next = await t.client.call('labeling.next', { ...project, annotator: 'ann' });
    expect(next.task?.prediction).toEqual({ value: { labels: ['food'] }, model: 'keyword-rules', score: 0.9 });
    const bad = await rejects(
      t.client.call('labeling.predictions', {
        ...project,
        model: 'm',
        items: [{ item: 'topics.jsonl:2', value: { labels: ['sport'] } }],
      }),
    );
    expect(bad.message).toMatch(/items\.0\.value\.labels\.0: 'sport' is not a label/);
    const unknown = await rejects(
      t.client.call('labeling.predictions', {
        ...project,
        model: 'm',
        items: [{ item: 'nope:1', value: { labels: [] } }],
      }),
    );
    expect(unknown.message).toMatch(/no task is 'nope:1'/);
  });
});

describe('bounding boxes on images', () => {
  const project = { dataset: 'shapes', project: 'boxes' };
  let tasks: LabelTask[];

  beforeAll(async () => {
    await importFolder(
      'shapes',
      folderWith('shapes', {
        'img/a.png': pngImage(40, 20),
        'img/b.png': pngImage(10, 10),
        'img/c.png': pngImage(16, 16),
        'readme.txt': 'three images',
        'page.html': '<script>alert(1)</script>',
      }),
    );
    await t.client.call('labeling.create', {
      dataset: 'shapes',
      name: 'boxes',
      kind: 'boxes',
      labels: [{ name: 'circle' }, { name: 'square' }],
      source: { type: 'images', prefix: 'img/' },
    });
    tasks = (await t.client.call('labeling.tasks', project)).items;
  });

  it('makes a task per image with its size, and serves the image bytes', async () => {
    expect(tasks.map((x) => [x.item, x.data.image?.width, x.data.image?.height])).toEqual([
      ['img/a.png', 40, 20],
      ['img/b.png', 10, 10],
      ['img/c.png', 16, 16],
    ]);
    const image = await t.client.file('datasets.content', { dataset: 'shapes', version: 'latest', path: 'img/a.png' });
    expect(image.contentType).toBe('image/png');
    expect(Buffer.from(image.bytes).equals(pngImage(40, 20))).toBe(true);
    const readme = await t.client.file('datasets.content', {
      dataset: 'shapes',
      version: 'latest',
      path: 'readme.txt',
    });
    expect(readme.contentType).toBe('text/plain; charset=utf-8');
    // A page in a dataset is sent as bytes in a sandbox: it cannot run as the app's origin.
    const page = await t.request('/api/v1/datasets/shapes/versions/latest/content?path=page.html');
    expect(page.headers.get('content-type')).toBe('application/octet-stream');
    expect(page.headers.get('content-security-policy')).toMatch(/^sandbox/);
    const missing = await rejects(
      t.client.file('datasets.content', { dataset: 'shapes', version: '1', path: 'img/z.png' }),
    );
    expect(missing.httpStatus).toBe(404);
  });

  it('rejects a box outside the image and a project that boxes a table', async () => {
    const outside = await rejects(
      t.client.call('labeling.annotate', {
        ...project,
        task: tasks[1]?.id as string,
        value: { boxes: [{ x: 5, y: 5, width: 8, height: 2, label: 'square' }] },
      }),
    );
    expect(outside.message).toMatch(/boxes\.0: the box reaches outside the 10×10 image/);
    const table = await rejects(
      t.client.call('labeling.create', {
        dataset: 'topics',
        name: 'boxes-on-text',
        kind: 'boxes',
        labels: [{ name: 'x' }],
        source: { type: 'table', path: 'topics.jsonl' },
      }),
    );
    expect(table.message).toMatch(/a boxes project labels images, not table/);
  });

  it('exports COCO and YOLO versions that carry the images', async () => {
    const [a, b, c] = tasks as [LabelTask, LabelTask, LabelTask];
    await t.client.call('labeling.annotate', {
      ...project,
      task: a.id,
      value: {
        boxes: [
          { x: 0, y: 0, width: 20, height: 10, label: 'circle' },
          { x: 20, y: 10, width: 20, height: 10, label: 'square' },
        ],
      },
    });
    await t.client.call('labeling.annotate', { ...project, task: b.id, value: { boxes: [] } });
    await t.client.call('labeling.annotate', {
      ...project,
      task: c.id,
      value: { boxes: [{ x: 4, y: 4, width: 8, height: 8, label: 'square' }] },
    });

    const coco = await t.client.call('labeling.export', { ...project, format: 'coco', target: 'shapes-coco' });
    expect(coco.exported).toBe(3);
    const files = await t.client.call('datasets.files', { dataset: 'shapes-coco', version: 'latest' });
    expect(files.items.map((f) => f.path)).toEqual([
      'annotations.json',
      'images/img/a.png',
      'images/img/b.png',
      'images/img/c.png',
    ]);
    const doc = JSON.parse(await text('shapes-coco', 'latest', 'annotations.json')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; category_id: number; bbox: number[]; area: number }[];
      categories: { id: number; name: string }[];
    };
    expect(doc.categories).toEqual([
      { id: 1, name: 'circle', supercategory: '' },
      { id: 2, name: 'square', supercategory: '' },
    ]);
    expect(doc.images[0]).toEqual({ id: 1, file_name: 'img/a.png', width: 40, height: 20 });
    expect(doc.annotations.map((x) => [x.image_id, x.category_id, x.bbox, x.area])).toEqual([
      [1, 1, [0, 0, 20, 10], 200],
      [1, 2, [20, 10, 20, 10], 200],
      [3, 2, [4, 4, 8, 8], 64],
    ]);

    const yolo = await t.client.call('labeling.export', { ...project, format: 'yolo', target: 'shapes-yolo' });
    expect(yolo.files).toEqual([
      'labels/img/a.txt',
      'labels/img/b.txt',
      'labels/img/c.txt',
      'data.yaml',
      'classes.txt',
    ]);
    expect(await text('shapes-yolo', 'latest', 'labels/img/a.txt')).toBe(
      '0 0.250000 0.250000 0.500000 0.500000\n1 0.750000 0.750000 0.500000 0.500000\n',
    );
    expect(await text('shapes-yolo', 'latest', 'labels/img/b.txt')).toBe('');
    expect(await text('shapes-yolo', 'latest', 'data.yaml')).toMatch(/names:\n {2}0: "circle"\n {2}1: "square"\n/);
    // The images are the same blobs as the source's: stored once.
    const source = await t.client.call('datasets.files', { dataset: 'shapes', version: 'latest', prefix: 'img/' });
    const exported = await t.client.call('datasets.files', {
      dataset: 'shapes-yolo',
      version: 'latest',
      prefix: 'images/',
    });
    expect(exported.items.map((f) => f.sha256)).toEqual(source.items.map((f) => f.sha256));
  });
});

describe('NER spans over text files', () => {
  const project = { dataset: 'notes', project: 'entities' };

  it('labels spans, measures span agreement and exports JSON lines', async () => {
    await importFolder(
      'notes',
      folderWith('notes', {
        'docs/1.txt': 'Ada Lovelace worked with Charles Babbage in London.',
        'docs/2.txt': 'Grace Hopper joined the Navy.',
        'docs/bad.bin': Buffer.from([0xff, 0xfe]),
      }),
    );
    await t.client.call('labeling.create', {
      dataset: 'notes',
      name: 'entities',
      kind: 'ner',
      labels: [{ name: 'PER' }, { name: 'LOC' }, { name: 'ORG' }],
      source: { type: 'texts', prefix: 'docs/' },
      overlap: 2,
    });
    const [doc1] = (await t.client.call('labeling.tasks', project)).items as [LabelTask];
    expect(doc1.data.text).toBe('Ada Lovelace worked with Charles Babbage in London.');
    const ada = { start: 0, end: 12, label: 'PER' };
    const charles = { start: 25, end: 40, label: 'PER' };
    const london = { start: 44, end: 50, label: 'LOC' };
    await t.client.call('labeling.annotate', {
      ...project,
      task: doc1.id,
      annotator: 'ann',
      value: { spans: [london, ada, charles] },
    });
    await t.client.call('labeling.annotate', {
      ...project,
      task: doc1.id,
      annotator: 'bob',
      value: { spans: [ada, london] },
    });
    const agreement = await t.client.call('labeling.agreement', project);
    expect(agreement.overall).toEqual({ metric: 'span_f1', value: 0.8 });
    expect(agreement.labels).toEqual([
      { label: 'PER', value: 2 / 3 },
      { label: 'LOC', value: 1 },
      { label: 'ORG', value: null },
    ]);
    const beyond = await rejects(
      t.client.call('labeling.annotate', {
        ...project,
        task: doc1.id,
        annotator: 'cy',
        value: { spans: [{ start: 44, end: 60, label: 'LOC' }] },
      }),
    );
    expect(beyond.message).toMatch(/\[44, 60\) is not a span of the 51-character text/);

    const out = await t.client.call('labeling.export', { ...project, format: 'jsonl' });
    expect(out.exported).toBe(1);
    const line = JSON.parse((await text('entities-labels', 'latest', 'labels.jsonl')).trim()) as unknown;
    // Spans both annotators marked are the consensus; Charles Babbage (one of two) is not.
    expect(line).toEqual({ path: 'docs/1.txt', text: doc1.data.text, spans: [ada, london] });
    const files = await t.client.call('datasets.files', { dataset: 'entities-labels', version: 'latest' });
    expect(files.items.map((f) => f.path)).toEqual(['docs/1.txt', 'labels.jsonl']);
  });

  it('refuses text files that are not UTF-8 and NER without a text column', async () => {
    await importFolder('bad-notes', folderWith('bad-notes', { 'x.txt': Buffer.from([0x41, 0xff, 0x42]) }));
    const notUtf8 = await rejects(
      t.client.call('labeling.create', {
        dataset: 'bad-notes',
        name: 'x',
        kind: 'ner',
        labels: [{ name: 'PER' }],
        source: { type: 'texts' },
      }),
    );
    expect(notUtf8.message).toMatch(/'x.txt' is not valid UTF-8 text/);
    const noColumn = await rejects(
      t.client.call('labeling.create', {
        dataset: 'topics',
        name: 'ner-no-column',
        kind: 'ner',
        labels: [{ name: 'PER' }],
        source: { type: 'table', path: 'topics.jsonl' },
      }),
    );
    expect(noColumn.message).toMatch(/needs the column that holds the text \(one of: text, topic, split\)/);
    // Failed creations leave no project behind.
    expect((await t.client.call('labeling.list', { dataset: 'topics' })).items.map((p) => p.name).sort()).toEqual([
      'suggested',
      'topic-check',
    ]);
    const dup = await rejects(
      t.client.call('labeling.create', {
        dataset: 'topics',
        name: 'suggested',
        kind: 'classification',
        labels: [{ name: 'a' }],
        source: { type: 'table', path: 'topics.jsonl' },
      }),
    );
    expect(dup.httpStatus).toBe(409);
  });
});
