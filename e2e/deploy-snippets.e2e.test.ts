import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DeploymentsPage } from './pages/deployments';
import { useApp } from './support/app';

// The Code tab's snippets are what a user copies into a terminal or a file: each one is taken from the page and
// run as it is (curl in bash, Python, Node) with a read-only API key in AIDOS_API_KEY, against the real server.
const MODELS = path.resolve(import.meta.dirname, '../test-fixtures/models');
const run = promisify(execFile);

describe('deployment snippets', () => {
  const app = useApp();

  test('the ONNX snippets run as copied and get the logits', async () => {
    const { server, page } = await app.start({ colorScheme: 'light' });
    const { secret } = await server.api.call('keys.create', { name: 'snippets', scopes: ['read'] });
    // Both digits models: a [n, 64] input and a [n, 1, 8, 8] one.
    for (const file of ['digits_mlp.onnx', 'digits_cnn.onnx']) {
      await server.api.call('deployments.create', { file: path.join(MODELS, file), threads: 1 });
    }
    const shell = new AppShell(page, server.url);
    const deployments = new DeploymentsPage(page);
    // Node resolves a script's imports from where the file is: inside the checkout, as in a user's project.
    const dir = mkdtempSync(path.join(import.meta.dirname, '.snippets-'));
    const env = { ...process.env, AIDOS_API_KEY: secret };
    try {
      for (const name of ['digits_mlp', 'digits_cnn']) {
        await shell.openWithToken(`/deployments?deployment=${name}`, server.token);
        await deployments.detail(name, 'ready').waitFor();
        await deployments.tab('Code');
        const snippet = page.getByTestId('snippet');
        const outputs: Record<string, string> = {};
        for (const [tab, language] of [
          ['curl', 'curl'],
          ['Python (requests)', 'python'],
          ['JavaScript (fetch)', 'javascript'],
        ] as const) {
          await page.getByRole('tab', { name: tab }).click();
          await snippet.and(page.locator(`[data-language="${language}"]`)).waitFor();
          const code = (await snippet.textContent()) ?? '';
          const script = path.join(dir, `${name}.${language === 'javascript' ? 'mjs' : 'py'}`);
          writeFileSync(script, code);
          const { stdout } = await (language === 'curl'
            ? run('bash', ['-c', code], { env })
            : run(language === 'python' ? 'python3' : process.execPath, [script], { env }));
          outputs[language] = stdout;
        }
        // Ten logits, whichever the client.
        expect(JSON.parse(outputs.curl ?? '')).toMatchObject({ outputs: [{ shape: [1, 10] }] });
        expect(outputs.python).toMatch(/'shape': \[1, 10\]/);
        expect(outputs.javascript).toMatch(/shape: \[ 1, 10 \]/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
