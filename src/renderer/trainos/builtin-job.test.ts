import { describe, expect, test } from 'vitest';
import { AppError } from '#shared/errors';
import { TrainingJobSpec, type TrainingJob } from '#shared/contracts/trainos';
import {
  builtinDraftOf,
  builtinFieldErrors,
  builtinFieldOf,
  builtinJobSpec,
  builtinJobSubtitle,
  builtinUnchangedSince,
  isFinalMetric,
  trainerText,
} from './builtin-job';

/** A job as the server answers it: its spec parsed (every default filled in), its dataset version fixed. */
function job(spec: Record<string, unknown>, name = 'Tabular classifier (built-in MLP)'): TrainingJob {
  return {
    id: '01JOB',
    name,
    spec: TrainingJobSpec.parse(spec),
    state: 'succeeded',
    attempt: 1,
    runId: 'run1',
    placement: null,
    waitingReason: null,
    exitCode: null,
    signal: null,
    reason: null,
    lastCheckpoint: null,
    resumedFromStep: null,
    retryOf: null,
    createdAt: 0,
    startedAt: null,
    endedAt: null,
  };
}

const IRIS = job({
  kind: 'builtin',
  trainer: { kind: 'tabular-classifier', target: 'species', epochs: 3, features: ['petal_length', 'petal_width'] },
  registerModel: 'iris-tabular-classifier',
  datasets: [{ dataset: 'iris', version: '1', as: 'TRAIN' }],
  params: { target: 'species', epochs: '3' },
  resources: { gpus: 0, cpuThreads: 1, ramMb: 1024 },
  env: { TF_LOG: '1' },
  preemptible: false,
});

describe('trainerText', () => {
  test("leaves out the settings the trainer's kind does not read, which a parsed spec holds as defaults", () => {
    const text = trainerText(IRIS.spec.trainer ?? { kind: 'image-classifier' });
    expect(text).toBe(
      'tabular-classifier target=species features=["petal_length","petal_width"] splitColumn=split epochs=3 ' +
        'batchSize=32 learningRate=0.001 validationSplit=0.2 earlyStoppingPatience=5 maxCategories=100 seed=42',
    );
    expect(text).not.toMatch(/embeddingDim|convFilters|textColumn/);
  });

  test('keeps the convolution settings of an image classifier and drops the table ones', () => {
    const spec = TrainingJobSpec.parse({
      kind: 'builtin',
      trainer: { kind: 'image-classifier' },
      datasets: [{ dataset: 'x' }],
    });
    expect(trainerText(spec.trainer ?? { kind: 'image-classifier' })).toMatch(
      /^image-classifier .*convFilters=\[16,32\]/,
    );
    expect(trainerText(spec.trainer ?? { kind: 'image-classifier' })).not.toMatch(/splitColumn|maxCategories/);
  });
});

describe('isFinalMetric', () => {
  test('tells the values a trainer logs once at the end from its per-epoch series', () => {
    for (const key of ['best_epoch', 'best_val_loss', 'test_accuracy']) expect(isFinalMetric(key)).toBe(true);
    for (const key of ['loss', 'val_loss', 'accuracy', 'mae']) expect(isFinalMetric(key)).toBe(false);
  });
});

describe('builtinJobSubtitle', () => {
  test('says which trainer on which dataset version, for built-in jobs only', () => {
    expect(builtinJobSubtitle(IRIS)).toBe('tabular-classifier on iris v1');
    expect(builtinJobSubtitle(job({ command: ['true'], workingDir: '/tmp' }, 'true'))).toBeNull();
  });
});

