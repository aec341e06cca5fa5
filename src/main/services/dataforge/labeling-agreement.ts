import type { BoundingBox, LabelAgreement, LabelKind, LabelValue, TextSpan } from '#shared/contracts/labeling';

/** One annotator's answer to one task. */
export interface Answer {
  annotator: string;
  value: LabelValue;
}

/**
 * Fleiss' kappa over items rated by any number (≥ 2) of raters, each rating one category: observed agreement
 * per item is the share of agreeing rater pairs; chance agreement comes from the pooled category shares.
 * Null when it is undefined (every rating in one category).
 */
export function fleissKappa(items: readonly (readonly string[])[]): number | null {
  const rated = items.filter((r) => r.length >= 2);
  if (rated.length === 0) return null;
  const totals = new Map<string, number>();
  let ratings = 0;
  let observed = 0;
  for (const ratingsOfItem of rated) {
    const counts = countBy(ratingsOfItem);
    let sumSquares = 0;
    for (const [category, n] of counts) {
      sumSquares += n * n;
      totals.set(category, (totals.get(category) ?? 0) + n);
    }
    const n = ratingsOfItem.length;
    observed += (sumSquares - n) / (n * (n - 1));
    ratings += n;
  }
  observed /= rated.length;
  let chance = 0;
  for (const n of totals.values()) chance += (n / ratings) ** 2;
  return chance >= 1 ? null : (observed - chance) / (1 - chance);
}

/** Cohen's kappa of two raters over the same items (`a[i]` and `b[i]` rate item i); null when undefined. */
export function cohenKappa(a: readonly string[], b: readonly string[]): number | null {
  if (a.length !== b.length) throw new Error('cohenKappa: both raters must rate the same items');
  if (a.length === 0) return null;
  let agree = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) agree++;
  const ca = countBy(a);
  const cb = countBy(b);
  let chance = 0;
  for (const [category, n] of ca) chance += (n / a.length) * ((cb.get(category) ?? 0) / b.length);
  const observed = agree / a.length;
  return chance >= 1 ? null : (observed - chance) / (1 - chance);
}

export function boxIou(a: BoundingBox, b: BoundingBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/**
 * How two sets of boxes agree: boxes of the same label are matched greedily by IoU, and the score is the
 * summed IoU of matches over the boxes there are (each match counted once, every unmatched box as 0).
 * Returned as parts so scores can be pooled over tasks.
 */
export function boxAgreementParts(
  a: readonly BoundingBox[],
  b: readonly BoundingBox[],
): { iou: number; boxes: number } {
  const candidates: { i: number; j: number; iou: number }[] = [];
  for (const [i, x] of a.entries()) {
    for (const [j, y] of b.entries()) {
      if (x.label !== y.label) continue;
      const iou = boxIou(x, y);
      if (iou > 0) candidates.push({ i, j, iou });
    }
  }
  candidates.sort((p, q) => q.iou - p.iou);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  let iou = 0;
  for (const c of candidates) {
    if (usedA.has(c.i) || usedB.has(c.j)) continue;
    usedA.add(c.i);
    usedB.add(c.j);
    iou += c.iou;
  }
  return { iou, boxes: a.length + b.length - usedA.size };
}

const spanKey = (s: TextSpan) => `${s.start}:${s.end}:${s.label}`;

/** Exact-match span agreement as parts of an F1: 2 × shared spans over the spans both annotators marked. */
export function spanAgreementParts(a: readonly TextSpan[], b: readonly TextSpan[]): { matched: number; spans: number } {
  const keys = new Set(a.map(spanKey));
  let shared = 0;
  for (const s of new Set(b.map(spanKey))) if (keys.has(s)) shared++;
  return { matched: 2 * shared, spans: a.length + b.length };
}

function ratio(num: number, den: number, whenEmpty: number): number {
  return den === 0 ? whenEmpty : num / den;
}

function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return ratio(inter, sa.size + sb.size - inter, 1);
}

/** Agreement of two answers to one task, 0-1, by the measure that suits the kind. */
export function pairAgreement(kind: LabelKind, a: LabelValue, b: LabelValue): number {
  switch (kind) {
    case 'classification':
      return a.labels?.[0] === b.labels?.[0] ? 1 : 0;
    case 'multilabel':
      return jaccard(a.labels ?? [], b.labels ?? []);
    case 'ner': {
      const p = spanAgreementParts(a.spans ?? [], b.spans ?? []);
      return ratio(p.matched, p.spans, 1);
    }
    case 'boxes': {
      const p = boxAgreementParts(a.boxes ?? [], b.boxes ?? []);
      return ratio(p.iou, p.boxes, 1);
    }
  }
}

