import { afterAll, describe, expect, it } from 'vitest';
import { RandomStream } from '#platform/evaluation/random';
import { tempDir } from '#platform/testing';
import { WorkerPool } from '#platform/worker-pool';
import {
  EVALUATION_METRICS_WORKER,
  EVALUATION_REPORT_JOB,
  type EvaluationReportJob,
} from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';
import { evaluationReport } from './evaluation-report';

// The worker entry EvalKit's evaluation runs compute their reports on: the same report as on the calling thread,
// its errors as AppErrors with their message.

const work = tempDir();
const pool = new WorkerPool(work.dir, 1);

afterAll(async () => {
  await pool.close();
  work.remove();
});

/** A seeded 3-class problem of `rows` rows, probabilities at full precision, sliced by a site column. */
function classification(rows: number): EvaluationReportJob {
  const random = new RandomStream(11);
  const classes = ['a', 'b', 'c'];
  const probabilities = classes.map(() => new Float64Array(rows));
  const labels: string[] = [];
  const truth: string[] = [];
  const sites: string[] = [];
  for (let i = 0; i < rows; i++) {
    const scores = classes.map(() => Math.exp(random.normal()));
    const sum = scores.reduce((s, v) => s + v, 0);
    scores.forEach((s, k) => (probabilities[k]![i] = s / sum));
    const best = scores.indexOf(Math.max(...scores));
    labels.push(classes[best]!);
    truth.push(random.uniform() < 0.7 ? classes[best]! : classes[Math.floor(random.uniform() * 3)]!);
    sites.push(i % 3 === 0 ? 'north' : 'south');
  }
  return {
    target: { name: 'y', values: truth },
    predictions: { kind: 'classification', classes, labels, probabilities },
    task: null,
    slice: { name: 'site', values: sites },
    resamples: 50,
    confidence: 0.9,
  };
}

describe('the evaluation metrics worker', { timeout: 120_000 }, () => {
  it('computes the same classification report as this thread, its bootstrap split over more threads', async () => {
    // Past the rows from which the worker splits the resamples over two threads of the `evaluation` entry.
    const job = classification(120_000);
    const direct = await evaluationReport(job);
    const viaWorker = await pool.run(EVALUATION_METRICS_WORKER, EVALUATION_REPORT_JOB, job);
    expect(viaWorker).toEqual(direct);
    expect(direct.report.intervals?.accuracy).toMatchObject({ resamples: 50, confidence: 0.9 });
    expect(direct.report.slices?.map((s) => [s.value, s.rows])).toEqual([
      ['north', 40_000],
      ['south', 80_000],
    ]);
  });

  it('computes the same regression report, and refuses a bad target with the message of this thread', async () => {
    const job: EvaluationReportJob = {
      target: { name: 'y', values: ['3', '5', '2.5', '7', '4'] },
      predictions: { kind: 'regression', values: Float64Array.of(2.5, 5, 3, 8, 4) },
      task: null,
      slice: null,
      resamples: 100,
      confidence: 0.95,
    };
    expect(await pool.run(EVALUATION_METRICS_WORKER, EVALUATION_REPORT_JOB, job)).toEqual(await evaluationReport(job));
    const bad = { ...job, target: { name: 'y', values: ['3', 'n/a', '2.5', '7', '4'] } };
    const err = await pool.run(EVALUATION_METRICS_WORKER, EVALUATION_REPORT_JOB, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "target: column 'y' has the value 'n/a' at row 2; a regression target needs a number in every row",
    });
  });
});
