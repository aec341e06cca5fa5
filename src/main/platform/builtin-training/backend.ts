import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;

/** Native TensorFlow bindings, best first; neither is a dependency, so they are used only when installed. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let loaded: Promise<{ tf: Tf; backend: string }> | undefined;

async function load(): Promise<{ tf: Tf; backend: string }> {
  // Loaded on first use: a process that only starts training threads does not pay for TF.js.
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  for (const name of NATIVE_PACKAGES) {
    try {
      // A variable specifier: the bundler must not try to resolve a package that is normally absent.
      await import(/* @vite-ignore */ name);
      if (await tf.setBackend('tensorflow')) return { tf, backend: `tensorflow (${name})` };
    } catch {
      // Not installed, or built for another platform: the wasm backend below always works.
    }
  }
  // Emscripten's runtime adds process handlers that rethrow every unhandled rejection and uncaught exception
  // (crashing the thread); what to do with those is the app's decision, so they are removed again.
  const rejectionHandlers = new Set(process.listeners('unhandledRejection'));
  const exceptionHandlers = new Set(process.listeners('uncaughtException'));
  const started = await tf.setBackend('wasm');
  for (const handler of process.listeners('unhandledRejection'))
    if (!rejectionHandlers.has(handler)) process.off('unhandledRejection', handler);
  for (const handler of process.listeners('uncaughtException'))
    if (!exceptionHandlers.has(handler)) process.off('uncaughtException', handler);
  if (!started) throw new Error('the TF.js wasm backend failed to start');
  return { tf, backend: 'wasm' };
}

/** TF.js with the best backend this machine has (once per thread), and the backend's name. */
export function loadTf(): Promise<{ tf: Tf; backend: string }> {
  loaded ??= load();
  return loaded;
}
