import type { Locator, Page } from 'playwright-core';

/** The signed-in frame: sidebar navigation, who is signed in, the theme class on <html>. */
export class AppShell {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  /** Opens a page of the UI the way `aidos serve`'s link does: with the token in the fragment. */
  async openWithToken(path: string, token: string): Promise<void> {
    await this.page.goto(`${new URL(path, this.baseUrl).toString()}#token=${encodeURIComponent(token)}`);
  }

  async open(path = '/'): Promise<void> {
    await this.page.goto(new URL(path, this.baseUrl).toString());
  }

  get sidebar(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' });
  }

  async navigate(to: 'Dashboard' | 'Background tasks' | 'Settings'): Promise<void> {
    await this.sidebar.getByRole('link', { name: to, exact: true }).click();
  }

  get signOutButton(): Locator {
    return this.page.getByRole('button', { name: 'Sign out' });
  }

  /** The live-event socket's state: 'open' once events stream. */
  async waitForLiveEvents(): Promise<void> {
    await this.page.locator('[data-testid="connection"][data-state="open"]').waitFor();
  }

  async htmlClasses(): Promise<string[]> {
    return ((await this.page.locator('html').getAttribute('class')) ?? '').split(/\s+/).filter(Boolean);
  }

  /** Marks this document, so a test can tell later that the page was never reloaded. */
  async markDocument(): Promise<void> {
    await this.page.evaluate('window.__aidosE2eMark = true');
  }

  async documentIsMarked(): Promise<boolean> {
    return (await this.page.evaluate('window.__aidosE2eMark === true')) === true;
  }
}
