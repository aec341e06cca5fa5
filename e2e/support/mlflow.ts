/**
 * Logging to ModelHub the way an MLflow client does (its REST API under /api/2.0/mlflow), for arranging
 * experiments, runs, metrics and artifacts in e2e tests quickly: one log-batch per run, many runs at a time.
 */
export interface MlflowMetric {
  key: string;
  value: number | 'NaN' | 'Infinity' | '-Infinity';
  step: number;
  timestamp?: number;
}

export class MlflowClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async post<T = Record<string, unknown>>(path: string, body: object): Promise<T> {
    const res = await fetch(new URL(`/api/2.0/mlflow/${path}`, this.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async createExperiment(name: string): Promise<string> {
    return (await this.post<{ experiment_id: string }>('experiments/create', { name })).experiment_id;
  }

  async createRun(experimentId: string, name: string, startTime: number): Promise<string> {
    const made = await this.post<{ run: { info: { run_id: string } } }>('runs/create', {
      experiment_id: experimentId,
      run_name: name,
      start_time: startTime,
    });
    return made.run.info.run_id;
  }

  /** Params, tags and metrics, in batches of at most 1,000 entries (MLflow's limit). */
  async logBatch(
    runId: string,
    batch: { params?: Record<string, string>; tags?: Record<string, string>; metrics?: MlflowMetric[] },
  ): Promise<void> {
    const metrics = (batch.metrics ?? []).map((m) => ({ ...m, timestamp: m.timestamp ?? 1_700_000_000_000 + m.step }));
    const kv = (o: Record<string, string> | undefined) =>
      Object.entries(o ?? {}).map(([key, value]) => ({ key, value }));
    // Params and tags go in a request of their own when the metrics fill batches.
    const params = kv(batch.params);
    const tags = kv(batch.tags);
    const alone = metrics.length + params.length + tags.length > 1000;
    if (alone) await this.post('runs/log-batch', { run_id: runId, params, tags, metrics: [] });
    for (let i = 0; i < metrics.length || (i === 0 && !alone); i += 1000) {
      await this.post('runs/log-batch', {
        run_id: runId,
        params: alone ? [] : params,
        tags: alone ? [] : tags,
        metrics: metrics.slice(i, i + 1000),
      });
    }
  }

  async finish(runId: string, endTime: number, status = 'FINISHED'): Promise<void> {
    await this.post('runs/update', { run_id: runId, status, end_time: endTime });
  }

  async logInput(runId: string, dataset: { name: string; source: string }): Promise<void> {
    await this.post('runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          dataset: { name: dataset.name, digest: 'e2e', source_type: 'aidos', source: dataset.source },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
      ],
    });
  }

  /** Stores a file among a run's artifacts, as `mlflow.log_artifact` does. */
  async putArtifact(experimentId: string, runId: string, path: string, body: string | Buffer): Promise<void> {
    const res = await fetch(
      new URL(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`, this.baseUrl),
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      },
    );
    if (!res.ok) throw new Error(`PUT artifact ${path}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** Runs `work` over 0..count-1 with at most `limit` at a time. */
export async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
