import type { Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import {
  hasEnded,
  SweepSpec,
  TrainingJobSpec,
  type Sweep,
  type SweepState,
  type SweepTrial,
  type TrainingJob,
  type TrainingJobInput,
} from '#shared/contracts/trainos';
import { BuiltinTrainerParams } from '#shared/contracts/builtin-trainer';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { ParamSet } from '#shared/sweep-space';
import { earlyStopper, type EarlyStopper } from './early-stopping';
import type { TrainingJobs } from './jobs';
import { searchAlgorithm, type Trial } from './sweep-search';
import type { TrainingTemplates } from './templates';

interface SweepRow {
  id: string;
  name: string;
  spec: string;
  state: SweepState;
  run_id: string | null;
  reason: string | null;
  created_at: number;
  ended_at: number | null;
}

interface TrialRow {
  sweep_id: string;
  number: number;
  job_id: string;
  params: string;
  state: SweepTrial['state'];
  value: number | null;
  step: number | null;
  reason: string | null;
}

/** ModelHub as sweeps need it: the parent run, the objective's points of a trial's run, the best value so far. */
export interface SweepRuns {
  startParent(experiment: string, name: string, sweepId: string, params: Record<string, string>): string;
  /** The run's points of `key` after `afterStep` (all when null), in step order. */
  pointsAfter(runId: string, key: string, afterStep: number | null): { step: number; value: number }[];
  logMetric(runId: string, key: string, value: number, step: number): void;
  end(runId: string, state: SweepState): void;
}

export interface TrainingSweepsDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  jobs: TrainingJobs;
  templates: TrainingTemplates;
  runs: SweepRuns;
}

const FINAL_TRIAL_STATES: ReadonlySet<SweepTrial['state']> = new Set(['completed', 'failed', 'pruned', 'cancelled']);
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

function experimentOf(spec: SweepSpec): string {
  return spec.job?.experiment ?? spec.template?.experiment ?? 'Default';
}

function substitute(text: string, params: ParamSet): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** The trial's values that name settings of the built-in trainers. */
function trainerSettings(params: ParamSet): ParamSet {
  const settings = BuiltinTrainerParams.shape;
  return Object.fromEntries(Object.entries(params).filter(([name]) => Object.hasOwn(settings, name)));
}

/** Whether `a` is a better objective value than `b` for the goal; anything not finite is the worst. */
function isBetter(a: number, b: number | null, goal: 'minimize' | 'maximize'): boolean {
  if (!Number.isFinite(a)) return false;
  if (b === null || !Number.isFinite(b)) return true;
  return goal === 'minimize' ? a < b : a > b;
}

/**
 * Hyper-parameter sweeps: each trial is a training job (with its run a child of the sweep's), submitted `parallel`
 * at a time with parameters from the search (grid, random, TPE), judged by the last value of the objective metric
 * its run logs, and stopped early when the stopper says so. Everything is in the database, so a restart goes on
 * where it stopped: the search is a function of the trials so far, the stopper is rebuilt from its reports.
 */
export class TrainingSweeps {
  private readonly stoppers = new Map<string, EarlyStopper>();
  private unsubscribe: (() => void)[] = [];
  /** Sweeps being filled or updated, one at a time each (events arrive while a trial is submitted). */
  private readonly busy = new Map<string, Promise<void>>();

  constructor(private readonly deps: TrainingSweepsDeps) {}

