import { z } from 'zod';
import {
  abTestMeans,
  abTestProportions,
  driftReport,
  meanArmOf,
  normalQuantile,
  peekingCheck,
  predictionDrift,
  sampleSizeMeans,
  sampleSizeProportions,
  studentTQuantile,
  type DriftColumn,
  type FeatureDrift,
  type Label,
} from '#platform/evaluation/index';
import { statement } from '#platform/db';
import type { JobHandler } from '#platform/queue';
import type { Deployment, RequestLogEntry } from '#shared/contracts/deploy';
import {
  AbTestInput,
  MonitorInput,
  SampleSizeInput,
  type AbResults,
  type AbTest,
  type AlertThresholds,
  type DriftCheck,
  type FeatureDriftResult,
  type Monitor,
  type MonitorAlert,
  type RequestLabel,
} from '#shared/contracts/evalkit-monitoring';
import type { Job } from '#shared/contracts/jobs';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { EvalkitDeps } from '../deps';
import type { AbOutcome, CheckTrigger, MonitorsService } from './api';
import { LoggedRows, type Prediction } from './logged-rows';

const CHECK_JOB = 'evalkit.drift-check';
/** How often the scheduler looks for due checks. */
const TICK_MS = 2000;
/** How long the scheduler waits after a failed check before queueing the monitor's next. */
const RETRY_FAILED_CHECK_MS = 60_000;
/** Request-log page size when reading it (the deploy API's maximum). */
const LOG_PAGE = 500;
/** Reference rows read at most. */
const MAX_REFERENCE_ROWS = 200_000;
/** Webhook tries and the waits between them. */
const WEBHOOK_RETRY_DELAYS_MS = [250, 1000];
const WEBHOOK_TIMEOUT_MS = 5000;
const TABLE_FILE = /\.(csv|tsv|jsonl|ndjson|parquet)$/i;
const DATASET_SOURCE = /^aidos:\/\/datasets\/([^/]+)\/versions\/([^/]+)$/;

interface MonitorRow {
  id: string;
  name: string;
  deployment_id: string;
  deployment_name: string;
  dataset: string;
  dataset_version: number;
  path: string;
  target: string | null;
  window_rows: number;
  every_requests: number | null;
  every_minutes: number | null;
  rule: Monitor['rule'];
  bins: number;
  alerts: string;
  webhook_url: string | null;
  last_check_at: number | null;
  last_request_id: string | null;
  pending_job_id: string | null;
  baseline_predictions: string | null;
  created_at: number;
}

interface AlertRow {
  id: string;
  monitor_id: string;
  monitor_name: string;
  check_id: string;
  at: number;
  message: string;
  reasons: string;
  webhook_status: MonitorAlert['webhookStatus'];
  webhook_attempts: number;
  webhook_error: string | null;
}

interface AbTestRow {
  id: string;
  name: string;
  metric: AbTest['metric'];
  arms: string;
  planned_per_arm: number | null;
  confidence: number;
  created_at: number;
}

/** The reference table's columns as read (strings, null for missing). */
interface Reference {
  key: string;
  columns: Map<string, (string | null)[]>;
}

/** The newest logged rows of a deployment's tabular requests. */
interface LoggedWindow {
  requests: number;
  rows: Record<string, unknown>[];
  /** Per row (null: the request did not ask for the model's prediction output). */
  predictions: (Prediction | null)[];
  /** Per row: its request and its index in that request. */
  origin: { requestId: string; index: number }[];
  lastRequestId: string | null;
}

function toMonitor(r: MonitorRow, lastFailure: Monitor['lastFailure']): Monitor {
  return {
    id: r.id,
    name: r.name,
    deploymentId: r.deployment_id,
    deployment: r.deployment_name,
    reference: { dataset: r.dataset, version: r.dataset_version, path: r.path },
    target: r.target,
    windowRows: r.window_rows,
    everyRequests: r.every_requests,
    everyMinutes: r.every_minutes,
    rule: r.rule,
    bins: r.bins,
    alerts: JSON.parse(r.alerts) as AlertThresholds,
    webhookUrl: r.webhook_url,
    lastCheckAt: r.last_check_at,
    pendingJobId: r.pending_job_id,
    lastFailure,
    createdAt: r.created_at,
  };
}

function toAlert(r: AlertRow): MonitorAlert {
  return {
    id: r.id,
    monitorId: r.monitor_id,
    monitor: r.monitor_name,
    checkId: r.check_id,
    at: r.at,
    message: r.message,
    reasons: JSON.parse(r.reasons) as string[],
    webhookStatus: r.webhook_status,
    webhookAttempts: r.webhook_attempts,
    webhookError: r.webhook_error,
  };
}

function toAbTest(r: AbTestRow): AbTest {
  return {
    id: r.id,
    name: r.name,
    metric: r.metric,
    arms: JSON.parse(r.arms) as AbTest['arms'],
    plannedPerArm: r.planned_per_arm,
    confidence: r.confidence,
    createdAt: r.created_at,
  };
}

function finiteNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function isNumericColumn(values: readonly (string | null)[]): boolean {
  let seen = false;
  for (const v of values) {
    if (v === null || v === '') continue;
    if (finiteNumber(v) === null) return false;
    seen = true;
  }
  return seen;
}

function numbersOf(values: readonly unknown[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    const n = finiteNumber(v);
    if (n !== null) out.push(n);
  }
  return out;
}

