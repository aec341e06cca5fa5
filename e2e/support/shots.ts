import path from 'node:path';
import type { Page } from 'playwright-core';

/**
 * A screenshot for looking at the UI, only when AIDOS_E2E_SHOTS names a folder (they are never committed):
 * `<folder>/<name>.png`. The page scrolls inside <main>, so a full-page shot would stop at the window; the
 * window grows to the content for the shot instead.
 */
export async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.AIDOS_E2E_SHOTS;
  if (!dir) return;
  await page.waitForTimeout(400);
  const height = await page.locator('main').evaluate((el) => el.scrollHeight);
  const size = page.viewportSize() ?? { width: 1360, height: 900 };
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
  await page.setViewportSize(size);
}
