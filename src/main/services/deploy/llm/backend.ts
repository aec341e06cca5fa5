import { type Llama, LlamaLogLevel, getLlama } from 'node-llama-cpp';
import { AppError } from '#shared/errors';

/** CPU only, or the GPU backend node-llama-cpp finds among its prebuilt binaries. */
export type GpuChoice = false | 'auto';

/** Where llama.cpp's warnings go (the deploy service may point this at its logger); errors are kept for AppErrors. */
export type LlamaLogSink = (level: 'warn' | 'error', message: string) => void;

let sink: LlamaLogSink = () => {};
const instances = new Map<string, Promise<Llama>>();

/** The last llama.cpp error lines, numbered so a caller can read those logged since it started a step. */
const recentErrors: { seq: number; message: string }[] = [];
let errorSeq = 0;
const MAX_RECENT_ERRORS = 50;

export function setLlamaLogSink(next: LlamaLogSink): void {
  sink = next;
}

function log(level: LlamaLogLevel, message: string): void {
  if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
    recentErrors.push({ seq: ++errorSeq, message: message.trim() });
    if (recentErrors.length > MAX_RECENT_ERRORS) recentErrors.shift();
    sink('error', message);
  } else if (level === LlamaLogLevel.warn) {
    sink('warn', message);
  }
}

/** Marks now; the returned function gives llama.cpp's error lines logged since (to explain a failed load). */
export function captureLlamaErrors(): () => string[] {
  const from = errorSeq;
  return () => recentErrors.filter((entry) => entry.seq > from).map((entry) => entry.message);
}

/**
 * One `Llama` per GPU choice for the whole process: starting one loads the native binding (seconds), and
 * models loaded through the same instance share its thread pool. Never builds or downloads a binary.
 */
export function sharedLlama(gpu: GpuChoice): Promise<Llama> {
  const key = String(gpu);
  let instance = instances.get(key);
  if (!instance) {
    instance = getLlama({ gpu, build: 'never', logLevel: LlamaLogLevel.warn, logger: log }).catch((error: unknown) => {
      instances.delete(key);
      throw new AppError(
        'FAILED_PRECONDITION',
        `the llama.cpp runtime cannot start (gpu: ${key}): ${error instanceof Error ? error.message : String(error)}`,
        { gpu: key },
      );
    });
    instances.set(key, instance);
  }
  return instance;
}
