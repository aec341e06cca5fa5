import { describe, expect, test } from 'vitest';
import { TrainingTemplate } from '#shared/contracts/trainos';
import { switchTemplate, templateDraftOf, templateFieldOf, templateJobRequest, unchangedSince } from './template-job';

const TEMPLATE = TrainingTemplate.parse({
  id: 'mlp',
  title: 'MLP',
  kind: 'script',
  command: ['python3', 'train.py', '--epochs', '{epochs}', '--lr', '{lr}', '--task', '{task}', '{target}'],
  params: [
    { name: 'epochs', type: 'int', default: 5 },
    { name: 'lr', type: 'number', default: 0.01 },
    { name: 'task', type: 'choice', choices: ['classification', 'regression'] },
    { name: 'target', type: 'string', required: true },
    { name: 'shuffle', type: 'boolean', default: true },
  ],
  datasets: [{ as: 'TRAIN' }, { as: 'TEST' }],
  resources: { gpus: 1, gpuMemoryMb: 2048, cpuThreads: 2, ramMb: 4096 },
});

describe('templateDraftOf', () => {
  test("fills in the template's defaults and resources, and puts a given dataset version in the first slot", () => {
    const draft = templateDraftOf(TEMPLATE, { dataset: 'iris', version: '3' });
    expect(draft.params).toEqual({ epochs: '5', lr: '0.01', task: '', target: '', shuffle: true });
    expect(draft.datasets).toEqual({ TRAIN: { dataset: 'iris', version: '3' }, TEST: { dataset: '', version: '' } });
    expect(draft.resources).toEqual({ gpus: '1', gpuMemoryMb: '2048', cpuThreads: '2', ramMb: '4096' });
  });

  test('keeps the name, experiment, priority and checkpoints to keep typed so far when another template is picked', () => {
    const draft = {
      ...templateDraftOf(TEMPLATE),
      name: 'mine',
      experiment: 'exp',
      priority: '5',
      keepCheckpoints: '3',
    };
    const other = TrainingTemplate.parse({ id: 'other', title: 'Other', kind: 'script', command: ['true'] });
    expect(switchTemplate(draft, other)).toMatchObject({
      template: 'other',
      name: 'mine',
      experiment: 'exp',
      keepCheckpoints: '3',
      params: {},
    });
  });
});

describe('switchTemplate', () => {
  const builtin = TrainingTemplate.parse({
    id: 'builtin-tabular',
    title: 'Built-in',
    kind: 'builtin',
    trainer: { kind: 'tabular-classifier', target: '{target}' },
    params: [{ name: 'target', type: 'string', required: true }],
    datasets: [{ as: 'TABLE' }],
  });

  test("keeps the dataset version chosen so far (the dataset page's) in the new template's first slot", () => {
    const draft = templateDraftOf(TEMPLATE, { dataset: 'iris', version: '2' });
    expect(switchTemplate(draft, builtin).datasets).toEqual({ TABLE: { dataset: 'iris', version: '2' } });
  });

  test('keeps each chosen dataset version where the new template reads the same one', () => {
    const draft = templateDraftOf(TEMPLATE);
    draft.datasets = { TRAIN: { dataset: '', version: '' }, TEST: { dataset: 'held-out', version: '' } };
    const same = TrainingTemplate.parse({ ...TEMPLATE, id: 'same' });
    expect(switchTemplate(draft, same).datasets).toEqual(draft.datasets);
    expect(switchTemplate(templateDraftOf(TEMPLATE), builtin).datasets).toEqual({
      TABLE: { dataset: '', version: '' },
    });
  });
});

describe('unchangedSince', () => {
  test('tells whether a field still asks what the rejected request asked, so that its complaint shows till then', () => {
    const draft = templateDraftOf(TEMPLATE, { dataset: 'iris', version: '' });
    const submitted = templateJobRequest(TEMPLATE, draft);
    const typed = templateJobRequest(TEMPLATE, {
      ...draft,
      params: { ...draft.params, target: 'species' },
      resources: { ...draft.resources, ramMb: '8192' },
    });
    expect(unchangedSince('params.target', submitted, typed)).toBe(false);
    expect(unchangedSince('params.epochs', submitted, typed)).toBe(true);
    expect(unchangedSince('ramMb', submitted, typed)).toBe(false);
    expect(unchangedSince('cpuThreads', submitted, typed)).toBe(true);
    expect(unchangedSince('datasets.TRAIN', submitted, typed)).toBe(true);
    expect(unchangedSince('experiment', submitted, typed)).toBe(true);
  });
});

describe('templateJobRequest', () => {
  test('sends numbers as numbers, leaves emptied numbers and unchosen choices and datasets to the server', () => {
    const draft = templateDraftOf(TEMPLATE, { dataset: 'iris', version: '' });
    draft.params = { epochs: '', lr: '0.5', task: '', target: 'species', shuffle: false };
    const request = templateJobRequest(TEMPLATE, draft);
    expect(request.params).toEqual({ lr: 0.5, target: 'species', shuffle: false });
    expect(request.datasets).toEqual({ TRAIN: { dataset: 'iris', version: 'latest' } });
    expect(request.resources).toEqual({ gpus: 1, gpuMemoryMb: 2048, cpuThreads: 2, ramMb: 4096 });
    expect(request.name).toBeUndefined();
    expect(request.keepCheckpoints).toBeUndefined();
    expect(templateJobRequest(TEMPLATE, { ...draft, keepCheckpoints: '2' }).keepCheckpoints).toBe(2);
  });

  test('sends a whole-number parameter typed with a fraction as it is, for the server to reject', () => {
    const draft = templateDraftOf(TEMPLATE);
    draft.params = { ...draft.params, epochs: '2.5' };
    expect(templateJobRequest(TEMPLATE, draft).params?.epochs).toBe(2.5);
  });
});

describe('templateFieldOf', () => {
  test('names the parameter and dataset fields the server names, datasets by their place too', () => {
    expect(templateFieldOf('params.epochs', TEMPLATE)).toBe('params.epochs');
    expect(templateFieldOf('params.nope', TEMPLATE)).toBeNull();
    expect(templateFieldOf('datasets.TEST', TEMPLATE)).toBe('datasets.TEST');
    expect(templateFieldOf('datasets.1', TEMPLATE)).toBe('datasets.TEST');
    expect(templateFieldOf('datasets.TRAIN.version', TEMPLATE)).toBe('datasets.TRAIN');
    expect(templateFieldOf('resources.ramMb', TEMPLATE)).toBe('ramMb');
    expect(templateFieldOf('experiment', TEMPLATE)).toBe('experiment');
    expect(templateFieldOf('workingDir', TEMPLATE)).toBeNull();
    expect(templateFieldOf(null, TEMPLATE)).toBeNull();
  });
});
