import { describe, expect, test } from 'vitest';
import { AppError } from '#shared/errors';
import { SweepSpec, TrainingTemplate } from '#shared/contracts/trainos';
import {
  placeServerErrors,
  searchDraftOf,
  searchKindsOf,
  switchSweepTemplate,
  sweepDraftOf,
  sweepFieldOf,
  sweepRequest,
  type SweepDraft,
} from './sweep-form';

const TEMPLATE = TrainingTemplate.parse({
  id: 'mlp',
  title: 'MLP',
  kind: 'script',
  command: ['python3', 'train.py', '{epochs}', '{lr}', '{optimizer}', '{shuffle}', '{tag}'],
  params: [
    { name: 'epochs', type: 'int', default: 5 },
    { name: 'lr', type: 'number', default: 0.01 },
    { name: 'optimizer', type: 'choice', choices: ['adam', 'sgd'], default: 'adam' },
    { name: 'shuffle', type: 'boolean', default: true },
    { name: 'tag', type: 'string' },
  ],
  datasets: [{ as: 'TRAIN' }],
  resources: { gpus: 0, cpuThreads: 2, ramMb: 1024 },
});

/** The form with `lr` searched over a range and the rest fixed at their defaults. */
function searchingLr(min: string, max: string): SweepDraft {
  const draft = sweepDraftOf(TEMPLATE);
  return {
    ...draft,
    name: 'lr sweep',
    modes: { ...draft.modes, lr: 'search' },
    search: { ...draft.search, lr: { ...draft.search.lr!, kind: 'loguniform', min, max } },
    job: { ...draft.job, datasets: { TRAIN: { dataset: 'iris', version: '' } } },
  };
}

function badRequest(details: unknown, message = 'invalid'): AppError {
  return new AppError('INVALID_ARGUMENT', message, details);
}

describe('searchKindsOf and searchDraftOf', () => {
  test('offer only searches whose values the parameter accepts, starting a list from what it can take', () => {
    const [epochs, lr, optimizer, shuffle] = TEMPLATE.params;
    expect(searchKindsOf(epochs!)).toEqual(['int', 'choice']);
    expect(searchKindsOf(lr!)).toEqual(['uniform', 'loguniform', 'int', 'choice']);
    expect(searchKindsOf(optimizer!)).toEqual(['choice']);
    expect(searchDraftOf(optimizer!)).toMatchObject({ kind: 'choice', values: 'adam, sgd' });
    expect(searchDraftOf(shuffle!)).toMatchObject({ kind: 'choice', values: 'true, false' });
    expect(searchDraftOf(epochs!)).toMatchObject({ kind: 'int', values: '5', step: '1' });
  });
});

describe('sweepRequest', () => {
  test('puts searched parameters into the space and leaves them out of the fixed ones', () => {
    const request = sweepRequest(TEMPLATE, searchingLr('0.0001', '0.1'));
    expect(request.space).toEqual({ lr: { type: 'loguniform', min: 0.0001, max: 0.1 } });
    expect(request.template?.params).toEqual({ epochs: 5, optimizer: 'adam', shuffle: true, tag: '' });
    expect(request.template?.datasets).toEqual({ TRAIN: { dataset: 'iris', version: 'latest' } });
    expect(request.template?.template).toBe('mlp');
    expect(request).toMatchObject({
      name: 'lr sweep',
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: 'random',
      maxTrials: 20,
      parallel: 2,
      seed: 0,
      earlyStopping: { type: 'none' },
    });
    expect(request.gridPoints).toBeUndefined();
    // What the form makes is a spec the API takes.
    expect(SweepSpec.safeParse(request).success).toBe(true);
  });

  test("types listed values as the parameter's type, keeping text that is not one for the server to name", () => {
    const draft = sweepDraftOf(TEMPLATE);
    const request = sweepRequest(TEMPLATE, {
      ...draft,
      modes: { ...draft.modes, epochs: 'search', shuffle: 'search', optimizer: 'search' },
      search: {
        ...draft.search,
        epochs: { ...draft.search.epochs!, kind: 'choice', values: '1, 2,, 3x ' },
        shuffle: { ...draft.search.shuffle!, values: 'true, false' },
        optimizer: { ...draft.search.optimizer!, values: 'sgd' },
      },
    });
    expect(request.space).toEqual({
      epochs: { type: 'choice', values: [1, 2, '3x'] },
      optimizer: { type: 'choice', values: ['sgd'] },
      shuffle: { type: 'choice', values: [true, false] },
    });
  });

  test('sends an emptied range end as null, never as 0, and an int range with its step', () => {
    const draft = sweepDraftOf(TEMPLATE);
    const request = sweepRequest(TEMPLATE, {
      ...draft,
      modes: { ...draft.modes, epochs: 'search' },
      search: { ...draft.search, epochs: { ...draft.search.epochs!, min: '', max: '10', step: '2' } },
    });
    expect(JSON.parse(JSON.stringify(request.space))).toEqual({ epochs: { type: 'int', min: null, max: 10, step: 2 } });
  });

  test('sends grid points with a grid only, and the chosen early-stopping rule with its own fields', () => {
    const draft = searchingLr('0.001', '0.1');
    const grid = sweepRequest(TEMPLATE, {
      ...draft,
      algorithm: 'grid',
      gridPoints: '3',
      stopping: { ...draft.stopping, type: 'asha', minResource: '2', maxResource: '' },
    });
    expect(grid.gridPoints).toBe(3);
    expect(grid.earlyStopping).toEqual({ type: 'asha', minResource: 2, reductionFactor: 3, maxResource: undefined });
    const median = sweepRequest(TEMPLATE, {
      ...draft,
      gridPoints: '3',
      stopping: { ...draft.stopping, type: 'median', warmupSteps: '4' },
    });
    expect(median.gridPoints).toBeUndefined();
    expect(median.earlyStopping).toEqual({ type: 'median', warmupSteps: 4, minTrials: 5 });
  });

  test("keeps the sweep's settings when another template is picked, and that template's parameters afresh", () => {
    const other = TrainingTemplate.parse({
      id: 'other',
      title: 'Other',
      kind: 'script',
      command: ['true', '{depth}'],
      params: [{ name: 'depth', type: 'int', default: 3 }],
    });
    const switched = switchSweepTemplate({ ...searchingLr('1', '2'), metric: 'acc', goal: 'maximize' }, other);
    expect(switched).toMatchObject({ name: 'lr sweep', metric: 'acc', goal: 'maximize', modes: { depth: 'fixed' } });
    expect(switched.job.template).toBe('other');
    expect(Object.keys(switched.search)).toEqual(['depth']);
  });
});