/** The mean agreement of every pair of answers to one task; null with fewer than two answers. */
export function taskAgreement(kind: LabelKind, answers: readonly Answer[]): number | null {
  if (answers.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < answers.length; i++) {
    for (let j = i + 1; j < answers.length; j++) {
      sum += pairAgreement(kind, (answers[i] as Answer).value, (answers[j] as Answer).value);
      pairs++;
    }
  }
  return sum / pairs;
}

interface TaskAnswers {
  taskId: string;
  position: number;
  answers: Answer[];
}

/** Agreement over a project's tasks (only those with two or more answers count). */
export function projectAgreement(
  kind: LabelKind,
  labels: readonly string[],
  tasks: readonly TaskAnswers[],
): LabelAgreement {
  const compared = tasks.filter((t) => t.answers.length >= 2);
  const annotators = [...new Set(compared.flatMap((t) => t.answers.map((a) => a.annotator)))].sort();
  const byAnnotator = compared.map((t) => new Map(t.answers.map((a) => [a.annotator, a.value])));
  const lowest = compared
    .map((t) => ({ taskId: t.taskId, position: t.position, agreement: taskAgreement(kind, t.answers) as number }))
    .filter((t) => t.agreement < 1)
    .sort((x, y) => x.agreement - y.agreement || x.position - y.position)
    .slice(0, 50);
  const pairs: LabelAgreement['pairs'] = [];
  for (let i = 0; i < annotators.length; i++) {
    for (let j = i + 1; j < annotators.length; j++) {
      const a = annotators[i] as string;
      const b = annotators[j] as string;
      const both = byAnnotator.flatMap((m) => {
        const va = m.get(a);
        const vb = m.get(b);
        return va && vb ? [[va, vb] as const] : [];
      });
      if (both.length === 0) continue;
      pairs.push({ a, b, tasks: both.length, ...pairScore(kind, labels, both) });
    }
  }
  const perLabel = labels.map((label) => ({ label, value: labelScore(kind, label, compared) }));
  return {
    kind,
    tasks: compared.length,
    overall: overallScore(kind, labels, compared),
    pairs,
    labels: perLabel,
    lowest,
  };
}

const has = (v: LabelValue, label: string) => ((v.labels ?? []).includes(label) ? 'yes' : 'no');

function pairScore(
  kind: LabelKind,
  labels: readonly string[],
  both: readonly (readonly [LabelValue, LabelValue])[],
): { metric: LabelAgreement['overall']['metric']; value: number | null } {
  switch (kind) {
    case 'classification':
      return {
        metric: 'cohen_kappa',
        value: cohenKappa(
          both.map(([x]) => x.labels?.[0] ?? ''),
          both.map(([, y]) => y.labels?.[0] ?? ''),
        ),
      };
    case 'multilabel':
      return {
        metric: 'cohen_kappa',
        value: mean(
          labels.map((l) =>
            cohenKappa(
              both.map(([x]) => has(x, l)),
              both.map(([, y]) => has(y, l)),
            ),
          ),
        ),
      };
    case 'ner':
      return { metric: 'span_f1', value: pooledSpans(both.map(([x, y]) => [x.spans ?? [], y.spans ?? []])) };
    case 'boxes':
      return { metric: 'box_iou', value: pooledBoxes(both.map(([x, y]) => [x.boxes ?? [], y.boxes ?? []])) };
  }
}

function overallScore(
  kind: LabelKind,
  labels: readonly string[],
  tasks: readonly TaskAnswers[],
): LabelAgreement['overall'] {
  switch (kind) {
    case 'classification':
      return {
        metric: 'fleiss_kappa',
        value: fleissKappa(tasks.map((t) => t.answers.map((a) => a.value.labels?.[0] ?? ''))),
      };
    case 'multilabel':
      return {
        metric: 'fleiss_kappa',
        value: mean(labels.map((l) => fleissKappa(tasks.map((t) => t.answers.map((a) => has(a.value, l)))))),
      };
    case 'ner':
      return { metric: 'span_f1', value: pooledSpans(allPairs(tasks, (v) => v.spans ?? [])) };
    case 'boxes':
      return { metric: 'box_iou', value: pooledBoxes(allPairs(tasks, (v) => v.boxes ?? [])) };
  }
}

function labelScore(kind: LabelKind, label: string, tasks: readonly TaskAnswers[]): number | null {
  switch (kind) {
    case 'classification':
    case 'multilabel':
      return fleissKappa(tasks.map((t) => t.answers.map((a) => has(a.value, label))));
    case 'ner':
      return pooledSpans(
        allPairs(tasks, (v) => (v.spans ?? []).filter((s) => s.label === label)),
        null,
      );
    case 'boxes':
      return pooledBoxes(
        allPairs(tasks, (v) => (v.boxes ?? []).filter((b) => b.label === label)),
        null,
      );
  }
}

