import { workerReplicateRunner } from '#platform/evaluation/parallel';
import { WorkerPool } from '#platform/worker-pool';
import { serveWorkerJobs } from '#platform/worker-runtime';
import { EVALUATION_REPORT_JOB, type EvaluationReportJob } from '#shared/contracts/evalkit-evaluations';
import { evaluationReport } from './evaluation-report';

/**
 * Rows from which a classification's bootstrap is split over two more threads (the `evaluation` entry): below it,
 * starting them costs more than the resamples.
 */
const PARALLEL_BOOTSTRAP_ROWS = 100_000;

/** The bootstrap threads of this thread, started on the first large evaluation and kept with it. */
let bootstrapPool: WorkerPool | undefined;

/** EvalKit's evaluation runs: the whole report (metrics, slices, calibration, intervals) off the API thread. */
serveWorkerJobs({
  [EVALUATION_REPORT_JOB]: async (payload, ctx) => {
    const job = payload as EvaluationReportJob;
    if (job.target.values.length < PARALLEL_BOOTSTRAP_ROWS || job.resamples === 0) return evaluationReport(job);
    bootstrapPool ??= new WorkerPool(ctx.dataDir, 2);
    return evaluationReport(job, { runner: workerReplicateRunner(bootstrapPool, ctx.signal), parts: 2 });
  },
});
