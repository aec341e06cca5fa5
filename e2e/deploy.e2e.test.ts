import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { DeploymentsPage } from './pages/deployments';
import { useApp } from './support/app';
import { registerModelFile } from './support/models';
import { shot } from './support/shots';

// The tiny llama memorised a few sentences: at temperature 0 it completes them exactly (test-fixtures/README.md).
const LLAMA = path.resolve(import.meta.dirname, '../test-fixtures/models/tiny-llama-memorizer-q8.gguf');

/** Notes whether the answer was shown while it streamed (the bubble with a cursor), however short the stream. */
async function watchStreaming(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __streaming: boolean };
    w.__streaming = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="chat-message"][data-streaming]')) w.__streaming = true;
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

describe('deployments', () => {
  const app = useApp();

  for (const theme of ['light', 'dark'] as const) {
    test(`deploys a registered GGUF model, chats with it as it streams, and stops it (${theme})`, async () => {
      const { server, page } = await app.start({ colorScheme: theme });
      const shell = new AppShell(page, server.url);
      const deployments = new DeploymentsPage(page);
      await registerModelFile(server, 'tiny-llama', LLAMA, { aliases: ['champion'] });

      await shell.openWithToken('/', server.token);
      await shell.waitForLiveEvents();
      await deployments.navLink.click();
      await deployments.list.waitFor();

      // Deploy @champion as "tiny" with one thread (these machines have two cores).
      const dialog = await deployments.openDeployDialog();
      await dialog.chooseModel('tiny-llama', '@champion');
      await dialog.field('Deployment name').fill('tiny');
      await dialog.field('CPU threads').fill('1');
      await dialog.field('Parallel requests').fill('100');
      await dialog.submit();
      // The server's refusal is shown under the field it names; the form keeps what was typed.
      await dialog.fieldError('dp-parallel').waitFor();
      expect(await dialog.fieldError('dp-parallel').textContent()).toMatch(/64/);
      await shot(page, `deploy-dialog-${theme}`);
      await dialog.field('Parallel requests').fill('2');
      // A corrected field no longer shows its stale error.
      expect(await dialog.fieldError('dp-parallel').count()).toBe(0);
      await dialog.submit();
      await deployments.detail('tiny', 'ready').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('deployment-model').first().getAttribute('href')).toBe('/models/tiny-llama?v=1');
      await deployments.requestCount.filter({ hasText: '0 requests' }).waitFor();

      // The list shows it ready, with its model version and capacity.
      await page.getByRole('link', { name: '← Deployments' }).click();
      const row = deployments.row('tiny');
      await row.and(page.locator('[data-state="ready"]')).waitFor();
      expect(await row.textContent()).toContain('tiny-llama v1 @champion');
      expect(await row.textContent()).toContain('1 replica × 2 parallel');
      await shot(page, `deployments-list-${theme}`);

      // The playground: the memorised sentence streams in at temperature 0.
      await row.getByRole('link', { name: 'tiny', exact: true }).click();
      await deployments.tab('Playground');
      const chat = deployments.chat;
      await chat.root.waitFor();
      await chat.setTemperature(0);
      await watchStreaming(page);
      const response = page.waitForResponse((r) => r.url().endsWith('/v1/chat/completions'));
      await chat.send('The quick brown');
      // The renderer asked for a stream and got server-sent events (a tiny model's few deltas may come in one
      // network chunk, so the pieces are not counted on screen; Chromium keeps no body of a streamed fetch).
      const sse = await response;
      expect(sse.request().postDataJSON()).toMatchObject({ model: 'tiny', temperature: 0, stream: true });
      expect(sse.headers()['content-type']).toMatch(/^text\/event-stream/);
      await chat.answers.first().waitFor({ timeout: 30_000 });
      expect(await chat.answers.first().textContent()).toBe(' fox jumps over the lazy dog.');
      expect(await page.evaluate(() => (window as unknown as { __streaming: boolean }).__streaming)).toBe(true);
      await page.getByTestId('chat-result').first().filter({ hasText: 'stop' }).waitFor();
      await shot(page, `deployment-playground-${theme}`);
      // A message the server refuses (temperature above 2) goes back to the box to change or send again; it is
      // not left in the conversation for the next message to send along.
      await chat.setTemperature(5);
      await chat.send('Once upon a time');
      await chat.root.getByText('The model did not answer').waitFor();
      expect(await chat.root.getByLabel('Message').inputValue()).toBe('Once upon a time');
      expect(await chat.root.locator('[data-testid="chat-message"][data-role="user"]').count()).toBe(1);
      await chat.setTemperature(0);

      // Both requests are counted (the stats are polled) and logged, the refused one too: newest first.
      await deployments.requestCount.filter({ hasText: '2 requests' }).waitFor();
      await deployments.tab('Requests');
      const refused = deployments.requestRows().first();
      await refused.waitFor();
      expect(await refused.getAttribute('data-status')).toBe('error');
      const logged = deployments.requestRows().nth(1);
      expect(await logged.getAttribute('data-status')).toBe('ok');
      expect(await logged.getByTestId('request-input').textContent()).toBe('user: The quick brown');
      expect(await logged.getByTestId('request-output').textContent()).toBe(' fox jumps over the lazy dog.');
      await logged.click();
      // Opened, it shows the id a ground-truth label refers to: the one the client was told.
      const [newest] = (await server.api.call('deployments.logs', { deployment: 'tiny', limit: 2 })).items.slice(1);
      expect(await page.getByTestId('request-id').textContent()).toBe(newest?.id);
      await shot(page, `deployment-requests-${theme}`);

      // The overview: figures, live charts, and the events that led here.
      await deployments.tab('Overview');
      expect(await page.getByTestId('stat-requests').textContent()).toBe('2');
      await page.locator('[data-testid="deployment-event"][data-state="ready"]').first().waitFor();
      await page.locator('[data-testid="deployment-chart"] [data-testid="plot"]').first().waitFor();
      await shot(page, `deployment-detail-${theme}`);

      // Ready-to-copy client code for its endpoint.
      await deployments.tab('Code');
      const snippet = page.getByTestId('snippet');
      expect(await snippet.textContent()).toContain(`curl ${server.url}/v1/chat/completions`);
      await page.getByRole('tab', { name: 'Python (openai)' }).click();
      expect(await snippet.textContent()).toContain(`OpenAI(base_url="${server.url}/v1"`);
      expect(await snippet.textContent()).toContain('model="tiny"');

      // Stopping it: the page follows the live event; the list too.
      await deployments.stop();
      await deployments.detail('tiny', 'stopped').waitFor();
      await page.getByRole('link', { name: '← Deployments' }).click();
      await deployments.row('tiny').and(page.locator('[data-state="stopped"]')).waitFor();
      expect((await server.api.call('deployments.get', { deployment: 'tiny' })).state).toBe('stopped');
    });
  }
});
