import { describe, expect, it } from 'vitest';
import type { BoundingBox } from '#shared/contracts/labeling';
import {
  boxIou,
  cohenKappa,
  consensus,
  fleissKappa,
  pairAgreement,
  projectAgreement,
  taskAgreement,
} from './labeling-agreement';

const repeat = <T>(value: T, n: number): T[] => Array.from({ length: n }, () => value);

describe("Cohen's kappa", () => {
  it('matches the textbook example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → 0.4)', () => {
    const a = [...repeat('yes', 25), ...repeat('no', 25)];
    const b = [...repeat('yes', 20), ...repeat('no', 5), ...repeat('yes', 10), ...repeat('no', 15)];
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 10);
  });

  it('is 1 for identical ratings, negative below chance, and null when undefined', () => {
    expect(cohenKappa(['a', 'b', 'a'], ['a', 'b', 'a'])).toBe(1);
    expect(cohenKappa(['a', 'b'], ['b', 'a'])).toBe(-1);
    expect(cohenKappa(['a', 'a'], ['a', 'a'])).toBeNull();
    expect(cohenKappa([], [])).toBeNull();
  });
});

describe("Fleiss' kappa", () => {
  it("matches Fleiss' worked example (10 subjects, 14 raters, 5 categories → 0.210)", () => {
    // Rows: how many of the 14 raters put subject i in category j (the table in Fleiss 1971 / Wikipedia).
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const items = table.map((counts) => counts.flatMap((n, j) => repeat(`c${j}`, n)));
    expect(fleissKappa(items)).toBeCloseTo(0.20993, 4);
  });

  it('is 1 on full agreement and null when undefined', () => {
    expect(
      fleissKappa([
        ['a', 'a', 'a'],
        ['b', 'b', 'b'],
      ]),
    ).toBe(1);
    expect(fleissKappa([['a', 'a']])).toBeNull();
    // Items with one rating carry no agreement information and are left out.
    expect(fleissKappa([['a'], ['b']])).toBeNull();
  });
});

const box = (x: number, y: number, width: number, height: number, label = 'cat'): BoundingBox => ({
  x,
  y,
  width,
  height,
  label,
});

describe('boxes', () => {
  it('computes IoU', () => {
    expect(boxIou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(boxIou(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(50 / 150, 10);
    expect(boxIou(box(0, 0, 10, 10), box(10, 0, 10, 10))).toBe(0);
  });

  it('scores a pair of box sets by matched IoU, counting unmatched and other-label boxes as 0', () => {
    const a = { boxes: [box(0, 0, 10, 10), box(20, 20, 5, 5)] };
    expect(pairAgreement('boxes', a, a)).toBe(1);
    // One box matched exactly, the other missing: 1 / (2 + 1 - 1).
    expect(pairAgreement('boxes', a, { boxes: [box(0, 0, 10, 10)] })).toBeCloseTo(0.5, 10);
    expect(pairAgreement('boxes', a, { boxes: [box(0, 0, 10, 10, 'dog')] })).toBe(0);
    expect(pairAgreement('boxes', { boxes: [] }, { boxes: [] })).toBe(1);
  });

  it('merges boxes most annotators drew into their mean and drops the rest', () => {
    const value = consensus('boxes', [
      { annotator: 'a', value: { boxes: [box(0, 0, 10, 10), box(50, 50, 4, 4)] } },
      { annotator: 'b', value: { boxes: [box(2, 0, 10, 10)] } },
      { annotator: 'c', value: { boxes: [box(1, 1, 10, 8)] } },
    ]);
    expect(value).toEqual({ boxes: [box(1, 1 / 3, 10, 28 / 3)] });
  });
});

describe('spans and labels', () => {
  it('scores NER answers by exact span F1', () => {
    const a = {
      spans: [
        { start: 0, end: 5, label: 'PER' },
        { start: 10, end: 15, label: 'ORG' },
      ],
    };
    const b = {
      spans: [
        { start: 0, end: 5, label: 'PER' },
        { start: 10, end: 14, label: 'ORG' },
      ],
    };
    expect(pairAgreement('ner', a, b)).toBeCloseTo(0.5, 10);
  });

  it('scores multilabel answers by Jaccard overlap and keeps labels most chose', () => {
    expect(pairAgreement('multilabel', { labels: ['a', 'b'] }, { labels: ['b', 'c'] })).toBeCloseTo(1 / 3, 10);
    expect(
      consensus('multilabel', [
        { annotator: 'x', value: { labels: ['a', 'b'] } },
        { annotator: 'y', value: { labels: ['b'] } },
        { annotator: 'z', value: { labels: ['b', 'c'] } },
      ]),
    ).toEqual({ labels: ['b'] });
  });

  it('takes the majority label, and none on a tie', () => {
    const vote = (...labels: string[]) =>
      consensus(
        'classification',
        labels.map((l, i) => ({ annotator: `p${i}`, value: { labels: [l] } })),
      );
    expect(vote('cat', 'dog', 'cat')).toEqual({ labels: ['cat'] });
    expect(vote('cat', 'dog')).toBeNull();
    expect(vote('dog')).toEqual({ labels: ['dog'] });
  });

  it('gives a task agreement only with two answers or more', () => {
    expect(taskAgreement('classification', [{ annotator: 'a', value: { labels: ['x'] } }])).toBeNull();
    expect(
      taskAgreement('classification', [
        { annotator: 'a', value: { labels: ['x'] } },
        { annotator: 'b', value: { labels: ['x'] } },
        { annotator: 'c', value: { labels: ['y'] } },
      ]),
    ).toBeCloseTo(1 / 3, 10);
  });
});

describe('project agreement', () => {
  it("reports Fleiss' kappa overall, Cohen's kappa per pair and the least agreed tasks first", () => {
    const answer = (annotator: string, label: string) => ({ annotator, value: { labels: [label] } });
    const tasks = [
      { taskId: 't0', position: 0, answers: [answer('ann', 'yes'), answer('bob', 'yes')] },
      { taskId: 't1', position: 1, answers: [answer('ann', 'no'), answer('bob', 'no')] },
      { taskId: 't2', position: 2, answers: [answer('ann', 'yes'), answer('bob', 'no')] },
      { taskId: 't3', position: 3, answers: [answer('ann', 'yes')] },
    ];
    const result = projectAgreement('classification', ['yes', 'no'], tasks);
    expect(result.tasks).toBe(3);
    expect(result.overall.metric).toBe('fleiss_kappa');
    expect(result.pairs).toEqual([
      { a: 'ann', b: 'bob', tasks: 3, metric: 'cohen_kappa', value: expect.closeTo(0.4, 10) as number },
    ]);
    expect(result.lowest).toEqual([{ taskId: 't2', position: 2, agreement: 0 }]);
    expect(result.labels.map((l) => l.label)).toEqual(['yes', 'no']);
  });
});
