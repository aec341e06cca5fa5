import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries of ARCHITECTURE.md §4 are lint errors; these cases prove a forbidden import fails CI.
const eslint = new ESLint();

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

// The first lint loads ESLint's config and plugins: seconds on a busy 2-core machine, past vitest's 5 s default.
describe('import boundaries', { timeout: 30_000 }, () => {
  it('keep Node, electron and our other code out of src/shared', async () => {
    const found = await messages(
      'src/shared/x.ts',
      "import fs from 'node:fs';\nimport { BlobStore } from '#platform/blobstore';\nexport const y = [fs, BlobStore];\n",
    );
    expect(found).toHaveLength(2);
  });

  it('keep Node and the main process out of the renderer', async () => {
    const found = await messages(
      'src/renderer/x.ts',
      "import path from 'path';\nimport { startCore } from '#core/core';\nexport const y = [path, startCore];\n",
    );
    expect(found).toHaveLength(2);
  });

  it('let a service reach another only through its contract, and never a higher rank', async () => {
    const code = [
      "import { a } from '#services/dataforge/contract';",
      "import { b } from '#services/dataforge/service';",
      "import { c } from '#services/modelhub/contract';",
      'export const y = [a, b, c];',
    ].join('\n');
    const found = await messages('src/main/services/security/x.ts', code);
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(/only through its contract/);
    expect(found.join('\n')).toMatch(/higher-ranked/);
  });

  it('keep services out of workers and electron out of the core', async () => {
    expect(
      await messages('src/workers/x.ts', "import { s } from '#services/security/contract';\nexport const y = s;\n"),
    ).toHaveLength(1);
    expect(
      await messages('src/main/platform/x.ts', "import { app } from 'electron';\nexport const y = app;\n"),
    ).toHaveLength(1);
    expect(
      await messages('src/main/electron/x.ts', "import { app } from 'electron';\nexport const y = app;\n"),
    ).toHaveLength(0);
  });

  it('forbid ../../ imports across areas', async () => {
    expect(
      await messages('src/main/gateway/x.ts', "import { y } from '../../shared/errors';\nexport const z = y;\n"),
    ).toHaveLength(1);
  });
});
