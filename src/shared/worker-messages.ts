/** Messages between the core and its worker threads (src/workers/*). */
export interface WorkerRunMessage {
  kind: 'run';
  /** The job type, which selects the handler inside the worker entry. */
  type: string;
  payload: unknown;
  dataDir: string;
}

export interface WorkerCancelMessage {
  kind: 'cancel';
}

export type ToWorkerMessage = WorkerRunMessage | WorkerCancelMessage;

export type FromWorkerMessage =
  | { kind: 'progress'; fraction: number; message?: string }
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; code: string; message: string };
