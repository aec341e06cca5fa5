import type { Locator, Page } from 'playwright-core';

/** Deployments (src/renderer/deploy): the list, the deploy dialog, one deployment's page and its tabs. */
export class DeploymentsPage {
  constructor(readonly page: Page) {}

  get navLink(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Deployments/ });
  }

  get list(): Locator {
    return this.page.getByTestId('deployments-page');
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="deployment-row"][data-name="${name}"]`);
  }

  /** The deployment's page, optionally once it is in `state`. */
  detail(name: string, state?: string): Locator {
    const s = state ? `[data-state="${state}"]` : '';
    return this.page.locator(`[data-testid="deployment-page"][data-name="${name}"]${s}`);
  }

  get dialog(): DeployDialog {
    return new DeployDialog(this.page);
  }

  async openDeployDialog(): Promise<DeployDialog> {
    await this.page.getByRole('button', { name: 'Deploy a model…' }).click();
    await this.dialog.root.waitFor();
    return this.dialog;
  }

  async tab(name: 'Overview' | 'Playground' | 'Requests' | 'Code'): Promise<void> {
    await this.page.getByRole('tablist', { name: 'Deployment' }).getByRole('tab', { name }).click();
  }

  /** "3 requests" in the page's header, from the polled stats. */
  get requestCount(): Locator {
    return this.page.getByTestId('deployment-request-count');
  }

  async stop(): Promise<void> {
    await this.page.getByRole('button', { name: 'Stop', exact: true }).click();
  }

  get chat(): ChatPlayground {
    return new ChatPlayground(this.page);
  }

  requestRows(): Locator {
    return this.page.getByTestId('request-row');
  }
}

/** The deploy dialog (src/renderer/deploy/DeployDialog.tsx). */
export class DeployDialog {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('deploy-dialog');
  }

  async chooseModel(model: string, version?: string): Promise<void> {
    await this.root.locator('#dp-model').selectOption(model);
    const versions = this.root.locator('#dp-version');
    await versions.locator('option', { hasText: /^v\d/ }).first().waitFor({ state: 'attached' });
    if (version) await versions.selectOption(version);
  }

  field(label: string): Locator {
    return this.root.getByLabel(label, { exact: true });
  }

  /** The server's complaint under a field (`dp-name`, `dp-parallel`…). */
  fieldError(fieldId: string): Locator {
    return this.root.locator(`[data-field="${fieldId}"] [data-testid="field-error"]`);
  }

  async submit(): Promise<void> {
    await this.root.getByRole('button', { name: 'Deploy', exact: true }).click();
  }
}

/** The streaming chat of a GGUF deployment's playground. */
export class ChatPlayground {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('chat-playground');
  }

  async setTemperature(value: number): Promise<void> {
    await this.root.getByLabel('Temperature', { exact: true }).fill(String(value));
  }

  async send(text: string): Promise<void> {
    await this.root.getByLabel('Message').fill(text);
    await this.root.getByRole('button', { name: 'Send' }).click();
  }

  /** The answers, once each has finished streaming. */
  get answers(): Locator {
    return this.root.locator('[data-testid="chat-message"][data-role="assistant"]:not([data-streaming])');
  }

  get streamingAnswer(): Locator {
    return this.root.locator('[data-testid="chat-message"][data-role="assistant"][data-streaming]');
  }
}
