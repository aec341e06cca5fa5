import { parentPort, workerData } from 'node:worker_threads';
import type { TrainerIo } from '#platform/builtin-training/params';
import { runBuiltinTrainer } from '#platform/builtin-training/train';
import type { BuiltinTrainerJob, FromTrainerThread, ToTrainerThread } from '#platform/builtin-training/worker-protocol';

/**
 * Runs one built-in training job (TF.js) off the core's thread: the io calls go to the core as messages, and
 * epochEnd / checkpoint wait for its answer, so a checkpoint is stored before training goes on. Cancelling
 * terminates the thread.
 */
const port = parentPort;
if (!port) throw new Error('the built-in trainer runs in a worker thread');
const job = workerData as BuiltinTrainerJob;
const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
let nextId = 0;

port.on('message', (answer: ToTrainerThread) => {
  const call = waiting.get(answer.id);
  waiting.delete(answer.id);
  if (answer.kind === 'done') call?.resolve();
  else call?.reject(new Error(answer.message));
});

function request(message: FromTrainerThread & { id: number }, transfer: ArrayBuffer[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    waiting.set(message.id, { resolve, reject });
    port?.postMessage(message, transfer);
  });
}

const io: TrainerIo = {
  log: (message) => port.postMessage({ kind: 'log', message } satisfies FromTrainerThread),
  epochEnd: (epoch, metrics) => request({ kind: 'epochEnd', id: nextId++, epoch, metrics }),
  // The state's buffer is the checkpoint's own (encodeCheckpoint allocates it): moved, not copied.
  checkpoint: (epoch, state) =>
    request({ kind: 'checkpoint', id: nextId++, epoch, state }, [state.buffer as ArrayBuffer]),
};

runBuiltinTrainer(job.params, job.datasetDir, job.resume, io).then(
  (result) =>
    port.postMessage({ kind: 'result', result } satisfies FromTrainerThread, [result.onnx.buffer as ArrayBuffer]),
  (err: unknown) => {
    const e = err as { code?: unknown; message?: unknown };
    port.postMessage({
      kind: 'error',
      code: typeof e.code === 'string' ? e.code : 'INTERNAL',
      message: typeof e.message === 'string' ? e.message : String(err),
    } satisfies FromTrainerThread);
  },
);
