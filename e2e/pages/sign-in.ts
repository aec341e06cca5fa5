import type { Locator, Page } from 'playwright-core';

export class SignInPage {
  constructor(readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Sign in' });
  }

  get tokenInput(): Locator {
    return this.page.getByLabel('Token or API key');
  }

  /** The error under the form when the server refuses the token. */
  get error(): Locator {
    return this.page.getByRole('alert');
  }

  /** Why the user was sent here (signed out, credentials no longer accepted). */
  get notice(): Locator {
    return this.page.getByRole('status');
  }

  async signIn(token: string): Promise<void> {
    await this.tokenInput.fill(token);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}