  /** Follows trial jobs and their metrics, catches up on what happened while the app was stopped. */
  start(): void {
    this.unsubscribe = [
      this.deps.bus.on('training.job.updated', (e) => {
        const { job } = e.data as { job: TrainingJob };
        this.onJobUpdated(job);
      }),
      this.deps.bus.on('run.metrics', (e) => {
        const { runId, keys } = e.data as { runId: string; keys: string[] };
        this.onRunMetrics(runId, keys);
      }),
    ];
    const running = this.deps.db
      .prepare("SELECT id FROM trainos_sweeps WHERE state = 'running'")
      .pluck()
      .all() as string[];
    for (const id of running) {
      this.serialize(id, () => {
        for (const trial of this.trialRows(id)) {
          if (FINAL_TRIAL_STATES.has(trial.state)) continue;
          const job = this.deps.jobs.get(trial.job_id);
          this.applyJob(trial, job);
        }
        this.fill(id);
      });
    }
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  /** Resolves once no sweep is being updated (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.busy.size > 0) await Promise.all(this.busy.values());
  }

  create(input: SweepSpec): Sweep {
    const spec = SweepSpec.parse(input);
    // The first suggestion makes a real trial spec: a template that refuses the values fails the sweep's creation.
    const algorithm = searchAlgorithm(spec.algorithm, spec.space, this.searchOptions(spec));
    const first = algorithm.suggest([]);
    if (first === null) throw AppError.invalid('space', 'gives no trial');
    if (spec.template) {
      const template = this.deps.templates.list().find((t) => t.template.id === spec.template?.template);
      if (!template) throw new AppError('NOT_FOUND', `training template '${spec.template.template}' does not exist`);
      for (const name of Object.keys(spec.space)) {
        if (!template.template.params.some((p) => p.name === name)) {
          throw AppError.invalid(`space.${name}`, `template '${template.template.id}' has no parameter '${name}'`);
        }
      }
    }
    this.trialSpec(spec, first, 'check', 0, null);
    const id = newId();
    const runId = this.deps.runs.startParent(experimentOf(spec), spec.name, id, {
      'sweep.algorithm': spec.algorithm,
      'sweep.objective': `${spec.objective.goal} ${spec.objective.metric}`,
      'sweep.space': JSON.stringify(spec.space),
      'sweep.max_trials': String(spec.maxTrials),
      'sweep.early_stopping': spec.earlyStopping.type,
    });
    this.deps.db
      .prepare(
        `INSERT INTO trainos_sweeps (id, name, spec, state, run_id, created_at) VALUES (?, ?, ?, 'running', ?, ?)`,
      )
      .run(id, spec.name, JSON.stringify(spec), runId, Date.now());
    this.fill(id);
    return this.get(id);
  }

  get(id: string): Sweep {
    const row = this.deps.db.prepare('SELECT * FROM trainos_sweeps WHERE id = ?').get(id) as SweepRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `sweep ${id} does not exist`, { sweep: id });
    return this.toSweep(row);
  }

  list(query: { limit: number; cursor?: string | undefined }): { items: Sweep[]; nextCursor: string | null } {
    const rows = this.deps.db
      .prepare('SELECT * FROM trainos_sweeps WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?')
      .all(query.cursor ?? null, query.cursor ?? null, query.limit + 1) as SweepRow[];
    const items = rows.slice(0, query.limit).map((r) => this.toSweep(r));
    return { items, nextCursor: rows.length > query.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  /** No more trials; the running ones are cancelled. */
  async cancel(id: string): Promise<Sweep> {
    const sweep = this.get(id);
    if (sweep.state !== 'running') return sweep;
    this.end(id, 'cancelled', 'cancelled');
    for (const trial of sweep.trials) {
      if (trial.state === 'queued' || trial.state === 'running') await this.deps.jobs.cancel(trial.jobId);
    }
    return this.get(id);
  }

  private toSweep(row: SweepRow): Sweep {
    const spec = JSON.parse(row.spec) as SweepSpec;
    const trials = this.trialRows(row.id).map((t): SweepTrial => ({
      number: t.number,
      jobId: t.job_id,
      runId: this.deps.jobs.get(t.job_id).runId,
      params: JSON.parse(t.params) as ParamSet,
      state: t.state,
      value: t.value,
      step: t.step,
      reason: t.reason,
    }));
    let best: SweepTrial | undefined;
    for (const t of trials) {
      if (t.state !== 'completed' || t.value === null) continue;
      if (!best || isBetter(t.value, best.value, spec.objective.goal)) best = t;
    }
    return {
      id: row.id,
      name: row.name,
      spec,
      state: row.state,
      runId: row.run_id,
      bestTrial: best?.number ?? null,
      trials,
      reason: row.reason,
      createdAt: row.created_at,
      endedAt: row.ended_at,
    };
  }

  private trialRows(sweepId: string): TrialRow[] {
    return this.deps.db
      .prepare('SELECT * FROM trainos_sweep_trials WHERE sweep_id = ? ORDER BY number')
      .all(sweepId) as TrialRow[];
  }

  private searchOptions(spec: SweepSpec) {
    return {
      seed: spec.seed,
      goal: spec.objective.goal,
      ...(spec.gridPoints ? { gridPoints: spec.gridPoints } : {}),
    };
  }

  /** The job of trial `number` with `params`: placeholders filled in, a child run, the values as run params. */
  private trialSpec(spec: SweepSpec, params: ParamSet, sweepId: string, number: number, parentRunId: string | null) {
    const asText = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
    let base: TrainingJobInput;
    if (spec.template) {
      base = this.deps.templates.jobSpec({ ...spec.template, params: { ...spec.template.params, ...params } });
    } else {
      const job = spec.job as TrainingJobSpec;
      base = {
        ...job,
        ...(job.command ? { command: job.command.map((arg) => substitute(arg, params)) } : {}),
        // A built-in trainer takes the trial's values of its own settings (learningRate, hiddenUnits…).
        ...(job.trainer ? { trainer: { ...job.trainer, ...trainerSettings(params) } } : {}),
        env: Object.fromEntries(Object.entries(job.env).map(([k, v]) => [k, substitute(v, params)])),
      };
    }
    return TrainingJobSpec.parse({
      ...base,
      name: `${spec.name} #${number}`,
      env: { ...base.env, AIDOS_SWEEP_ID: sweepId, AIDOS_SWEEP_PARAMS: JSON.stringify(params) },
      params: { ...base.params, ...asText },
      ...(parentRunId ? { parentRunId } : {}),
    });
  }

  /** Runs `work` for a sweep after whatever is already running for it. */
  private serialize(sweepId: string, work: () => void | Promise<void>): void {
    const before = this.busy.get(sweepId) ?? Promise.resolve();
    const next = before
      .then(work)
      .catch((err: unknown) => this.deps.logger.error({ err, sweep: sweepId }, 'updating a sweep failed'))
      .finally(() => {
        if (this.busy.get(sweepId) === next) this.busy.delete(sweepId);
      });
    this.busy.set(sweepId, next);
  }

  /** Submits trials until `parallel` are active or the search is done; ends the sweep when nothing is left. */
  private fill(sweepId: string): void {
    const row = this.deps.db.prepare('SELECT * FROM trainos_sweeps WHERE id = ?').get(sweepId) as SweepRow;
    if (row.state !== 'running') return;
    const spec = JSON.parse(row.spec) as SweepSpec;
    const trials = this.trialRows(sweepId);
    const history: Trial[] = trials.map((t) => ({
      params: JSON.parse(t.params) as ParamSet,
      value: t.state === 'completed' ? t.value : null,
      state: t.state === 'queued' ? 'running' : t.state === 'cancelled' ? 'failed' : t.state,
    }));
    let active = trials.filter((t) => !FINAL_TRIAL_STATES.has(t.state)).length;
    const algorithm = searchAlgorithm(spec.algorithm, spec.space, this.searchOptions(spec));
    let exhausted = trials.length >= spec.maxTrials;
    while (!exhausted && active < spec.parallel) {
      const params = algorithm.suggest(history);
      if (params === null) {
        exhausted = true;
        break;
      }
      const number = history.length + 1;
      let job: TrainingJob;
      try {
        job = this.deps.jobs.submit(this.trialSpec(spec, params, sweepId, number, row.run_id));
      } catch (err) {
        this.end(sweepId, 'failed', `trial ${number} could not be submitted: ${(err as Error).message}`);
        return;
      }
      this.deps.db
        .prepare(
          `INSERT INTO trainos_sweep_trials (sweep_id, number, job_id, params, state) VALUES (?, ?, ?, ?, 'queued')`,
        )
        .run(sweepId, number, job.id, JSON.stringify(params));
      history.push({ params, value: null, state: 'running' });
      active++;
      exhausted = history.length >= spec.maxTrials;
    }
    // Pruned trials whose jobs are still stopping: the sweep ends after them.
    const stopping = trials.filter((t) => t.state === 'pruned' && !hasEnded(this.deps.jobs.get(t.job_id).state));
    if (exhausted && active === 0 && stopping.length === 0) {
      const completed = this.trialRows(sweepId).filter((t) => t.state === 'completed').length;
      if (completed > 0) this.end(sweepId, 'succeeded', null);
      else this.end(sweepId, 'failed', `no trial completed with a value of ${spec.objective.metric}`);
      return;
    }
    this.emit(sweepId);
  }

  private end(sweepId: string, state: SweepState, reason: string | null): void {
    const row = this.deps.db.prepare('SELECT run_id FROM trainos_sweeps WHERE id = ?').get(sweepId) as {
      run_id: string | null;
    };
    this.deps.db
      .prepare("UPDATE trainos_sweeps SET state = ?, reason = ?, ended_at = ? WHERE id = ? AND state = 'running'")
      .run(state, reason, Date.now(), sweepId);
    this.stoppers.delete(sweepId);
    if (row.run_id) {
      try {
        this.deps.runs.end(row.run_id, state);
      } catch (err) {
        this.deps.logger.warn({ err, sweep: sweepId }, "could not end a sweep's run");
      }
    }
    this.emit(sweepId);
  }

  private emit(sweepId: string): void {
    this.deps.bus.emit('training.sweep.updated', { sweep: this.get(sweepId) });
  }

  private trialOfJob(jobId: string): TrialRow | undefined {
    return this.deps.db.prepare('SELECT * FROM trainos_sweep_trials WHERE job_id = ?').get(jobId) as
      TrialRow | undefined;
  }

  private onJobUpdated(job: TrainingJob): void {
    const trial = this.trialOfJob(job.id);
    if (!trial) return;
    if (FINAL_TRIAL_STATES.has(trial.state)) {
      // A pruned trial's job has stopped: the sweep may be done.
      if (trial.state === 'pruned' && hasEnded(job.state))
        this.serialize(trial.sweep_id, () => this.fill(trial.sweep_id));
      return;
    }
    this.serialize(trial.sweep_id, () => {
      const current = this.trialOfJob(job.id) as TrialRow;
      if (FINAL_TRIAL_STATES.has(current.state)) return;
      this.applyJob(current, this.deps.jobs.get(job.id));
      this.fill(current.sweep_id);
    });
  }

  /** Moves a trial to its job's state; an ended job's trial takes the objective's last value from its run. */
  private applyJob(trial: TrialRow, job: TrainingJob): void {
    if (!hasEnded(job.state)) {
      const state = job.state === 'running' ? 'running' : 'queued';
      if (state !== trial.state) {
        this.deps.db
          .prepare('UPDATE trainos_sweep_trials SET state = ? WHERE sweep_id = ? AND number = ?')
          .run(state, trial.sweep_id, trial.number);
      }
      return;
    }
    const spec = JSON.parse(
      (this.deps.db.prepare('SELECT spec FROM trainos_sweeps WHERE id = ?').pluck().get(trial.sweep_id) as string) ??
        '{}',
    ) as SweepSpec;
    const metric = spec.objective.metric;
    const last = job.runId ? this.deps.runs.pointsAfter(job.runId, metric, trial.step).at(-1) : undefined;
    const value = last?.value ?? trial.value;
    const step = last?.step ?? trial.step;
    let state: SweepTrial['state'];
    let reason: string | null = null;
    if (job.state === 'succeeded') {
      state = value === null ? 'failed' : 'completed';
      if (value === null) reason = `its run logged no ${metric}`;
    } else if (job.state === 'cancelled') {
      state = 'cancelled';
      reason = job.reason;
    } else {
      state = 'failed';
      reason = job.reason;
    }
    this.deps.db
      .prepare(
        'UPDATE trainos_sweep_trials SET state = ?, value = ?, step = ?, reason = ? WHERE sweep_id = ? AND number = ?',
      )
      .run(state, value, step, reason, trial.sweep_id, trial.number);
    if (state === 'completed' && value !== null) this.logBest(trial.sweep_id, spec, trial.number, value);
  }

  /** The parent run's `best_<metric>` steps to a trial's value when it beats every trial before it. */
  private logBest(sweepId: string, spec: SweepSpec, number: number, value: number): void {
    const sweep = this.get(sweepId);
    const others = sweep.trials.filter((t) => t.number !== number && t.state === 'completed' && t.value !== null);
    if (others.some((t) => !isBetter(value, t.value, spec.objective.goal))) return;
    if (sweep.runId) this.deps.runs.logMetric(sweep.runId, `best_${spec.objective.metric}`, value, number);
  }

  private onRunMetrics(runId: string, keys: readonly string[]): void {
    const trial = this.deps.db
      .prepare(
        `SELECT t.* FROM trainos_sweep_trials t JOIN trainos_jobs j ON j.id = t.job_id
         WHERE j.run_id = ? AND t.state IN ('queued', 'running')`,
      )
      .get(runId) as TrialRow | undefined;
    if (!trial) return;
    this.serialize(trial.sweep_id, async () => {
      const row = this.deps.db.prepare('SELECT * FROM trainos_sweeps WHERE id = ?').get(trial.sweep_id) as SweepRow;
      const spec = JSON.parse(row.spec) as SweepSpec;
      if (row.state !== 'running' || !keys.includes(spec.objective.metric)) return;
      const current = this.trialOfJob(trial.job_id) as TrialRow;
      if (FINAL_TRIAL_STATES.has(current.state)) return;
      const points = this.deps.runs.pointsAfter(runId, spec.objective.metric, current.step);
      if (points.length === 0) return;
      const stopper = this.stopperOf(trial.sweep_id, spec);
      let decision: 'continue' | 'stop' = 'continue';
      let last = points[0] as { step: number; value: number };
      const record = this.deps.db.prepare(
        `INSERT INTO trainos_sweep_reports (sweep_id, seq, number, step, value)
         VALUES (?, (SELECT COUNT(*) FROM trainos_sweep_reports WHERE sweep_id = ?), ?, ?, ?)`,
      );
      for (const p of points) {
        last = p;
        record.run(trial.sweep_id, trial.sweep_id, trial.number, p.step, Number.isNaN(p.value) ? null : p.value);
        decision = stopper.report(String(trial.number), p.step, p.value);
        if (decision === 'stop') break;
      }
      const stopped = decision === 'stop';
      const reason = stopped ? `stopped early by the ${spec.earlyStopping.type} rule at step ${last.step}` : null;
      this.deps.db
        .prepare(
          'UPDATE trainos_sweep_trials SET value = ?, step = ?, state = ?, reason = ? WHERE sweep_id = ? AND number = ?',
        )
        .run(last.value, last.step, stopped ? 'pruned' : current.state, reason, trial.sweep_id, trial.number);
      if (stopped) {
        await this.deps.jobs.cancel(trial.job_id);
        this.fill(trial.sweep_id);
      } else this.emit(trial.sweep_id);
    });
  }

  private stopperOf(sweepId: string, spec: SweepSpec): EarlyStopper {
    let stopper = this.stoppers.get(sweepId);
    if (!stopper) {
      const reports = this.deps.db
        .prepare('SELECT number, step, value FROM trainos_sweep_reports WHERE sweep_id = ? ORDER BY seq')
        .all(sweepId) as { number: number; step: number; value: number | null }[];
      stopper = earlyStopper(
        spec.earlyStopping,
        spec.objective.goal,
        reports.map((r) => ({ trialId: String(r.number), step: r.step, value: r.value ?? Number.NaN })),
      );
      this.stoppers.set(sweepId, stopper);
    }
    return stopper;
  }
}