function labelsOf(values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) if (v !== null && v !== undefined && v !== '') out.push(String(v));
  return out;
}

function featureResult(f: FeatureDrift): FeatureDriftResult {
  return {
    name: f.name,
    kind: f.kind,
    referenceRows: f.referenceRows,
    currentRows: f.currentRows,
    psi: f.psi,
    jensenShannon: f.jensenShannon,
    ...(f.ks ? { ks: f.ks } : {}),
    ...(f.chiSquare ? { chiSquare: f.chiSquare } : {}),
    distribution: f.distribution,
    verdict: f.verdict,
    reason: f.reason,
  };
}

function round(v: number): string {
  return String(Number(v.toFixed(4)));
}

/** Why a check alerts under the monitor's thresholds (empty: it does not). */
function alertReasons(t: AlertThresholds, check: Omit<DriftCheck, 'alertReasons'>): string[] {
  const reasons: string[] = [];
  if (t.psi !== undefined) {
    for (const f of check.features) {
      if (f.psi > t.psi) reasons.push(`PSI of '${f.name}' ${round(f.psi)} > ${t.psi}`);
    }
  }
  if (t.driftedShare !== undefined && check.features.length > 0 && check.share >= t.driftedShare) {
    reasons.push(`${check.drifted.length} of ${check.features.length} features drifted (≥ ${t.driftedShare * 100}%)`);
  }
  if (t.predictionPsi !== undefined && check.prediction && check.prediction.psi > t.predictionPsi) {
    reasons.push(`prediction PSI ${round(check.prediction.psi)} > ${t.predictionPsi}`);
  }
  const perf = check.performance;
  if (t.accuracyBelow !== undefined && perf?.accuracy !== undefined && perf.accuracy < t.accuracyBelow) {
    reasons.push(`accuracy ${round(perf.accuracy)} < ${t.accuracyBelow} on ${perf.labelledRows} labelled rows`);
  }
  if (t.maeAbove !== undefined && perf?.mae !== undefined && perf.mae > t.maeAbove) {
    reasons.push(`MAE ${round(perf.mae)} > ${t.maeAbove} on ${perf.labelledRows} labelled rows`);
  }
  return reasons;
}

