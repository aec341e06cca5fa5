import { describe, expect, test } from 'vitest';
import type { LabelTask } from '#shared/contracts/labeling';
import { AppShell } from './pages/app';
import { importFiles, LabelingPage, waitForProfile } from './pages/labeling';
import { useApp } from './support/app';

const REVIEWS = [
  'text,source',
  'Loved every minute of it,web',
  'The battery died after an hour,store',
  'It arrived on a Tuesday,web',
  'Fine for the price but the strap feels cheap,store',
  'Best purchase this year,web',
].join('\n');

describe('labeling: classification', () => {
  const app = useApp();

  test('a project made with the schema editor is labeled by two annotators with hotkeys (skip, undo), reviewed, measured and exported', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const labeling = new LabelingPage(page);
    await importFiles(server, 'reviews', { 'reviews.csv': `${REVIEWS}\n` });
    await waitForProfile(server, 'reviews');
    // A project name already taken: the dialog shows the server's 409.
    await server.api.call('labeling.create', {
      dataset: 'reviews',
      name: 'taken',
      kind: 'classification',
      labels: [{ name: 'x' }],
      source: { type: 'table', path: 'reviews.csv', textColumn: 'text' },
    });

    await shell.openWithToken('/datasets/reviews?tab=labeling', server.token);
    await labeling.project('taken').waitFor();
    await labeling.screenshots('tab');
    await page.getByRole('button', { name: 'New project' }).click();
    const dialog = labeling.newProjectDialog;
    await dialog.getByLabel('Name', { exact: true }).fill('taken');
    // The table and its text column are picked from the version's files and profile (both arrive as queries: a
    // loaded machine answers after the dialog has opened).
    await expect.poll(() => dialog.getByLabel('Table').inputValue()).toBe('reviews.csv');
    await expect.poll(() => dialog.getByLabel('Text column').inputValue()).toBe('text');
    await labeling.addLabels(['positive', 'negative', 'neutral']);
    // Rename the third label, give it a letter and a colour; describe the first.
    await dialog.getByLabel('Name of label 3').fill('mixed');
    await dialog.getByLabel('Hotkey of mixed').fill('m');
    await dialog.getByLabel('Colour of mixed').fill('#a855f7');
    await dialog.getByLabel('Description of positive').fill('The customer is happy');
    // A duplicate name is caught before sending, then removed again.
    await labeling.addLabels(['spare']);
    await dialog.getByLabel('Name of label 4').fill('positive');
    await dialog.getByText('“positive” is given twice').first().waitFor();
    expect(await dialog.getByRole('button', { name: 'Create project' }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Remove positive' }).last().click();
    await dialog.getByLabel('Answers per task').fill('2');
    await labeling.screenshots('new-project');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    const refused = dialog.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/already has a labeling project 'taken'/);

    await dialog.getByLabel('Name', { exact: true }).fill('sentiment');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await page.locator('[data-testid="label-project-page"][data-name="sentiment"]').waitFor();
    const project = await server.api.call('labeling.get', { dataset: 'reviews', project: 'sentiment' });
    expect(project.labels).toEqual([
      { name: 'positive', color: expect.stringMatching(/^#/), hotkey: '1', description: 'The customer is happy' },
      { name: 'negative', color: expect.stringMatching(/^#/), hotkey: '2', description: '' },
      { name: 'mixed', color: '#a855f7', hotkey: 'm', description: '' },
    ]);
    expect(project).toMatchObject({ overlap: 2, source: { type: 'table', path: 'reviews.csv', textColumn: 'text' } });

    // ann says who she is, then labels with the keyboard: 1, 2, skip, m (then undo it and pick 1), 1.
    await page.getByTestId('start').waitFor();
    await labeling.annotateAs('ann');
    await labeling.waitForTask(0);
    expect(await labeling.task.getByTestId('task-text').textContent()).toBe('Loved every minute of it');
    expect(await page.getByTestId('remaining').textContent()).toBe('5');
    await labeling.screenshots('classification');
    await page.keyboard.press('1');
    await labeling.waitForTask(1);
    await page.keyboard.press('2');
    await labeling.waitForTask(2);
    await page.keyboard.press('s');
    await labeling.waitForTask(3);
    await page.keyboard.press('m');
    await labeling.waitForTask(4);
    const round = await labeling.round();
    await page.keyboard.press('Control+z');
    await labeling.waitForRoundAfter(round);
    expect(await labeling.task.getAttribute('data-position')).toBe('3');
    // The task comes back with the answer given, to change.
    expect(await labeling.labelButton('mixed').getAttribute('aria-pressed')).toBe('true');
    await page.getByText('your earlier answer').waitFor();
    await page.keyboard.press('1');
    await labeling.waitForTask(4);
    await page.keyboard.press('1');
    await labeling.done.waitFor();

    const answersOf = async (annotator: string) => {
      const { items } = await server.api.call('labeling.tasks', { dataset: 'reviews', project: 'sentiment' });
      return items.map((t) => {
        const a = t.annotations.find((x) => x.annotator === annotator);
        return a ? (a.skipped ? 'skipped' : a.value?.labels?.[0]) : null;
      });
    };
    expect(await answersOf('ann')).toEqual(['positive', 'negative', 'skipped', 'positive', 'positive']);

    // bob answers the same tasks (two answers per task), disagreeing with ann on the second.
    // (bob answers whatever task comes, by its position, so the test does not depend on the queue's order.)
    await labeling.annotateAs('bob');
    const bobs = ['1', '1', '2', '1', 'click'];
    for (let i = 0; i < bobs.length; i++) {
      await page.locator('[data-testid="task"][data-busy="false"]').waitFor();
      const position = Number(await labeling.task.getAttribute('data-position'));
      // A label button works as well as its key.
      if (bobs[position] === 'click') await labeling.labelButton('positive').click();
      else await page.keyboard.press(bobs[position] as string);
      await page.locator(`[data-testid="task"][data-position="${position}"]`).waitFor({ state: 'detached' });
    }
    await labeling.done.waitFor();
    expect(await answersOf('bob')).toEqual(['positive', 'positive', 'negative', 'positive', 'positive']);
    // The name is remembered on this browser.
    await page.reload();
    expect(await page.getByLabel('Annotating as').inputValue()).toBe('bob');

    // Review: the disagreement comes first; accept ann's answer.
    await labeling.mode('Review');
    const first = page.getByTestId('review-task').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('The battery died after an hour');
    expect(await first.getByTestId('task-agreement').textContent()).toContain('0.00');
    expect(await first.getByTestId('answer').count()).toBe(2);
    await labeling.screenshots('review');
    await first.getByRole('button', { name: "Accept ann's answer" }).click();
    await page.getByRole('radio', { name: /^Reviewed \(1\)/ }).click();
    const reviewed = page.getByTestId('review-task').first();
    await reviewed.getByTestId('review-decision').waitFor();
    expect(await reviewed.getByTestId('review-decision').textContent()).toMatch(/^Accepted by /);
    const secondTask = (
      await server.api.call('labeling.tasks', { dataset: 'reviews', project: 'sentiment', status: 'reviewed' })
    ).items[0] as LabelTask;
    expect(secondTask.position).toBe(1);
    expect(secondTask.review).toMatchObject({ decision: 'accepted', value: { labels: ['negative'] } });

    // Agreement: Fleiss' kappa over the four tasks with two answers, the pair, the least agreed task.
    await labeling.mode('Agreement');
    await page.getByTestId('agreement-value').waitFor();
    const agreement = await server.api.call('labeling.agreement', { dataset: 'reviews', project: 'sentiment' });
    expect(await page.getByTestId('agreement-value').textContent()).toBe(agreement.overall.value?.toFixed(2));
    expect(await page.getByTestId('agreement-overall').textContent()).toContain("Fleiss' κ over 4 tasks");
    await page.getByRole('table', { name: 'Agreement per pair of annotators' }).getByText('ann · bob').waitFor();
    await labeling.screenshots('agreement');
    await page.getByRole('list', { name: 'Least agreed tasks' }).getByRole('link', { name: 'Task 2' }).click();
    await page.getByTestId('review-task').first().waitFor();
    expect(page.url()).toContain('mode=review');

    // Export CSV into a new dataset.
    await page.getByRole('button', { name: 'Export labels…' }).click();
    const exportDialog = labeling.exportDialog;
    expect(await exportDialog.getByLabel('Into dataset').inputValue()).toBe('sentiment-labels');
    await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
    const result = exportDialog.getByTestId('label-export-result');
    await result.waitFor();
    expect(await result.textContent()).toMatch(/Created v1 of sentiment-labels.*4 tasks exported/);
    const version = await server.api.call('datasets.version', { dataset: 'sentiment-labels', version: 'latest' });
    expect(version.number).toBe(1);
    const files = await server.api.call('datasets.files', { dataset: 'sentiment-labels', version: 'latest' });
    expect(files.items.map((f) => f.path)).toEqual(['labels.csv']);
    const { bytes } = await server.api.file('datasets.content', {
      dataset: 'sentiment-labels',
      version: 'latest',
      path: 'labels.csv',
    });
    const lines = Buffer.from(bytes).toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('text,source,label');
    expect(lines).toContain('The battery died after an hour,store,negative');
    await exportDialog.getByRole('link', { name: 'Open sentiment-labels' }).click();
    await page.locator('[data-testid="dataset-page"][data-name="sentiment-labels"]').waitFor();
  });
});
