#!/usr/bin/env node
// The `aidos` command: runs the built CLI (npm run build makes it).
import { existsSync } from 'node:fs';

const built = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(built)) {
  console.error('aidos is not built yet: run "npm run build" in the AI-DOS folder first.');
  process.exit(1);
}
await import(built.href);
