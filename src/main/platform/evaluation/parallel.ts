import type { WorkerPool } from '#platform/worker-pool';
import type { ClassificationHeadline, ReplicateRunner, Replicates } from './bootstrap.ts';

/** The worker entry (src/workers/evaluation.ts) and its job type. */
export const EVALUATION_WORKER = 'evaluation';
export const BOOTSTRAP_JOB = 'evaluation.bootstrap-classification';

/**
 * Runs bootstrap resample ranges on `pool`'s evaluation threads: pass it as `runner` to
 * `bootstrapClassification`, with `parts` the pool's threads for that entry (2 on a 2-core machine).
 */
export function workerReplicateRunner(pool: WorkerPool, signal?: AbortSignal): ReplicateRunner {
  return async (state, seed, from, to) =>
    (await pool.run(
      EVALUATION_WORKER,
      BOOTSTRAP_JOB,
      { state, seed, from, to },
      signal ? { signal } : {},
    )) as Replicates<ClassificationHeadline>;
}
