import { readFileSync } from 'node:fs';
import { runBuiltinTrainer } from '#platform/builtin-training/train';
import { fixturePath, importDataset, waitFor } from '#platform/testing';
import type { ApiClient } from '#shared/api/client';
import type { ApiEndpoints } from '#shared/contracts/index';
import { runArtifactRoot, type ModelhubService } from '#services/modelhub/contract';

// EvalKit's test helpers: real tabular models (the built-in trainer on the iris fixture) registered or deployed.

/** The iris fixture's rows as a deployment's `predict` takes them (numbers as numbers). */
export function irisRows(): Record<string, string | number>[] {
  const [header, ...lines] = readFileSync(fixturePath('data', 'iris.csv'), 'utf8').trim().split(/\r?\n/);
  const columns = (header as string).split(',');
  return lines.map((line) =>
    Object.fromEntries(
      line.split(',').map((v, i) => [columns[i] as string, Number.isFinite(Number(v)) ? Number(v) : v] as const),
    ),
  );
}

/**
 * Trains the built-in tabular classifier on the iris fixture (TF.js, in this thread: seconds) and registers it as
 * model `name`, `versions` times (the same files), each with its preprocessing beside it, as TrainOS saves them.
 */
export async function registerIrisClassifier(modelhub: ModelhubService, name: string, versions: number): Promise<void> {
  const trained = await runBuiltinTrainer(
    { kind: 'tabular-classifier', file: 'iris.csv', target: 'species', epochs: 30, learningRate: 0.02 },
    fixturePath('data'),
    null,
    { log: () => undefined, epochEnd: async () => undefined, checkpoint: async () => undefined },
  );
  modelhub.registry.createModel({ name });
  for (let i = 0; i < versions; i++) {
    const run = modelhub.tracking.createRun({ runName: `${name} ${i + 1}` });
    const root = runArtifactRoot(run.info);
    await modelhub.artifacts.put(root, 'model/model.onnx', Buffer.from(trained.onnx));
    await modelhub.artifacts.put(root, 'model/preprocessing.json', Buffer.from(JSON.stringify(trained.preprocessing)));
    await modelhub.registerVersion({
      name,
      runId: run.info.id,
      artifactPath: 'model',
      description: '',
      tags: [],
      aliases: [],
      actor: 'test',
    });
  }
}

/**
 * Imports iris, trains the built-in tabular classifier on it (2 epochs: seconds) and deploys the version as each of
 * `names`, logging whole requests. The model's lineage names the iris version it was trained on.
 */
export async function deployIrisClassifier(
  t: { client: ApiClient<ApiEndpoints> },
  names: readonly string[],
): Promise<void> {
  await importDataset(t.client, 'iris', fixturePath('data', 'iris.csv'));
  const job = await t.client.call('trainingJobs.submit', {
    kind: 'builtin',
    datasets: [{ dataset: 'iris' }],
    trainer: { kind: 'tabular-classifier', target: 'species', epochs: 2, earlyStoppingPatience: 0 },
    registerModel: 'iris',
  });
  const done = await waitFor(
    async () => {
      const j = await t.client.call('trainingJobs.get', { job: job.id });
      return j.state !== 'queued' && j.state !== 'running' ? j : undefined;
    },
    120_000,
    'the iris training',
  );
  if (done.state !== 'succeeded') throw new Error(`training ${done.state}: ${done.reason ?? ''}`);
  for (const name of names) {
    await t.client.call('deployments.create', {
      name,
      model: 'iris',
      version: 1,
      requestLog: { sampleRate: 1, maxChars: 1_000_000 },
    });
  }
}