function allPairs<T>(tasks: readonly TaskAnswers[], pick: (v: LabelValue) => T): [T, T][] {
  const out: [T, T][] = [];
  for (const t of tasks) {
    for (let i = 0; i < t.answers.length; i++) {
      for (let j = i + 1; j < t.answers.length; j++) {
        out.push([pick((t.answers[i] as Answer).value), pick((t.answers[j] as Answer).value)]);
      }
    }
  }
  return out;
}

/** Span F1 pooled over pairs (micro-averaged); `whenEmpty` when nobody marked any span. */
function pooledSpans(
  pairs: readonly (readonly [readonly TextSpan[], readonly TextSpan[]])[],
  whenEmpty: number | null = 1,
) {
  let matched = 0;
  let spans = 0;
  for (const [a, b] of pairs) {
    const p = spanAgreementParts(a, b);
    matched += p.matched;
    spans += p.spans;
  }
  return spans === 0 ? (pairs.length > 0 ? whenEmpty : null) : matched / spans;
}

function pooledBoxes(
  pairs: readonly (readonly [readonly BoundingBox[], readonly BoundingBox[]])[],
  whenEmpty: number | null = 1,
) {
  let iou = 0;
  let boxes = 0;
  for (const [a, b] of pairs) {
    const p = boxAgreementParts(a, b);
    iou += p.iou;
    boxes += p.boxes;
  }
  return boxes === 0 ? (pairs.length > 0 ? whenEmpty : null) : iou / boxes;
}

function mean(values: readonly (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((s, v) => s + v, 0) / defined.length;
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** IoU at or above which two annotators' boxes of one label count as the same object. */
const SAME_OBJECT_IOU = 0.5;

/**
 * The answer most annotators agree on, or null when there is none (a tie on a single label). One answer is its
 * own consensus. Multilabel and NER keep the labels / spans more than half chose; boxes are grouped by label
 * and IoU ≥ 0.5, and a group more than half drew becomes one box at its members' mean coordinates.
 */
export function consensus(kind: LabelKind, answers: readonly Answer[]): LabelValue | null {
  if (answers.length === 0) return null;
  if (answers.length === 1) return (answers[0] as Answer).value;
  const half = answers.length / 2;
  switch (kind) {
    case 'classification': {
      const votes = countBy(answers.map((a) => a.value.labels?.[0] ?? ''));
      const [label, n] = [...votes.entries()].sort((x, y) => y[1] - x[1])[0] as [string, number];
      return n > half && label !== '' ? { labels: [label] } : null;
    }
    case 'multilabel': {
      const votes = countBy(answers.flatMap((a) => [...new Set(a.value.labels ?? [])]));
      return {
        labels: [...votes.entries()]
          .filter(([, n]) => n > half)
          .map(([l]) => l)
          .sort(),
      };
    }
    case 'ner': {
      const votes = new Map<string, { span: TextSpan; n: number }>();
      for (const a of answers) {
        for (const s of new Map((a.value.spans ?? []).map((x) => [spanKey(x), x])).values()) {
          const v = votes.get(spanKey(s)) ?? { span: { start: s.start, end: s.end, label: s.label }, n: 0 };
          v.n++;
          votes.set(spanKey(s), v);
        }
      }
      return {
        spans: [...votes.values()]
          .filter((v) => v.n > half)
          .map((v) => v.span)
          .sort((x, y) => x.start - y.start || x.end - y.end),
      };
    }
    case 'boxes': {
      const groups: { label: string; members: BoundingBox[]; annotators: Set<string> }[] = [];
      for (const a of answers) {
        for (const box of a.value.boxes ?? []) {
          let best: (typeof groups)[number] | undefined;
          let bestIou = SAME_OBJECT_IOU;
          for (const g of groups) {
            if (g.label !== box.label || g.annotators.has(a.annotator)) continue;
            const iou = boxIou(meanBox(g.members, g.label), box);
            if (iou >= bestIou) {
              best = g;
              bestIou = iou;
            }
          }
          if (best) {
            best.members.push(box);
            best.annotators.add(a.annotator);
          } else groups.push({ label: box.label, members: [box], annotators: new Set([a.annotator]) });
        }
      }
      return { boxes: groups.filter((g) => g.annotators.size > half).map((g) => meanBox(g.members, g.label)) };
    }
  }
}

function meanBox(boxes: readonly BoundingBox[], label: string): BoundingBox {
  const avg = (f: (b: BoundingBox) => number) => boxes.reduce((s, b) => s + f(b), 0) / boxes.length;
  return { x: avg((b) => b.x), y: avg((b) => b.y), width: avg((b) => b.width), height: avg((b) => b.height), label };
}
