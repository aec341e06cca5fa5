import { QUALITY_CHECKS, type QualityFinding } from '#shared/contracts/dataforge';

type Check = QualityFinding['check'];

/** How each check is named on screen. */
export const CHECK_LABELS: Record<Check, string> = {
  missing: 'Missing values',
  duplicates: 'Duplicate rows',
  near_duplicates: 'Near-duplicate rows',
  constant: 'Constant columns',
  outliers: 'Outliers',
  class_imbalance: 'Class imbalance',
  label_issues: 'Likely label errors',
  schema_drift: 'Schema drift',
  pii: 'Personal data (PII)',
};

export type ScoreBand = 'good' | 'fair' | 'poor';

/** A score's colour: 90 and up is good, 70 and up needs a look, below is poor. */
export function scoreBand(score: number): ScoreBand {
  if (score >= 90) return 'good';
  return score >= 70 ? 'fair' : 'poor';
}

const SEVERITY_RANK: Record<QualityFinding['severity'], number> = { error: 0, warning: 1, info: 2 };

/**
 * Findings grouped by check: the groups with the worst findings first (then in the checks' own order), and
 * within a group errors before warnings before notes, the most rows first.
 */
export function findingGroups(findings: readonly QualityFinding[]): { check: Check; findings: QualityFinding[] }[] {
  const byCheck = new Map<Check, QualityFinding[]>();
  for (const f of findings) byCheck.set(f.check, [...(byCheck.get(f.check) ?? []), f]);
  const groups = [...byCheck.entries()].map(([check, list]) => ({
    check,
    findings: [...list].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.count - a.count),
  }));
  const worst = (g: { findings: QualityFinding[] }) => Math.min(...g.findings.map((f) => SEVERITY_RANK[f.severity]));
  return groups.sort(
    (a, b) => worst(a) - worst(b) || QUALITY_CHECKS.indexOf(a.check) - QUALITY_CHECKS.indexOf(b.check),
  );
}
