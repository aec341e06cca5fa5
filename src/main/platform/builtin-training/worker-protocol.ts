import type { BuiltinTrainerParamsInput, TrainerResult, TrainerResumeState } from './params';

/** What the built-in trainer's thread (src/workers/builtin-trainer.ts) gets as its workerData. */
export interface BuiltinTrainerJob {
  params: BuiltinTrainerParamsInput;
  datasetDir: string;
  resume: TrainerResumeState | null;
}

/**
 * The thread's messages: the TrainerIo calls, then the result or the error. `epochEnd` and `checkpoint` carry an
 * id and training waits for the core's answer with that id.
 */
export type FromTrainerThread =
  | { kind: 'log'; message: string }
  | { kind: 'epochEnd'; id: number; epoch: number; metrics: Record<string, number> }
  | { kind: 'checkpoint'; id: number; epoch: number; state: Uint8Array }
  | { kind: 'result'; result: TrainerResult }
  | { kind: 'error'; code: string; message: string };

/** The core's answers: the call is done (the checkpoint stored), or it failed and training fails with `message`. */
export type ToTrainerThread = { kind: 'done'; id: number } | { kind: 'failed'; id: number; message: string };
