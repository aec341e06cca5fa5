import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { shot } from './support/shots';

// The tiny llama memorised a few sentences: at temperature 0 it completes them exactly (test-fixtures/README.md).
const LLAMA = path.resolve(import.meta.dirname, '../test-fixtures/models/tiny-llama-memorizer-q8.gguf');

describe('LLM evals page', () => {
  const app = useApp();

  test('writes a suite, refuses an unknown variable, runs it on a real model and shows pass/fail cells with the diff', async () => {
    const { server, page } = await app.start();
    await server.api.call('deployments.create', { file: LLAMA, name: 'tiny', threads: 1 });
    const shell = new AppShell(page, server.url);
    await shell.openWithToken('/', server.token);
    await shell.waitForLiveEvents();
    await page.getByRole('link', { name: 'LLM evals' }).click();
    await page.getByText('No suites yet').waitFor();
    await page.getByRole('button', { name: 'New suite' }).click();

    const editor = page.getByRole('form', { name: 'Suite editor' });
    await editor.getByLabel('Name', { exact: true }).fill('memoriser');
    await editor.getByLabel('User message').fill('{{start}}');
    await page.getByRole('button', { name: 'Create suite' }).click();
    // The case still defines {{question}}, not {{start}}: the server names the field.
    await editor.getByText('body.prompts.0.user: unknown variable {{start}}').waitFor();

    await editor.getByLabel('Variables').fill('{ "start": "The quick brown" }');
    await editor.getByLabel('Expected output').fill(' fox jumps over the lazy dog.');
    await editor.getByRole('button', { name: 'Add' }).nth(1).click();
    await editor.getByLabel('Case name').nth(1).fill('node');
    await editor.getByLabel('Variables').nth(1).fill('{ "start": "Node.js runs" }');
    await editor.getByLabel('Expected output').nth(1).fill(' Python in the browser.');
    await page.getByRole('button', { name: 'Create suite' }).click();
    await page.getByTestId('llm-suite-page').getByRole('heading', { name: 'memoriser' }).waitFor();

    await shot(page, 'llm-eval-suite');
    await page.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Run on 1 model' }).click();
    await page.getByTestId('llm-run-page').waitFor();
    await page.getByTestId('llm-run-state').filter({ hasText: 'succeeded · 1/2 passed' }).waitFor({ timeout: 60_000 });
    const cells = page.getByTestId('llm-cell');
    expect(await cells.evaluateAll((els) => els.map((el) => el.getAttribute('data-verdict')))).toEqual([
      'pass',
      'fail',
    ]);
    expect(await page.getByTestId('llm-total').textContent()).toBe('defaulttiny110');

    await cells.nth(1).click();
    const detail = page.getByTestId('llm-cell-detail');
    expect(await detail.getByTestId('llm-cell-output').textContent()).toBe(' JavaScript on the server.');
    expect(await detail.locator('[data-testid="llm-cell-diff"] .line-through').allTextContents()).toEqual([
      'Python in',
      'browser.',
    ]);
    expect(await detail.getByTestId('llm-assertion').textContent()).toBe(
      'failequalsexpected " Python in the browser.", got " JavaScript on the server."',
    );
    await shot(page, 'llm-eval-run');
  });
});
