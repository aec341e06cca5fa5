import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { importFiles, LabelingPage } from './pages/labeling';
import { pngWithShapes } from './support/png';
import { useApp } from './support/app';

const NOTE = 'Ada Lovelace worked with Charles Babbage in London.';

/** Where character `offset` of the NER text is on screen: its left and right edges and its middle. */
async function charAt(page: Page, offset: number): Promise<{ left: number; right: number; y: number }> {
  return page.getByTestId('span-text').evaluate((root, at) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let left = at;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const length = node.textContent?.length ?? 0;
      if (left < length) {
        const range = document.createRange();
        range.setStart(node, left);
        range.setEnd(node, left + 1);
        const r = range.getBoundingClientRect();
        return { left: r.left, right: r.right, y: r.top + r.height / 2 };
      }
      left -= length;
    }
    throw new Error(`no character ${at}`);
  }, offset);
}

/** Selects characters [start, end) of the NER text with a mouse drag, as a person would. */
async function dragSelect(page: Page, start: number, end: number): Promise<void> {
  const from = await charAt(page, start);
  const to = await charAt(page, end - 1);
  await page.mouse.move(from.left + 1, from.y);
  await page.mouse.down();
  await page.mouse.move(to.right - 1, to.y, { steps: 5 });
  await page.mouse.up();
}

describe('labeling: boxes and entities', () => {
  const app = useApp();

  test('boxes drawn by dragging over a scaled image are saved in image pixels, clamped to the image; a selected box is deleted with Delete', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const labeling = new LabelingPage(page);
    await importFiles(server, 'street', {
      'frames/1.png': pngWithShapes(320, 200, [
        { x: 40, y: 30, width: 160, height: 120, color: [37, 99, 235] },
        { x: 230, y: 90, width: 60, height: 80, color: [220, 38, 38] },
      ]),
      'frames/2.png': pngWithShapes(64, 48, [{ x: 8, y: 8, width: 20, height: 20, color: [22, 163, 74] }]),
    });
    await server.api.call('labeling.create', {
      dataset: 'street',
      name: 'vehicles',
      kind: 'boxes',
      labels: [{ name: 'car' }, { name: 'person' }],
      source: { type: 'images', prefix: 'frames/' },
      instructions: 'Box every car and every person; draw tight boxes.',
    });

    await shell.openWithToken('/datasets/street/label/vehicles', server.token);
    await labeling.annotateAs('ann');
    await labeling.waitForTask(0);
    const canvas = page.getByTestId('box-canvas');
    await canvas
      .locator('img')
      .evaluate((img: HTMLImageElement) =>
        img.complete ? undefined : new Promise((resolve) => img.addEventListener('load', resolve)),
      );
    const rect = await canvas.boundingBox();
    if (!rect) throw new Error('the canvas is not shown');
    // The 320×200 image is drawn larger than its pixels.
    const scale = rect.width / 320;
    expect(scale).toBeGreaterThan(1.5);
    const at = (x: number, y: number) => ({ x: rect.x + x * scale, y: rect.y + y * scale });
    const drag = async (from: { x: number; y: number }, to: { x: number; y: number }) => {
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      await page.mouse.move(to.x, to.y, { steps: 8 });
      await page.mouse.up();
    };

    // A car (the first label is the current one), then "2" picks person and a drag past the image's corner.
    await drag(at(40, 30), at(200, 150));
    await page.keyboard.press('2');
    await drag(at(230, 90), { x: rect.x + rect.width + 40, y: rect.y + rect.height + 40 });
    // A stray third box, selected by clicking it, then deleted with the keyboard.
    await page.keyboard.press('1');
    await drag(at(10, 160), at(30, 190));
    expect(await canvas.getByTestId('box').count()).toBe(3);
    await labeling.screenshots('boxes');
    await page.mouse.click(at(20, 175).x, at(20, 175).y);
    await page.keyboard.press('Delete');
    expect(await canvas.getByTestId('box').count()).toBe(2);
    await page.keyboard.press('Enter');
    await labeling.waitForTask(1);

    const task = (await server.api.call('labeling.tasks', { dataset: 'street', project: 'vehicles' })).items[0];
    const boxes = task?.annotations[0]?.value?.boxes ?? [];
    expect(boxes).toHaveLength(2);
    const [car, person] = boxes as [(typeof boxes)[number], (typeof boxes)[number]];
    expect(car.label).toBe('car');
    // Whole image pixels, within a pixel of where the mouse went (the drawn image is scaled).
    for (const [got, want] of [
      [car.x, 40],
      [car.y, 30],
      [car.width, 160],
      [car.height, 120],
    ] as const) {
      expect(Number.isInteger(got)).toBe(true);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1);
    }
    // Dragged past the corner: clamped to the 320×200 image.
    expect(person.label).toBe('person');
    expect(person.x + person.width).toBe(320);
    expect(person.y + person.height).toBe(200);
    expect(Math.abs(person.x - 230)).toBeLessThanOrEqual(1);
  });

  test('an entity is marked by selecting text with the mouse and pressing a label key; clicking an entity removes it', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const labeling = new LabelingPage(page);
    await importFiles(server, 'notes', { 'docs/1.txt': NOTE, 'docs/2.txt': 'Grace Hopper joined the Navy.' });
    await server.api.call('labeling.create', {
      dataset: 'notes',
      name: 'entities',
      kind: 'ner',
      labels: [
        { name: 'PER', description: 'a person' },
        { name: 'LOC', description: 'a place' },
      ],
      source: { type: 'texts', prefix: 'docs/' },
    });
    // A model's suggestion for the second note starts the annotator off there.
    await server.api.call('labeling.predictions', {
      dataset: 'notes',
      project: 'entities',
      model: 'spacy-small',
      items: [{ item: 'docs/2.txt', value: { spans: [{ start: 0, end: 12, label: 'PER' }] }, score: 0.8 }],
    });

    await shell.openWithToken('/datasets/notes/label/entities', server.token);
    await labeling.annotateAs('ann');
    await labeling.waitForTask(0);
    await dragSelect(page, 0, 12);
    await page.keyboard.press('1');
    await page.getByTestId('span-text').locator('mark[data-label="PER"]').waitFor();
    // A double-click selects a word; the label's button marks it too.
    const london = await charAt(page, 46);
    await page.mouse.dblclick((london.left + london.right) / 2, london.y);
    await labeling.task.getByRole('button', { name: /^LOC/ }).click();
    await page.getByTestId('span-text').locator('mark[data-label="LOC"]').waitFor();
    // One more, then removed by clicking it.
    await dragSelect(page, 25, 32);
    await page.keyboard.press('1');
    const charles = page.getByTestId('span-text').locator('mark[data-start="25"]');
    await charles.waitFor();
    await labeling.screenshots('ner');
    await charles.click();
    await charles.waitFor({ state: 'detached' });
    await page.keyboard.press('Enter');
    await labeling.waitForTask(1);
    // The suggestion is shown, labelled as the model's.
    expect(await page.getByTestId('suggestion').textContent()).toContain('spacy-small');
    expect(await page.getByTestId('span-text').locator('mark').count()).toBe(1);

    const task = (await server.api.call('labeling.tasks', { dataset: 'notes', project: 'entities' })).items[0];
    expect(task?.annotations[0]?.value?.spans).toEqual([
      { start: 0, end: 12, label: 'PER' },
      { start: 44, end: 50, label: 'LOC' },
    ]);
    expect(NOTE.slice(44, 50)).toBe('London');
  });
});
