import { describe, expect, it } from 'vitest';
import { fixturePath } from '#platform/testing';
import { AppError } from '#shared/errors';
import { compareExport, recorder, tableInput } from './testing';
import {
  runBuiltinTrainerInWorker,
  TrainingCancelledError,
  type BuiltinTrainerParamsInput,
  type TabularPreprocessing,
  type TrainerIo,
} from './trainer';

const DATA = fixturePath('data');
const IRIS: BuiltinTrainerParamsInput = { kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 4 };

describe('built-in trainer in a worker thread', () => {
  it('trains off the main thread and waits for each checkpoint to be stored before going on', async () => {
    const recorded = recorder();
    const events: string[] = [];
    const io: TrainerIo = {
      log: recorded.io.log,
      epochEnd: async (epoch, metrics) => {
        events.push(`epochEnd ${epoch}`);
        await recorded.io.epochEnd(epoch, metrics);
      },
      checkpoint: async (epoch, state) => {
        // A slow store: the next epoch must not begin before it is done.
        await new Promise((resolve) => setTimeout(resolve, 100));
        await recorded.io.checkpoint(epoch, state);
        events.push(`stored ${epoch}`);
      },
    };
    const result = await runBuiltinTrainerInWorker(IRIS, DATA, null, io);
    expect(events).toEqual([
      'epochEnd 1',
      'stored 1',
      'epochEnd 2',
      'stored 2',
      'epochEnd 3',
      'stored 3',
      'epochEnd 4',
      'stored 4',
    ]);
    expect(result.epochs).toBe(4);
    expect(recorded.logs[0]).toMatch(/^built-in tabular-classifier on the TF.js \S+ backend$/);
    const { data, dims } = tableInput(result.preprocessing as TabularPreprocessing, 'iris.csv');
    expect((await compareExport(result, recorded, data, dims)).diff).toBeLessThan(1e-4);
  });

  it('rejects with the error of the data, and with the error of a failed checkpoint store', async () => {
    const bad = runBuiltinTrainerInWorker({ ...IRIS, target: 'colour' }, DATA, null, recorder().io);
    await expect(bad).rejects.toBeInstanceOf(AppError);
    await expect(bad).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("the target column 'colour' is not in the table"),
    });

    const failing = { ...recorder().io, checkpoint: () => Promise.reject(new Error('the disk is full')) };
    await expect(runBuiltinTrainerInWorker(IRIS, DATA, null, failing)).rejects.toThrow('the disk is full');
  });

  it('terminates the thread when cancelled', async () => {
    const controller = new AbortController();
    const recorded = recorder();
    const io: TrainerIo = {
      ...recorded.io,
      epochEnd: async (epoch, metrics) => {
        await recorded.io.epochEnd(epoch, metrics);
        controller.abort();
      },
    };
    const started = Date.now();
    await expect(
      runBuiltinTrainerInWorker({ ...IRIS, epochs: 500 }, DATA, null, io, controller.signal),
    ).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(Date.now() - started).toBeLessThan(20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorded.epochs.map((e) => e.epoch)).toEqual([1]);

    await expect(runBuiltinTrainerInWorker(IRIS, DATA, null, recorder().io, AbortSignal.abort())).rejects.toThrow(
      'built-in training was cancelled',
    );
  });
});