describe('sweepFieldOf', () => {
  const draft = searchingLr('1', '0.1');

  test("names a searched parameter's inputs from the request schema's and the service's paths", () => {
    expect(sweepFieldOf('space.lr.max', TEMPLATE, draft)).toBe('param.lr.max');
    expect(sweepFieldOf('space.lr.values.1', TEMPLATE, draft)).toBe('param.lr.values');
    expect(sweepFieldOf('space.lr', TEMPLATE, draft)).toBe('param.lr');
    expect(sweepFieldOf('space', TEMPLATE, draft)).toBe('space');
    // A name the template lacks has no row: the space as a whole shows it.
    expect(sweepFieldOf('space.momentum', TEMPLATE, draft)).toBe('space');
  });

  test("names a template parameter's row when searched and its fixed value otherwise", () => {
    expect(sweepFieldOf('params.lr', TEMPLATE, draft)).toBe('param.lr');
    expect(sweepFieldOf('params.epochs', TEMPLATE, draft)).toBe('param.epochs.value');
    expect(sweepFieldOf('template.params.epochs', TEMPLATE, draft)).toBe('param.epochs.value');
  });

  test("names the sweep's own fields, the trial job's and the template's datasets", () => {
    expect(sweepFieldOf('name', TEMPLATE, draft)).toBe('name');
    expect(sweepFieldOf('objective.metric', TEMPLATE, draft)).toBe('objective.metric');
    expect(sweepFieldOf('earlyStopping.minResource', TEMPLATE, draft)).toBe('earlyStopping.minResource');
    expect(sweepFieldOf('template.datasets.TRAIN.version', TEMPLATE, draft)).toBe('datasets.TRAIN');
    expect(sweepFieldOf('datasets.TRAIN', TEMPLATE, draft)).toBe('datasets.TRAIN');
    expect(sweepFieldOf('template.resources.ramMb', TEMPLATE, draft)).toBe('ramMb');
    expect(sweepFieldOf('template.experiment', TEMPLATE, draft)).toBe('experiment');
    // The trial jobs' name is the sweep's to give: no field for it.
    expect(sweepFieldOf('template.name', TEMPLATE, draft)).toBeNull();
    expect(sweepFieldOf('job', TEMPLATE, draft)).toBeNull();
    expect(sweepFieldOf(null, TEMPLATE, draft)).toBeNull();
  });
});

describe('placeServerErrors', () => {
  const draft = searchingLr('1', '0.1');

  test("places the request schema's issues under their fields and keeps the rest for a banner", () => {
    const error = badRequest({
      issues: [
        { field: 'body.space.lr.max', message: 'min must be below max' },
        { field: 'body.maxTrials', message: 'too big' },
        { field: 'body.maxTrials', message: 'not whole' },
        { field: 'body.job', message: 'give either job or template' },
      ],
    });
    const placed = placeServerErrors(error, TEMPLATE, draft);
    expect(Object.fromEntries(placed.byField)).toEqual({
      'param.lr.max': 'min must be below max',
      maxTrials: 'too big; not whole',
    });
    expect(placed.unplaced).toEqual(['job: give either job or template']);
  });

  test("places a service check by the field its message starts with, without repeating the field's path", () => {
    const error = badRequest({ field: 'space.momentum' }, "space.momentum: template 'mlp' has no parameter 'momentum'");
    expect(Object.fromEntries(placeServerErrors(error, TEMPLATE, draft).byField)).toEqual({
      space: "template 'mlp' has no parameter 'momentum'",
    });
  });

  test('places nothing for an error that is not about the input', () => {
    const placed = placeServerErrors(new AppError('NOT_FOUND', 'no such template'), TEMPLATE, draft);
    expect(placed.byField.size).toBe(0);
    expect(placed.unplaced).toEqual([]);
  });
});
