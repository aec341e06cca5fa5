import type { z } from 'zod';
import type {
  AbResults,
  AbTest,
  AbTestInput,
  DriftCheck,
  Monitor,
  MonitorAlert,
  MonitorInput,
  RequestLabel,
  SampleSizeInput,
} from '#shared/contracts/evalkit-monitoring';
import type { Job } from '#shared/contracts/jobs';

export type CheckTrigger = DriftCheck['trigger'];

/** An outcome of an A/B test: for an arm by name, or for a logged request (its arm found from the request log). */
export interface AbOutcome {
  arm?: string | undefined;
  requestId?: string | undefined;
  value: number;
}

/** EvalKit's drift monitors, alerts and A/B tests, as other services and the routes see them. */
export interface MonitorsService {
  /**
   * Creates a monitor on a tabular ONNX deployment (400 naming `deployment` for an unknown, GGUF or non-tabular one).
   * The reference defaults to the dataset version the deployed model version was trained on (ModelHub lineage);
   * 400 naming `dataset` when there is none and none is given, `target` for a column the reference lacks,
   * `webhookUrl` for anything but an http(s) URL. A taken name is a 409.
   */
  createMonitor(input: MonitorInput): Promise<Monitor>;
  /** By name; only the monitors of `deployment` when given. */
  listMonitors(deployment?: string): Monitor[];
  /** By id or name. */
  getMonitor(ref: string): Monitor;
  /** Deletes it with its checks and alerts, and cancels its queued check. */
  deleteMonitor(ref: string): void;
  /** Queues a check now (at most one waits per monitor: a second call returns the waiting job). */
  queueCheck(ref: string, trigger?: CheckTrigger): Job;
  /**
   * Runs a check: the newest `windowRows` logged rows of successful, untruncated `predict` requests against the
   * reference, feature by feature (PSI, Jensen–Shannon, KS or chi-square), the predictions against the reference's
   * target (or the first checked window), accuracy/MAE over labelled requests; stores it, and when a threshold is
   * crossed stores an alert, emits `evalkit.alert.raised` and POSTs the webhook (retried; a failure is recorded on
   * the alert and never fails the check). 400 when the window has no rows.
   */
  runCheck(monitorId: string, trigger: CheckTrigger): Promise<DriftCheck>;
  /** Newest first; `cursor` is the id of the last check of the previous page. */
  checks(
    ref: string,
    page: { limit: number; cursor?: string | undefined },
  ): { items: DriftCheck[]; nextCursor: string | null };
  /** Newest first, of every monitor or one. */
  alerts(query: { monitor?: string | undefined; limit: number }): MonitorAlert[];
  /**
   * Stores ground-truth labels of logged requests of a deployment (a later label replaces an earlier one). 400 naming
   * `labels[i].requestId` for a request not in its log, `labels[i].value` for a list whose length is not the
   * request's row count. Nothing is stored when one is refused.
   */
  recordLabels(deployment: string, labels: z.input<typeof RequestLabel>[]): number;

  /** 400 naming `arms[i].deployment` for an unknown deployment, `arms` for two identical arms; 409 for a taken name. */
  createAbTest(input: AbTestInput): AbTest;
  listAbTests(): AbTest[];
  /** Results so far, with the peeking check: before the planned size they are flagged not final. */
  abResults(ref: string): AbResults;
  deleteAbTest(ref: string): void;
  /**
   * Records outcomes (all or none): 400 naming `outcomes[i].arm` for an unknown arm, `outcomes[i].requestId` for a
   * request logged by neither arm, `outcomes[i].value` for a conversion outcome other than 0 or 1. An outcome for a
   * request already recorded replaces it.
   */
  recordOutcomes(ref: string, outcomes: AbOutcome[]): { recorded: number; byArm: Record<string, number> };
  /** Rows per arm for a two-sided test at `alpha` with `power` (400 naming the bad field). */
  sampleSize(input: z.input<typeof SampleSizeInput>): { perArm: number; total: number };

  /** Starts the scheduler: every few seconds, queues the checks that are due (by requests or by minutes). */
  start(): void;
  stop(): void;
}