describe('builtinDraftOf / builtinJobSpec', () => {
  test('fills the form with the trainer settings and submits the same job when nothing is changed', () => {
    const draft = builtinDraftOf(IRIS);
    expect(draft).toMatchObject({
      kind: 'tabular-classifier',
      dataset: { dataset: 'iris', version: '1' },
      datasetAs: 'TRAIN',
      registerModel: 'iris-tabular-classifier',
      ramMb: '1024',
    });
    expect(draft?.settings).toMatchObject({
      target: 'species',
      epochs: '3',
      learningRate: '0.001',
      batchSize: '32',
      hiddenUnits: '',
      textColumn: '',
      embeddingDim: '',
    });
    const spec = TrainingJobSpec.parse(builtinJobSpec(draft!));
    // What the server stores again, but for the template's parameters: the clone is not the template's any more.
    expect(spec).toEqual({ ...IRIS.spec, name: IRIS.name, params: {} });
  });

  test("sends the changed settings with their types, keeps what the form has no field for, and empties mean the trainer's default", () => {
    const draft = builtinDraftOf(IRIS)!;
    draft.settings = { ...draft.settings, epochs: '10', learningRate: '0.01', batchSize: '', hiddenUnits: '16, 8' };
    draft.registerModel = '  iris-small ';
    draft.dataset = { dataset: 'iris', version: '' };
    draft.name = '';
    const spec = builtinJobSpec(draft);
    expect(spec.trainer).toMatchObject({
      kind: 'tabular-classifier',
      target: 'species',
      epochs: 10,
      learningRate: 0.01,
      hiddenUnits: [16, 8],
      features: ['petal_length', 'petal_width'],
    });
    expect(spec.trainer).not.toHaveProperty('batchSize');
    expect(spec).toMatchObject({
      kind: 'builtin',
      name: undefined,
      registerModel: 'iris-small',
      datasets: [{ dataset: 'iris', version: 'latest', as: 'TRAIN' }],
      env: { TF_LOG: '1' },
      preemptible: false,
      resources: { gpus: 0, cpuThreads: 1, ramMb: 1024 },
    });
    expect(TrainingJobSpec.parse(spec).trainer?.batchSize).toBe(32);
  });

  test('sends a setting typed wrong as it is, for the server to name it', () => {
    const draft = builtinDraftOf(IRIS)!;
    draft.settings = { ...draft.settings, epochs: 'ten', target: ' ', hiddenUnits: '16, x' };
    const spec = builtinJobSpec(draft);
    expect(spec.trainer).toMatchObject({ epochs: 'ten', hiddenUnits: '16, x' });
    expect(spec.trainer).not.toHaveProperty('target');
    const parsed = TrainingJobSpec.safeParse(spec);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['trainer.epochs', 'trainer.hiddenUnits']),
    );
  });

  test('has no draft for a script job, and only the settings of its kind for a text classifier', () => {
    expect(builtinDraftOf(job({ command: ['true'], workingDir: '/tmp' }))).toBeNull();
    const text = job({
      kind: 'builtin',
      trainer: { kind: 'text-classifier', target: 'topic', textColumn: 'body', embeddingDim: 16 },
      datasets: [{ dataset: 'topics', version: '2' }],
    });
    const draft = builtinDraftOf(text)!;
    expect(draft.settings).toMatchObject({ target: 'topic', textColumn: 'body', embeddingDim: '16' });
    expect(draft.datasetAs).toBeUndefined();
    expect(builtinJobSpec(draft).datasets).toEqual([{ dataset: 'topics', version: '2' }]);
  });
});

describe('builtinFieldOf', () => {
  test('names the form field of a server error: trainer settings, dataset, resources and the job fields', () => {
    expect(builtinFieldOf('trainer.epochs', 'tabular-classifier')).toBe('trainer.epochs');
    expect(builtinFieldOf('trainer.hiddenUnits.0', 'tabular-classifier')).toBe('trainer.hiddenUnits');
    expect(builtinFieldOf('trainer.embeddingDim', 'tabular-classifier')).toBeNull();
    expect(builtinFieldOf('trainer.features', 'tabular-classifier')).toBeNull();
    expect(builtinFieldOf('datasets.0.version', 'tabular-classifier')).toBe('datasets');
    expect(builtinFieldOf('resources.ramMb', 'tabular-classifier')).toBe('ramMb');
    expect(builtinFieldOf('registerModel', 'tabular-classifier')).toBe('registerModel');
    expect(builtinFieldOf('workingDir', 'tabular-classifier')).toBeNull();
    expect(builtinFieldOf(null, 'tabular-classifier')).toBeNull();
  });

  test("places a 400's schema issues under their fields", () => {
    const error = new AppError('INVALID_ARGUMENT', 'invalid request', {
      issues: [
        {
          field: 'body.trainer.target',
          message: "target (the label column) is required for kind 'tabular-classifier'",
        },
        { field: 'body.priority', message: 'too big' },
        { field: 'body.trainer.kind', message: 'nope' },
      ],
    });
    expect(builtinFieldErrors(error, 'tabular-classifier')).toEqual([
      { field: 'trainer.target', message: "target (the label column) is required for kind 'tabular-classifier'" },
      { field: 'priority', message: 'too big' },
      { field: null, message: 'nope' },
    ]);
  });
});

describe('builtinUnchangedSince', () => {
  test('tells whether a trainer setting or a job field still asks what the rejected spec asked', () => {
    const draft = builtinDraftOf(IRIS)!;
    const submitted = builtinJobSpec({ ...draft, settings: { ...draft.settings, target: '' } });
    const typed = builtinJobSpec({ ...draft, ramMb: '2048' });
    expect(builtinUnchangedSince('trainer.target', submitted, typed)).toBe(false);
    expect(builtinUnchangedSince('trainer.epochs', submitted, typed)).toBe(true);
    expect(builtinUnchangedSince('ramMb', submitted, typed)).toBe(false);
    expect(builtinUnchangedSince('registerModel', submitted, typed)).toBe(true);
  });
});
