#!/usr/bin/env node
// Runs before the e2e suite (npm run test:e2e): the UI tests need Debian's Chromium and must never skip silently.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const INSTALL = 'Chromium is missing: install it with: sudo apt-get install -y chromium';

if (!existsSync(path)) {
  console.error(`${INSTALL}\n(looked for ${path}; set CHROMIUM_PATH to use another binary)`);
  process.exit(1);
}
try {
  const version = execFileSync(path, ['--version'], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  console.log(`e2e browser: ${version} (${path})`);
} catch (error) {
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
  console.error(`${INSTALL}\n(${path} exists but "${path} --version" failed: ${why})`);
  process.exit(1);
}
