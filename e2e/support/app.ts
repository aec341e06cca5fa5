import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { startServer, type ServerOptions, type TestServer } from './server';

export interface AppUnderTest {
  server: TestServer;
  context: BrowserContext;
  page: Page;
}

/**
 * One Chromium per test file; per test, a fresh server (own data dir and port) and a fresh browser context (own
 * localStorage and cookies). Uncaught errors in the page fail the test: a crash is never a pass.
 */
export function useApp(): {
  start(options?: { colorScheme?: 'light' | 'dark'; serverEnv?: ServerOptions['env'] }): Promise<AppUnderTest>;
} {
  let browser: Browser | undefined;
  let current: { server?: TestServer; context?: BrowserContext; errors: string[] } | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async (ctx) => {
    const run = current;
    current = undefined;
    if (!run) return;
    await run.context?.close();
    if (ctx.task.result?.state === 'fail' && run.server) {
      console.error(`--- aidos serve logs (${ctx.task.name}) ---\n${await run.server.logs()}`);
    }
    await run.server?.stop();
    if (run.errors.length > 0) throw new Error(`the page threw:\n${run.errors.join('\n')}`);
  });

  return {
    async start(options = {}) {
      if (!browser) throw new Error('the browser did not start');
      current = { errors: [] };
      const server = await startServer({ env: options.serverEnv });
      current.server = server;
      const context = await browser.newContext({
        viewport: { width: 1360, height: 900 },
        colorScheme: options.colorScheme ?? 'light',
      });
      current.context = context;
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const errors = current.errors;
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      return { server, context, page };
    },
  };
}
