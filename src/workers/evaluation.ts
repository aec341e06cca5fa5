import { classificationReplicates, type ClassificationEngineState } from '#platform/evaluation/bootstrap';
import { serveWorkerJobs } from '#platform/worker-runtime';

/** EvalKit's bootstrap off the API thread: a range of resamples per job (see #platform/evaluation/parallel). */
serveWorkerJobs({
  'evaluation.bootstrap-classification': async (payload) => {
    const { state, seed, from, to } = payload as {
      state: ClassificationEngineState;
      seed: number;
      from: number;
      to: number;
    };
    return classificationReplicates(state, seed, from, to);
  },
});
