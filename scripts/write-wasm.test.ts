import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileKernel, WASM_KERNELS } from './write-wasm.ts';

// The committed WebAssembly modules are what their C sources compile to (clang and lld; .ci/run installs them).
describe('WebAssembly kernels', () => {
  it.each(WASM_KERNELS.map((k) => [k.module, k] as const))(
    '%s matches its source (run "npm run wasm" after changing it)',
    (_, kernel) => {
      const committed = readFileSync(path.resolve(import.meta.dirname, '..', kernel.module), 'utf8');
      expect(committed).toBe(compileKernel(kernel));
    },
    30_000,
  );
});