function checkWebhookUrl(url: string | null): void {
  if (url === null) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw AppError.invalid('webhookUrl', `'${url}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw AppError.invalid('webhookUrl', `must be an http or https URL, got ${parsed.protocol}`);
  }
}

/**
 * The arm a logged request belongs to: the arm of its deployment and the model version that answered it, else the
 * arm of its deployment without a version (with one arm per version of a canary deployment, or a versioned arm
 * beside a deployment-wide one, the version decides).
 */
function armOf(arms: readonly AbTest['arms'][number][], entry: RequestLogEntry): number {
  const exact = arms.findIndex((a) => a.deploymentId === entry.deploymentId && a.version === entry.modelVersion);
  return exact >= 0 ? exact : arms.findIndex((a) => a.deploymentId === entry.deploymentId && a.version === null);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Monitors implements MonitorsService {
  private readonly references = new Map<string, Reference>();
  private readonly logged = new LoggedRows();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(private readonly deps: EvalkitDeps) {}

  /** Its background work on the platform queue. */
  jobHandlers(): JobHandler[] {
    const handler: JobHandler<{ monitorId: string; trigger: CheckTrigger }> = {
      type: CHECK_JOB,
      description: 'A drift check of a deployment’s request log against its reference',
      payload: z.object({ monitorId: z.string(), trigger: z.enum(['manual', 'requests', 'schedule']) }),
      maxAttempts: 1,
      run: async ({ monitorId, trigger }, ctx) => {
        ctx.progress(0, 'reading the request log');
        const check = await this.runCheck(monitorId, trigger);
        // A failed check stays the monitor's pending job: the scheduler waits a while before trying again.
        statement(
          this.deps.db,
          'UPDATE evalkit_monitors SET pending_job_id = NULL WHERE id = ? AND pending_job_id = ?',
        ).run(monitorId, ctx.job.id);
        return { checkId: check.id, drifted: check.drifted, alert: check.alertReasons.length > 0 };
      },
    };
    return [handler as JobHandler];
  }

  // ---- monitors ----

  async createMonitor(raw: z.input<typeof MonitorInput>): Promise<Monitor> {
    const input = MonitorInput.parse(raw);
    const deployment = this.tabularDeployment(input.deployment);
    checkWebhookUrl(input.webhookUrl);
    const name = input.name ?? deployment.name;
    if (this.monitorRow(name)) throw new AppError('CONFLICT', `a monitor named '${name}' exists`, { field: 'name' });

    const lineage = this.trainingInputs(deployment);
    let datasetRef = input.dataset;
    let versionRef = input.datasetVersion;
    if (datasetRef === undefined) {
      if (!lineage.dataset) {
        throw AppError.invalid(
          'dataset',
          `no training dataset is known for '${deployment.name}' (its model version has no DataForge input in its lineage): give dataset and datasetVersion`,
        );
      }
      datasetRef = lineage.dataset.name;
      versionRef ??= lineage.dataset.version;
    }
    let version;
    try {
      version = this.deps.dataforge.resolveVersion(datasetRef, versionRef ?? 'latest');
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') {
        throw AppError.invalid(versionRef === undefined ? 'dataset' : 'datasetVersion', err.message);
      }
      throw err;
    }
    const versionText = String(version.number);
    const path = input.path ?? (await this.firstTable(datasetRef, versionText));
    const reference = await this.loadReference(datasetRef, version.number, path);
    const target = input.target ?? lineage.target;
    if (target !== null && target !== undefined && !reference.columns.has(target)) {
      if (input.target !== undefined)
        throw AppError.invalid('target', `the reference '${path}' has no column '${target}'`);
    }
    const effectiveTarget = target !== undefined && target !== null && reference.columns.has(target) ? target : null;
    const alerts = Object.values(input.alerts).some((v) => v !== undefined) ? input.alerts : { driftedShare: 0.5 };
    const id = newId();
    const now = Date.now();
    statement(
      this.deps.db,
      `INSERT INTO evalkit_monitors (id, name, deployment_id, deployment_name, dataset, dataset_version, path, target,
         window_rows, every_requests, every_minutes, rule, bins, alerts, webhook_url, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      name,
      deployment.id,
      deployment.name,
      this.deps.dataforge.getDataset(datasetRef).name,
      version.number,
      path,
      effectiveTarget,
      input.windowRows,
      input.everyRequests,
      input.everyMinutes,
      input.rule,
      input.bins,
      JSON.stringify(alerts),
      input.webhookUrl,
      now,
    );
    this.references.set(id, reference);
    return this.getMonitor(id);
  }

  listMonitors(deployment?: string): Monitor[] {
    const rows = statement(this.deps.db, 'SELECT * FROM evalkit_monitors ORDER BY name').all() as MonitorRow[];
    if (deployment === undefined) return rows.map((r) => this.view(r));
    const d = this.deployment(deployment, 'deployment');
    return rows.filter((r) => r.deployment_id === d.id).map((r) => this.view(r));
  }

  getMonitor(ref: string): Monitor {
    return this.view(this.requireMonitor(ref));
  }

  /** A monitor as clients see it: a failed check is no longer pending but its failure (the job stays referenced). */
  private view(row: MonitorRow): Monitor {
    const job = row.pending_job_id === null ? null : this.jobOrNull(row.pending_job_id);
    const pending = job !== null && (job.status === 'queued' || job.status === 'running');
    const lastFailure =
      job?.status === 'failed'
        ? { at: job.finishedAt ?? job.updatedAt, jobId: job.id, message: job.error?.message ?? 'the check failed' }
        : null;
    return toMonitor(pending ? row : { ...row, pending_job_id: null }, lastFailure);
  }

  deleteMonitor(ref: string): void {
    const row = this.requireMonitor(ref);
    if (row.pending_job_id) this.cancelQuietly(row.pending_job_id);
    statement(this.deps.db, 'DELETE FROM evalkit_monitors WHERE id = ?').run(row.id);
    this.references.delete(row.id);
  }

  queueCheck(ref: string, trigger: CheckTrigger = 'manual'): Job {
    const row = this.requireMonitor(ref);
    if (row.pending_job_id) {
      const pending = this.activeJob(row.pending_job_id);
      if (pending) return pending;
    }
    const job = this.deps.queue.enqueue({ type: CHECK_JOB, payload: { monitorId: row.id, trigger } });
    statement(this.deps.db, 'UPDATE evalkit_monitors SET pending_job_id = ? WHERE id = ?').run(job.id, row.id);
    return job;
  }

  checks(ref: string, page: { limit: number; cursor?: string | undefined }) {
    const row = this.requireMonitor(ref);
    const rows = statement(
      this.deps.db,
      `SELECT report FROM evalkit_drift_checks WHERE monitor_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,
    ).all(row.id, page.cursor ?? null, page.cursor ?? null, page.limit + 1) as { report: string }[];
    const items = rows.slice(0, page.limit).map((r) => JSON.parse(r.report) as DriftCheck);
    return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
  }

  alerts(query: { monitor?: string | undefined; limit: number }): MonitorAlert[] {
    const monitorId = query.monitor === undefined ? null : this.requireMonitor(query.monitor).id;
    const rows = statement(
      this.deps.db,
      `SELECT a.*, m.name AS monitor_name FROM evalkit_monitor_alerts a JOIN evalkit_monitors m ON m.id = a.monitor_id
       WHERE (? IS NULL OR a.monitor_id = ?) ORDER BY a.id DESC LIMIT ?`,
    ).all(monitorId, monitorId, query.limit) as AlertRow[];
    return rows.map(toAlert);
  }

  recordLabels(deploymentRef: string, labels: z.input<typeof RequestLabel>[]): number {
    const deployment = this.deployment(deploymentRef, 'deployment');
    const wanted = new Set(labels.map((l) => l.requestId));
    const found = this.findLogged([deployment.id], wanted);
    const tabularRequest = this.logged.reader(deployment);
    const labelKind = this.logged.labelKind(deployment);
    labels.forEach((label, i) => {
      const entry = found.get(label.requestId);
      if (!entry) {
        throw AppError.invalid(
          `labels[${i}].requestId`,
          `no request ${label.requestId} in the log of '${deployment.name}'`,
        );
      }
      const rows = tabularRequest(entry)?.rows.length ?? 1;
      if (Array.isArray(label.value) && label.value.length !== rows) {
        throw AppError.invalid(`labels[${i}].value`, `the request has ${rows} rows, got ${label.value.length} labels`);
      }
      if (!Array.isArray(label.value) && rows !== 1) {
        throw AppError.invalid(`labels[${i}].value`, `the request has ${rows} rows: give one label per row (a list)`);
      }
      // A label the model cannot predict would count as a miss for ever (and replaces a right one).
      const kind = labelKind(entry);
      const values = Array.isArray(label.value) ? label.value : [label.value];
      values.forEach((value, row) => {
        const field = Array.isArray(label.value) ? `labels[${i}].value[${row}]` : `labels[${i}].value`;
        if (kind && 'classes' in kind && !kind.classes.includes(String(value))) {
          throw AppError.invalid(
            field,
            `${JSON.stringify(value)} is not one of the model's classes (${kind.classes.join(', ')})`,
          );
        }
        if (kind && 'number' in kind && typeof value !== 'number') {
          throw AppError.invalid(
            field,
            `the model predicts numbers: give the true value as one, got ${JSON.stringify(value)}`,
          );
        }
      });
    });
    const insert = statement(
      this.deps.db,
      `INSERT INTO evalkit_request_labels (deployment_id, request_id, value, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (deployment_id, request_id) DO UPDATE SET value = excluded.value, at = excluded.at`,
    );
    const now = Date.now();
    this.deps.db.transaction(() => {
      for (const l of labels) insert.run(deployment.id, l.requestId, JSON.stringify(l.value), now);
    })();
    return labels.length;
  }

  async runCheck(monitorId: string, trigger: CheckTrigger): Promise<DriftCheck> {
    const m = this.requireMonitor(monitorId);
    const window = this.readWindow(m.deployment_id, m.window_rows);
    if (window.rows.length === 0) {
      throw AppError.invalid(
        'monitor',
        `'${m.deployment_name}' has logged no tabular requests yet (predict or v2 infer; untruncated, successful ones are read)`,
      );
    }
    const reference = await this.referenceOf(m);
    const options = { rule: m.rule, bins: m.bins };
    const columns: DriftColumn[] = [];
    for (const [name, refValues] of reference.columns) {
      if (name === m.target) continue;
      const current = window.rows.map((r) => r[name]);
      if (!window.rows.some((r) => name in r)) continue;
      if (isNumericColumn(refValues)) {
        const ref = numbersOf(refValues);
        const cur = numbersOf(current);
        if (ref.length > 0 && cur.length > 0) columns.push({ name, kind: 'numeric', reference: ref, current: cur });
      } else {
        const ref = labelsOf(refValues);
        const cur = labelsOf(current);
        if (ref.length > 0 && cur.length > 0) columns.push({ name, kind: 'categorical', reference: ref, current: cur });
      }
    }
    const report = driftReport(columns, options);

    const answered = window.predictions.filter((p): p is Prediction => p !== null);
    const predicted: Label[] = answered.map((p) => ('label' in p ? p.label : p.value));
    const numericPredictions = answered.every((p) => 'value' in p);
    let predictionReference: DriftCheck['predictionReference'] = null;
    let referencePredictions: Label[] | null = null;
    if (m.target !== null) {
      const values = reference.columns.get(m.target) ?? [];
      referencePredictions = numericPredictions ? numbersOf(values) : labelsOf(values);
      predictionReference = 'target';
    } else {
      if (m.baseline_predictions === null) {
        statement(this.deps.db, 'UPDATE evalkit_monitors SET baseline_predictions = ? WHERE id = ?').run(
          JSON.stringify(predicted),
          m.id,
        );
      }
      referencePredictions =
        m.baseline_predictions === null ? predicted : (JSON.parse(m.baseline_predictions) as Label[]);
      predictionReference = 'first-window';
    }
    const prediction =
      referencePredictions.length > 0 && predicted.length > 0
        ? featureResult(
            predictionDrift(referencePredictions as number[], predicted as number[], {
              ...options,
              kind: numericPredictions ? 'numeric' : 'categorical',
            }),
          )
        : null;

    const body: Omit<DriftCheck, 'alertReasons'> = {
      id: newId(),
      monitorId: m.id,
      at: Date.now(),
      trigger,
      requests: window.requests,
      rows: window.rows.length,
      lastRequestId: window.lastRequestId,
      features: report.features.map(featureResult),
      drifted: report.features.filter((f) => f.verdict === 'drift').map((f) => f.name),
      share: report.share,
      datasetDrift: report.datasetDrift,
      prediction,
      predictionReference,
      performance: this.performance(m.deployment_id, window),
    };
    const check: DriftCheck = { ...body, alertReasons: alertReasons(JSON.parse(m.alerts) as AlertThresholds, body) };

    let alert: MonitorAlert | null = null;
    this.deps.db.transaction(() => {
      statement(this.deps.db, 'INSERT INTO evalkit_drift_checks (id, monitor_id, at, report) VALUES (?, ?, ?, ?)').run(
        check.id,
        m.id,
        check.at,
        JSON.stringify(check),
      );
      statement(this.deps.db, 'UPDATE evalkit_monitors SET last_check_at = ?, last_request_id = ? WHERE id = ?').run(
        check.at,
        window.lastRequestId,
        m.id,
      );
      if (check.alertReasons.length > 0) {
        const id = newId();
        const message = `Drift monitor '${m.name}' on '${m.deployment_name}': ${check.alertReasons.join('; ')}`;
        statement(
          this.deps.db,
          `INSERT INTO evalkit_monitor_alerts (id, monitor_id, check_id, at, message, reasons, webhook_status)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          id,
          m.id,
          check.id,
          check.at,
          message,
          JSON.stringify(check.alertReasons),
          m.webhook_url ? 'pending' : 'none',
        );
        alert = this.alertById(id);
      }
    })();
    const { features: _features, prediction: _prediction, ...summary } = check;
    this.deps.bus.emit('evalkit.drift.checked', { check: summary });
    if (alert) {
      this.deps.bus.emit('evalkit.alert.raised', { alert });
      if (m.webhook_url) await this.deliverWebhook(m, check, alert);
    }
    return check;
  }

  // ---- A/B tests ----

  createAbTest(raw: z.input<typeof AbTestInput>): AbTest {
    const input = AbTestInput.parse(raw);
    const arms = input.arms.map((arm, i) => {
      const d = this.deployment(arm.deployment, `arms[${i}].deployment`);
      if (arm.version !== null) this.checkArmVersion(d, arm.version, `arms[${i}].version`);
      return { name: arm.name ?? (i === 0 ? 'A' : 'B'), deploymentId: d.id, deployment: d.name, version: arm.version };
    });
    const [a, b] = arms as [AbTest['arms'][number], AbTest['arms'][number]];
    if (a.deploymentId === b.deploymentId && a.version === b.version) {
      throw AppError.invalid(
        'arms',
        'the two arms are the same deployment and version: give two deployments or two versions',
      );
    }
    if (a.name === b.name) throw AppError.invalid('arms[1].name', `both arms are named '${a.name}'`);
    if (this.abRow(input.name)) {
      throw new AppError('CONFLICT', `an A/B test named '${input.name}' exists`, { field: 'name' });
    }
    const id = newId();
    statement(
      this.deps.db,
      `INSERT INTO evalkit_abtests (id, name, metric, arms, planned_per_arm, confidence, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(id, input.name, input.metric, JSON.stringify(arms), input.plannedPerArm, input.confidence, Date.now());
    return toAbTest(this.requireAb(id));
  }

  listAbTests(): AbTest[] {
    return (statement(this.deps.db, 'SELECT * FROM evalkit_abtests ORDER BY id DESC').all() as AbTestRow[]).map(
      toAbTest,
    );
  }

  deleteAbTest(ref: string): void {
    statement(this.deps.db, 'DELETE FROM evalkit_abtests WHERE id = ?').run(this.requireAb(ref).id);
  }

  recordOutcomes(ref: string, outcomes: AbOutcome[]): { recorded: number; byArm: Record<string, number> } {
    const test = toAbTest(this.requireAb(ref));
    const requestIds = new Set(outcomes.flatMap((o) => (o.requestId ? [o.requestId] : [])));
    const logged = requestIds.size
      ? this.findLogged([...new Set(test.arms.map((a) => a.deploymentId))], requestIds)
      : new Map<string, RequestLogEntry>();
    const rows = outcomes.map((o, i) => {
      if ((o.arm === undefined) === (o.requestId === undefined)) {
        throw AppError.invalid(`outcomes[${i}]`, 'give either arm (its name) or requestId (a logged request)');
      }
      if (test.metric === 'conversion' && o.value !== 0 && o.value !== 1) {
        throw AppError.invalid(`outcomes[${i}].value`, `a conversion outcome is 0 or 1, got ${o.value}`);
      }
      if (!Number.isFinite(o.value)) throw AppError.invalid(`outcomes[${i}].value`, 'must be a finite number');
      let arm: number;
      if (o.arm !== undefined) {
        arm = test.arms.findIndex((a) => a.name === o.arm);
        if (arm < 0) {
          throw AppError.invalid(
            `outcomes[${i}].arm`,
            `no arm '${o.arm}' (arms: ${test.arms.map((a) => a.name).join(', ')})`,
          );
        }
      } else {
        const entry = logged.get(o.requestId as string);
        arm = entry ? armOf(test.arms, entry) : -1;
        if (arm < 0) {
          throw AppError.invalid(
            `outcomes[${i}].requestId`,
            `request ${o.requestId} was not logged by either arm (${test.arms.map((a) => a.deployment).join(', ')})`,
          );
        }
      }
      return { arm, value: o.value, requestId: o.requestId ?? null };
    });
    const insert = statement(
      this.deps.db,
      `INSERT INTO evalkit_ab_outcomes (id, test_id, arm, value, request_id, at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (test_id, request_id) WHERE request_id IS NOT NULL DO UPDATE SET arm = excluded.arm, value = excluded.value`,
    );
    const now = Date.now();
    this.deps.db.transaction(() => {
      for (const r of rows) insert.run(newId(), test.id, r.arm, r.value, r.requestId, now);
    })();
    const byArm: Record<string, number> = {};
    for (const a of test.arms) byArm[a.name] = 0;
    for (const r of rows) byArm[test.arms[r.arm]!.name]!++;
    return { recorded: rows.length, byArm };
  }

  abResults(ref: string): AbResults {
    const test = toAbTest(this.requireAb(ref));
    const values: number[][] = test.arms.map(() => []);
    const rows = statement(
      this.deps.db,
      'SELECT arm, value FROM evalkit_ab_outcomes WHERE test_id = ? ORDER BY id',
    ).all(test.id) as { arm: number; value: number }[];
    for (const r of rows) values[r.arm]?.push(r.value);
    const [va, vb] = values as [number[], number[]];
    const q = normalQuantile(1 - (1 - test.confidence) / 2);
    const arms = test.arms.map((arm, i) => {
      const v = values[i]!;
      const n = v.length;
      if (n === 0) return { name: arm.name, n, mean: null, interval: null };
      const { mean, variance } = meanArmOf(v, arm.name);
      let half: number | null;
      if (test.metric === 'conversion') half = q * Math.sqrt((mean * (1 - mean)) / n);
      else half = n > 1 ? studentTQuantile(1 - (1 - test.confidence) / 2, n - 1) * Math.sqrt(variance / n) : null;
      return {
        name: arm.name,
        n,
        mean,
        interval: half === null ? null : ([mean - half, mean + half] as [number, number]),
      };
    });
    const planned = test.plannedPerArm ?? undefined;
    const peeking = peekingCheck(planned, va.length, vb.length);
    const base = { test, arms, peeking };
    const minRows = test.metric === 'conversion' ? 1 : 2;
    if (va.length < minRows || vb.length < minRows) {
      return {
        ...base,
        frequentist: null,
        bayesian: null,
        reason: `each arm needs at least ${minRows} outcome${minRows > 1 ? 's' : ''} (have ${va.length} and ${vb.length})`,
      };
    }
    try {
      const options = { confidence: test.confidence, ...(planned === undefined ? {} : { plannedPerArm: planned }) };
      const result =
        test.metric === 'conversion'
          ? abTestProportions(
              { successes: va.filter((v) => v === 1).length, n: va.length },
              { successes: vb.filter((v) => v === 1).length, n: vb.length },
              options,
            )
          : abTestMeans(meanArmOf(va, 'A'), meanArmOf(vb, 'B'), options);
      const t = result.test;
      return {
        ...base,
        frequentist: {
          method: test.metric === 'conversion' ? 'two-proportion z-test' : "Welch's t-test",
          difference: t.difference,
          relativeDifference: t.relativeDifference,
          statistic: t.statistic,
          ...(t.df === undefined ? {} : { df: t.df }),
          pValue: t.pValue,
          interval: t.interval,
          confidence: t.confidence,
          significant: t.significant,
        },
        bayesian: { probabilityBBeatsA: result.probabilityToBeat.probability, method: result.probabilityToBeat.method },
        reason: null,
      };
    } catch (err) {
      // Both arms without variation: no test is defined; say so rather than fail the page.
      if (err instanceof AppError && err.code === 'INVALID_ARGUMENT') {
        return { ...base, frequentist: null, bayesian: null, reason: err.message };
      }
      throw err;
    }
  }

  sampleSize(raw: z.input<typeof SampleSizeInput>): { perArm: number; total: number } {
    const input = SampleSizeInput.parse(raw);
    const options = { power: input.power, alpha: input.alpha };
    let perArm: number;
    if (input.metric === 'conversion') {
      if (input.baseline === undefined) throw AppError.invalid('baseline', 'the baseline conversion rate is required');
      if (!(input.baseline > 0 && input.baseline < 1)) {
        throw AppError.invalid('baseline', `must be in (0, 1), got ${input.baseline}`);
      }
      perArm = sampleSizeProportions(input.baseline, input.mde, { ...options, relative: input.relative });
    } else {
      if (input.sd === undefined) throw AppError.invalid('sd', "the metric's standard deviation is required");
      if (!(input.sd > 0)) throw AppError.invalid('sd', `must be > 0, got ${input.sd}`);
      if (input.mde === 0) throw AppError.invalid('mde', 'the minimum detectable effect must not be 0');
      perArm = sampleSizeMeans(input.sd, input.mde, options);
    }
    return { perArm, total: 2 * perArm };
  }

  // ---- scheduling ----

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Queues the checks that are due: by time since the last check, or by requests logged since it. */
  private tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const rows = statement(
        this.deps.db,
        'SELECT * FROM evalkit_monitors WHERE every_requests IS NOT NULL OR every_minutes IS NOT NULL',
      ).all() as MonitorRow[];
      const now = Date.now();
      for (const m of rows) {
        try {
          if (m.pending_job_id) {
            const job = this.jobOrNull(m.pending_job_id);
            if (job && (job.status === 'queued' || job.status === 'running')) continue;
            if (job?.status === 'failed' && now - (job.finishedAt ?? now) < RETRY_FAILED_CHECK_MS) continue;
          }
          // Nothing logged since the last check: it would say the same again.
          const fresh = this.newRequests(m, Math.max(1, m.every_requests ?? 1));
          const byTime =
            fresh > 0 &&
            m.every_minutes !== null &&
            now - (m.last_check_at ?? m.created_at) >= m.every_minutes * 60_000;
          const byRequests = !byTime && m.every_requests !== null && fresh >= m.every_requests;
          if (byTime || byRequests) {
            statement(this.deps.db, 'UPDATE evalkit_monitors SET pending_job_id = NULL WHERE id = ?').run(m.id);
            this.queueCheck(m.id, byTime ? 'schedule' : 'requests');
          }
        } catch (err) {
          // A deleted deployment, say: the other monitors still get their checks.
          this.deps.logger.warn({ err, monitor: m.name }, 'drift monitor scheduling failed');
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Tabular requests logged since the last check, counted up to `cap`. */
  private newRequests(m: MonitorRow, cap: number): number {
    const tabularRequest = this.logged.reader(this.deps.deploy.get(m.deployment_id));
    let count = 0;
    let cursor: string | undefined;
    for (;;) {
      const { items, nextCursor } = this.deps.deploy.logs(m.deployment_id, { limit: LOG_PAGE, cursor });
      for (const e of items) {
        if (m.last_request_id !== null && e.id <= m.last_request_id) return count;
        if (tabularRequest(e)) count++;
        if (count >= cap) return count;
      }
      if (!nextCursor) return count;
      cursor = nextCursor;
    }
  }

  private jobOrNull(id: string): Job | null {
    try {
      return this.deps.queue.get(id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  private activeJob(id: string): Job | null {
    const job = this.jobOrNull(id);
    return job && (job.status === 'queued' || job.status === 'running') ? job : null;
  }

  private cancelQuietly(jobId: string): void {
    if (!this.activeJob(jobId)) return;
    try {
      this.deps.queue.cancel(jobId);
    } catch (err) {
      this.deps.logger.warn({ err, job: jobId }, 'could not cancel a drift check');
    }
  }

  // ---- helpers ----

  private monitorRow(ref: string): MonitorRow | undefined {
    return statement(this.deps.db, 'SELECT * FROM evalkit_monitors WHERE id = ? OR name = ?').get(ref, ref) as
      MonitorRow | undefined;
  }

  private requireMonitor(ref: string): MonitorRow {
    const row = this.monitorRow(ref);
    if (!row) throw AppError.notFound('monitor', ref);
    return row;
  }

  private abRow(ref: string): AbTestRow | undefined {
    return statement(this.deps.db, 'SELECT * FROM evalkit_abtests WHERE id = ? OR name = ?').get(ref, ref) as
      AbTestRow | undefined;
  }

  private requireAb(ref: string): AbTestRow {
    const row = this.abRow(ref);
    if (!row) throw AppError.notFound('A/B test', ref);
    return row;
  }

  private alertById(id: string): MonitorAlert {
    return toAlert(
      statement(
        this.deps.db,
        `SELECT a.*, m.name AS monitor_name FROM evalkit_monitor_alerts a JOIN evalkit_monitors m ON m.id = a.monitor_id
         WHERE a.id = ?`,
      ).get(id) as AlertRow,
    );
  }

  /** A deployment by reference, an unknown one being bad input naming `field`. */
  private deployment(ref: string, field: string): Deployment {
    try {
      return this.deps.deploy.get(ref);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw AppError.invalid(field, `no deployment '${ref}'`);
      throw err;
    }
  }

  private tabularDeployment(ref: string): Deployment {
    const d = this.deployment(ref, 'deployment');
    if (d.runtime !== 'onnx') {
      throw AppError.invalid(
        'deployment',
        `'${d.name}' is a ${d.runtime.toUpperCase()} deployment: drift monitors read tabular rows, served by ONNX deployments with a tabular preprocessing`,
      );
    }
    const tabularKind = d.modelKind === null || d.modelKind.startsWith('tabular-');
    if (!d.source.preprocessing || !tabularKind) {
      throw AppError.invalid(
        'deployment',
        `'${d.name}' is not a tabular model (it serves ${d.modelKind ?? 'tensors'}): drift monitors compare tabular rows`,
      );
    }
    return d;
  }

  /** An arm's version: one of the deployment's model's registered versions (served now or later, as a canary). */
  private checkArmVersion(d: Deployment, version: number, field: string): void {
    if (d.source.kind !== 'model-version') {
      throw AppError.invalid(field, `'${d.name}' serves a model file, which has no versions: leave version out`);
    }
    try {
      this.deps.modelhub.registry.version(d.source.model, version);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') {
        throw AppError.invalid(field, `'${d.name}' serves model '${d.source.model}', which has no version ${version}`);
      }
      throw err;
    }
  }

  /** The DataForge version and target column the deployed model version was trained on, when lineage knows them. */
  private trainingInputs(d: Deployment): { dataset: { name: string; version: string } | null; target: string | null } {
    if (d.source.kind !== 'model-version') return { dataset: null, target: null };
    const version = this.deps.modelhub.registry.version(d.source.model, d.source.version);
    if (!version.runId) return { dataset: null, target: null };
    let run;
    try {
      run = this.deps.modelhub.tracking.run(version.runId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return { dataset: null, target: null };
      throw err;
    }
    const target = run.params.find((p) => p.key === 'target')?.value ?? null;
    for (const input of run.inputs) {
      const m = DATASET_SOURCE.exec(input.source);
      if (m) return { dataset: { name: decodeURIComponent(m[1]!), version: decodeURIComponent(m[2]!) }, target };
    }
    return { dataset: null, target };
  }

  private async firstTable(dataset: string, version: string): Promise<string> {
    let after: string | undefined;
    for (;;) {
      const { items, next } = await this.deps.dataforge.files(dataset, version, { prefix: '', limit: 1000, after });
      const table = items.find((f) => TABLE_FILE.test(f.path));
      if (table) return table.path;
      if (!next) break;
      after = next;
    }
    throw AppError.invalid('path', `v${version} of '${dataset}' has no table file (CSV, TSV, JSON lines or Parquet)`);
  }

  private async loadReference(dataset: string, version: number, path: string): Promise<Reference> {
    let page;
    try {
      page = await this.deps.dataforge.rows(dataset, String(version), {
        path,
        offset: 0,
        limit: MAX_REFERENCE_ROWS,
        filters: [],
      });
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw AppError.invalid('path', err.message);
      throw err;
    }
    const columns = new Map<string, (string | null)[]>();
    page.columns.forEach((name, c) =>
      columns.set(
        name,
        page.rows.map((r) => r[c] ?? null),
      ),
    );
    return { key: `${dataset}@${version}/${path}`, columns };
  }

  private async referenceOf(m: MonitorRow): Promise<Reference> {
    const key = `${m.dataset}@${m.dataset_version}/${m.path}`;
    const cached = this.references.get(m.id);
    if (cached?.key === key) return cached;
    const reference = await this.loadReference(m.dataset, m.dataset_version, m.path);
    this.references.set(m.id, reference);
    return reference;
  }

  /** The newest `windowRows` rows of tabular requests, newest request first. */
  private readWindow(deploymentId: string, windowRows: number): LoggedWindow {
    const tabularRequest = this.logged.reader(this.deps.deploy.get(deploymentId));
    const window: LoggedWindow = { requests: 0, rows: [], predictions: [], origin: [], lastRequestId: null };
    let cursor: string | undefined;
    for (;;) {
      const { items, nextCursor } = this.deps.deploy.logs(deploymentId, { limit: LOG_PAGE, cursor });
      for (const entry of items) {
        const request = tabularRequest(entry);
        if (!request) continue;
        window.lastRequestId ??= entry.id;
        window.requests++;
        request.rows.forEach((row, index) => {
          window.rows.push(row);
          window.predictions.push(request.predictions[index] ?? null);
          window.origin.push({ requestId: entry.id, index });
        });
        if (window.rows.length >= windowRows) return window;
      }
      if (!nextCursor) return window;
      cursor = nextCursor;
    }
  }

  /** Accuracy (classifiers) or MAE (regressors) over the window's labelled rows. */
  private performance(deploymentId: string, window: LoggedWindow): DriftCheck['performance'] {
    const ids = [...new Set(window.origin.map((o) => o.requestId))];
    const labelled = statement(
      this.deps.db,
      `SELECT request_id, value FROM evalkit_request_labels
       WHERE deployment_id = ? AND request_id IN (SELECT value FROM json_each(?))`,
    ).all(deploymentId, JSON.stringify(ids)) as { request_id: string; value: string }[];
    if (labelled.length === 0) return null;
    const labels = new Map(labelled.map((l) => [l.request_id, JSON.parse(l.value) as Label | Label[]]));
    let rows = 0;
    let correct = 0;
    let absError = 0;
    let regression = false;
    window.origin.forEach((o, i) => {
      const label = labels.get(o.requestId);
      if (label === undefined) return;
      const truth = Array.isArray(label) ? label[o.index] : label;
      if (truth === undefined) return;
      const p = window.predictions[i];
      if (!p) return;
      rows++;
      if ('label' in p) {
        if (String(p.label) === String(truth)) correct++;
      } else {
        regression = true;
        absError += Math.abs(p.value - Number(truth));
      }
    });
    if (rows === 0) return null;
    return regression ? { labelledRows: rows, mae: absError / rows } : { labelledRows: rows, accuracy: correct / rows };
  }

  /** Log entries with these ids among the deployments' request logs (paged until all are found or the logs end). */
  private findLogged(deploymentIds: string[], ids: Set<string>): Map<string, RequestLogEntry> {
    const found = new Map<string, RequestLogEntry>();
    const oldest = [...ids].sort()[0];
    for (const deploymentId of deploymentIds) {
      let cursor: string | undefined;
      for (;;) {
        const { items, nextCursor } = this.deps.deploy.logs(deploymentId, { limit: LOG_PAGE, cursor });
        for (const e of items) if (ids.has(e.id)) found.set(e.id, e);
        // Newest first: past the oldest wanted id nothing more can match.
        if (!nextCursor || found.size === ids.size || (oldest !== undefined && nextCursor < oldest)) break;
        cursor = nextCursor;
      }
    }
    return found;
  }

  /** POSTs the alert; retried, and recorded on the alert either way. */
  private async deliverWebhook(m: MonitorRow, check: DriftCheck, alert: MonitorAlert): Promise<void> {
    const url = m.webhook_url as string;
    const body = JSON.stringify({
      type: 'evalkit.alert',
      alert,
      monitor: { id: m.id, name: m.name, deployment: m.deployment_name },
      check: { id: check.id, at: check.at, drifted: check.drifted, share: check.share, rows: check.rows },
    });
    const update = statement(
      this.deps.db,
      'UPDATE evalkit_monitor_alerts SET webhook_status = ?, webhook_attempts = ?, webhook_error = ? WHERE id = ?',
    );
    let lastError = '';
    for (let attempt = 1; attempt <= WEBHOOK_RETRY_DELAYS_MS.length + 1; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        await res.body?.cancel();
        if (res.ok) {
          update.run('delivered', attempt, null, alert.id);
          return;
        }
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      }
      update.run('pending', attempt, lastError, alert.id);
      const delay = WEBHOOK_RETRY_DELAYS_MS[attempt - 1];
      if (delay !== undefined) await sleep(delay);
    }
    update.run('failed', WEBHOOK_RETRY_DELAYS_MS.length + 1, lastError, alert.id);
    this.deps.logger.warn({ monitor: m.name, alert: alert.id, error: lastError }, 'alert webhook failed');
  }
}
