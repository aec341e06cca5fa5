import { describe, expect, it } from 'vitest';
import type { LabelTask } from '#shared/contracts/labeling';
import {
  annotatorError,
  checkLabels,
  draftHotkeys,
  exportFormats,
  isComplete,
  renamesOf,
  startingValue,
  statusShares,
  toggleLabel,
  type LabelDraft,
} from './model';

const draft = (name: string, extra: Partial<LabelDraft> = {}): LabelDraft => ({
  key: name,
  from: null,
  name,
  color: '#2563eb',
  hotkey: '',
  description: '',
  ...extra,
});

describe('checkLabels', () => {
  it('accepts distinct names and keys', () => {
    expect(checkLabels([draft('cat'), draft('dog', { hotkey: 'd' })]).rows.size).toBe(0);
  });

  it('names what is wrong with each row: duplicates, bad keys, bad names', () => {
    const { rows } = checkLabels([
      draft('cat', { key: 'a' }),
      draft('cat', { key: 'b' }),
      draft('x', { hotkey: '#' }),
      draft(' padded'),
      draft('y', { hotkey: 'q', key: 'y' }),
      draft('z', { hotkey: 'q', key: 'z' }),
    ]);
    expect(rows.get('a')).toMatch(/given twice/);
    expect(rows.get('x')).toMatch(/hotkey/);
    expect(rows.get(' padded')).toMatch(/outer spaces/);
    expect(rows.get('y')).toMatch(/key “q” is given twice/);
  });

  it('asks for at least one label', () => {
    expect(checkLabels([]).list).toMatch(/at least one/);
  });
});

describe('draftHotkeys and renamesOf', () => {
  it('shows the keys the server will assign', () => {
    expect(draftHotkeys([draft('a'), draft('b', { hotkey: '1' })])).toEqual(['2', '1']);
  });

  it('lists renamed labels that exist on the server, not new ones', () => {
    expect(renamesOf([draft('feline', { from: 'cat' }), draft('dog', { from: 'dog' }), draft('new')])).toEqual({
      cat: 'feline',
    });
  });
});

const task = (over: Partial<LabelTask> = {}): LabelTask => ({
  id: 't1',
  projectId: 'p1',
  position: 0,
  item: 'a.csv:1',
  data: { text: 'hello', fields: null, image: null },
  prediction: null,
  status: 'open',
  annotations: [],
  review: null,
  agreement: null,
  ...over,
});

describe('startingValue', () => {
  it('starts from the annotator’s own answer, else the model’s suggestion, else empty', () => {
    expect(startingValue('classification', task(), 'ann')).toEqual({ value: { labels: [] }, suggested: false });
    const predicted = task({ prediction: { value: { labels: ['cat'] }, model: 'm', score: 0.9 } });
    expect(startingValue('classification', predicted, 'ann')).toEqual({ value: { labels: ['cat'] }, suggested: true });
    const answered = task({
      ...predicted,
      annotations: [
        {
          id: 'a1',
          taskId: 't1',
          annotator: 'ann',
          value: { labels: ['dog'] },
          skipped: false,
          durationMs: null,
          createdAt: 0,
          updatedAt: 0,
        },
      ],
    });
    expect(startingValue('classification', answered, 'ann')).toEqual({ value: { labels: ['dog'] }, suggested: false });
    expect(startingValue('boxes', task(), 'ann').value).toEqual({ boxes: [] });
  });
});

describe('values', () => {
  it('toggles labels in schema order', () => {
    const order = ['a', 'b', 'c'];
    expect(toggleLabel(['c'], 'a', order)).toEqual(['a', 'c']);
    expect(toggleLabel(['a', 'c'], 'a', order)).toEqual(['c']);
  });

  it('needs exactly one label for classification; other kinds may be empty', () => {
    expect(isComplete('classification', { labels: [] })).toBe(false);
    expect(isComplete('classification', { labels: ['a'] })).toBe(true);
    expect(isComplete('multilabel', { labels: [] })).toBe(true);
    expect(isComplete('boxes', { boxes: [] })).toBe(true);
  });
});

describe('annotatorError', () => {
  it('follows the server’s rule', () => {
    expect(annotatorError('ann')).toBeNull();
    expect(annotatorError('')).toMatch(/give a name/);
    expect(annotatorError(' ann')).toMatch(/spaces/);
  });
});

describe('statusShares and exportFormats', () => {
  it('gives each status its share of the tasks', () => {
    const shares = statusShares({ tasks: 10, open: 5, inProgress: 2, annotated: 2, reviewed: 1, annotators: [] });
    expect(shares.map((s) => [s.status, s.fraction])).toEqual([
      ['reviewed', 0.1],
      ['annotated', 0.2],
      ['in_progress', 0.2],
      ['open', 0.5],
    ]);
  });

  it('offers COCO and YOLO for boxes only', () => {
    expect(exportFormats('classification')).toEqual(['csv', 'jsonl']);
    expect(exportFormats('boxes')).toContain('yolo');
  });
});
