import { Worker } from 'node:worker_threads';
import {
  TrainingCancelledError,
  type BuiltinTrainerParamsInput,
  type TrainerIo,
  type TrainerResult,
  type TrainerResumeState,
} from '#platform/builtin-training/params';
import type { BuiltinTrainerJob, FromTrainerThread, ToTrainerThread } from '#platform/builtin-training/worker-protocol';
import { workerEntry } from '#platform/worker-pool';
import { AppError, isErrorCode } from '#shared/errors';

/**
 * TrainOS's built-in trainers (TF.js: an MLP for tables, a small CNN for images, an embedding bag for text) and
 * their ONNX export. The training code itself lives in #platform/builtin-training, where the worker thread that
 * runs it (src/workers/builtin-trainer.ts) may import it: workers never import services.
 */
export {
  BUILTIN_TRAINER_KINDS,
  BuiltinTrainerKind,
  BuiltinTrainerParams,
  type BuiltinTrainerParamsInput,
  type TrainerIo,
  type TrainerResult,
  type TrainerResumeState,
  TrainingCancelledError,
} from '#platform/builtin-training/params';
export type {
  FeatureEncoding,
  ImagePreprocessing,
  Preprocessing,
  TabularPreprocessing,
  TensorSpec,
  TextPreprocessing,
} from '#platform/builtin-training/preprocessing';
export { runBuiltinTrainer } from '#platform/builtin-training/train';
export { findTableFile } from '#platform/builtin-training/files';

/**
 * `runBuiltinTrainer` in a worker thread, as the app runs it: the io calls arrive here, and training waits for
 * `epochEnd` and `checkpoint` to settle (a rejection fails the training with its message). Errors reject with the
 * thread's code and message; `signal` terminates the thread and rejects with a `TrainingCancelledError`.
 */
export function runBuiltinTrainerInWorker(
  params: BuiltinTrainerParamsInput,
  datasetDir: string,
  resume: TrainerResumeState | null,
  io: TrainerIo,
  signal?: AbortSignal,
): Promise<TrainerResult> {
  if (signal?.aborted) return Promise.reject(new TrainingCancelledError());
  const entry = workerEntry('builtin-trainer');
  const job: BuiltinTrainerJob = { params, datasetDir, resume };
  const worker = new Worker(entry.url, { workerData: { ...entry.workerData, ...job } });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      settle();
    };
    const onAbort = () => finish(() => reject(new TrainingCancelledError()));
    const answer = (id: number, call: () => Promise<void>) => {
      Promise.resolve()
        .then(call)
        .then(
          () => worker.postMessage({ kind: 'done', id } satisfies ToTrainerThread),
          (err: unknown) =>
            worker.postMessage({
              kind: 'failed',
              id,
              message: err instanceof Error ? err.message : String(err),
            } satisfies ToTrainerThread),
        );
    };
    worker.on('message', (message: FromTrainerThread) => {
      if (settled) return;
      switch (message.kind) {
        case 'log':
          io.log(message.message);
          break;
        case 'epochEnd':
          answer(message.id, () => io.epochEnd(message.epoch, message.metrics));
          break;
        case 'checkpoint':
          answer(message.id, () => io.checkpoint(message.epoch, message.state));
          break;
        case 'result':
          finish(() => resolve(message.result));
          break;
        case 'error':
          finish(() => reject(new AppError(isErrorCode(message.code) ? message.code : 'INTERNAL', message.message)));
          break;
      }
    });
    worker.on('error', (err) =>
      finish(() => reject(new AppError('INTERNAL', `the built-in trainer's thread crashed: ${err.message}`))),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new AppError('INTERNAL', `the built-in trainer's thread exited with code ${code}`))),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
