import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

/**
 * Four targets: the Electron main process and the `aidos` CLI (one Node bundle, sharing the core), the worker
 * thread entries (next to it, in out/main/workers), the preload script, and the React renderer.
 * Dependencies stay external in the Node targets: native modules (better-sqlite3) cannot be bundled.
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: 'src/main/electron/main.ts',
          cli: 'src/main/cli/main.ts',
          'workers/blob-verify': 'src/workers/blob-verify.ts',
          'workers/wal-checkpoint': 'src/workers/wal-checkpoint.ts',
          'workers/builtin-trainer': 'src/workers/builtin-trainer.ts',
          'workers/onnx-replica': 'src/workers/onnx-replica.ts',
          'workers/tfjs-replica': 'src/workers/tfjs-replica.ts',
          'workers/evaluation': 'src/workers/evaluation.ts',
          'workers/evaluation-metrics': 'src/workers/evaluation-metrics.ts',
          'workers/job-launcher': 'src/workers/job-launcher.ts',
        },
        output: {
          format: 'es',
          entryFileNames: '[name].js',
          chunkFileNames: 'chunks/[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: 'src/preload/index.ts' },
        // A sandboxed preload cannot load ES modules.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    // The UI is always served over HTTP by the core (in Electron too), so absolute asset URLs work at any
    // route (/datasets/x). electron-vite forces base './' for renderers; a plugin's config hook overrides it.
    plugins: [react(), tailwindcss(), { name: 'aidos:absolute-base', config: () => ({ base: '/' }) }],
    build: {
      outDir: 'out/renderer',
      minify: true,
      rollupOptions: { input: 'src/renderer/index.html' },
    },
  },
});
