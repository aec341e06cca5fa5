import { Option, type Command } from 'commander';
import {
  INTERVAL_KEY_OF_METRIC,
  type Evaluation,
  type EvaluationInput,
  type EvaluationSummary,
  type EvaluationTask,
  type Gate,
  type GateInput,
} from '#shared/contracts/evalkit-evaluations';
import type { Connection } from './connection';
import { formatTime, printTable } from './output';
import { waitForTask } from './task-commands';
import { decimal, wholeNumber } from './option-parsers';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
  json(): boolean;
}

/** `name`, `name:3`, `name@alias` → the model and its version (a number or `@alias`). */
function modelRef(ref: string): { model: string; version?: number | string } {
  const at = ref.lastIndexOf('@');
  if (at > 0) return { model: ref.slice(0, at), version: `@${ref.slice(at + 1)}` };
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(ref.slice(colon + 1))) {
    return { model: ref.slice(0, colon), version: Number(ref.slice(colon + 1)) };
  }
  return { model: ref };
}

/** `dataset` or `dataset@version` (a number, tag or `latest`). */
function datasetRef(ref: string): { dataset: string; datasetVersion?: string } {
  const at = ref.lastIndexOf('@');
  return at > 0 ? { dataset: ref.slice(0, at), datasetVersion: ref.slice(at + 1) } : { dataset: ref };
}

function subject(e: EvaluationSummary): string {
  const version = e.model === null ? null : `${e.model} v${e.modelVersion}`;
  if (e.deployment === null) return version ?? '-';
  return version === null ? `deployment ${e.deployment}` : `deployment ${e.deployment} (${version})`;
}

function metricText(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : Number(value.toPrecision(6)).toString();
}

function evaluationRow(e: EvaluationSummary) {
  const headline = e.task === 'regression' ? 'rmse' : 'accuracy';
  return {
    id: e.id,
    state: e.state,
    model: subject(e),
    dataset: `${e.dataset} v${e.datasetVersion}`,
    target: e.target,
    task: e.task,
    rows: e.rows,
    metric: e.state === 'succeeded' ? `${headline} ${metricText(e.metrics[headline])}` : null,
    created: formatTime(e.createdAt),
  };
}

/** The evaluation's fields, its metrics with their intervals, and its slices. */
function printEvaluation(e: Evaluation): void {
  const fields: [string, string | number | null][] = [
    ['id', e.id],
    ['state', e.state],
    ['reason', e.reason],
    ['model', subject(e)],
    ['dataset', `${e.dataset} v${e.datasetVersion} (${e.file})`],
    ['target', e.target],
    ['task', e.task],
    ['slice', e.slice],
    ['rows', e.rows],
    ['run', e.runId],
    ['created', formatTime(e.createdAt)],
    ['finished', formatTime(e.finishedAt)],
  ];
  for (const [label, value] of fields) if (value !== null) console.log(`${label.padEnd(9)} ${value}`);
  if (e.state !== 'succeeded') return;
  console.log('');
  printTable(
    Object.entries(e.metrics).map(([metric, value]) => {
      const ci = e.report?.intervals?.[INTERVAL_KEY_OF_METRIC[metric] ?? ''];
      return {
        metric,
        value: metricText(value),
        interval:
          ci && ci.lower !== null && ci.upper !== null
            ? `${metricText(ci.lower)} – ${metricText(ci.upper)} (${Math.round(ci.confidence * 100)}%)`
            : null,
      };
    }),
    'no metrics',
  );
  const report = e.report;
  if (report?.task === 'classification') {
    const { classes, confusionMatrix } = report.metrics;
    console.log('\nconfusion matrix (rows: true, columns: predicted)');
    printTable(
      confusionMatrix.map((row, i) => ({
        '': String(classes[i]),
        ...Object.fromEntries(classes.map((c, j) => [String(c), row[j] ?? 0])),
      })),
      '',
    );
  }
  if (report?.slices) {
    console.log(`\nslices by ${e.slice}`);
    printTable(
      report.slices.map((s) => {
        const m = s.metrics;
        const value = m === null ? null : 'accuracy' in m ? m.accuracy : m.rmse;
        return {
          value: s.value === null ? '(missing)' : String(s.value),
          rows: s.rows,
          [report.task === 'classification' ? 'accuracy' : 'rmse']: metricText(value),
        };
      }),
      'no slices',
    );
  }
}

function gateRow(g: Gate) {
  return { id: g.id, model: g.model, alias: g.alias ?? '(every alias)', gate: `${g.metric} ${g.op} ${g.value}` };
}

/** `aidos eval …`: evaluation runs of model versions and deployments on dataset versions, and gates. */
export function addEvalCommands(program: Command, ctx: CliContext): void {
  const evalCmd = program
    .command('eval')
    .description('evaluate model versions and deployments on dataset versions; gates before alias moves');
  evalCmd
    .command('run')
    .description(
      'evaluate a model version (--model m, m:3 or m@alias) or a deployment on a dataset version; waits with a ' +
        'progress bar and prints the metrics (exit 1 if it failed)',
    )
    .option('--model <ref>', 'a registered model: name, name:<version> or name@<alias> (default its newest version)')
    .option('--deployment <name>', 'an ONNX deployment instead of a model version')
    .requiredOption('--dataset <ref>', 'a dataset, or dataset@<version> (number, tag; default latest)')
    .requiredOption('--target <column>', 'the column of true labels or values')
    .option('--file <path>', 'the table in the dataset version (default its only one)')
    .addOption(
      new Option('--task <task>', 'default: what the model predicts').choices(['classification', 'regression']),
    )
    .option('--slice <column>', 'metrics per value of this column too')
    .option(
      '--resamples <n>',
      'bootstrap resamples for the intervals (0: none; default 1000)',
      wholeNumber('--resamples'),
    )
    .option('--confidence <level>', 'interval confidence (default 0.95)', decimal('--confidence'))
    .option('--no-wait', 'print the queued evaluation and return')
    .action(
      async (o: {
        model?: string;
        deployment?: string;
        dataset: string;
        target: string;
        file?: string;
        task?: EvaluationTask;
        slice?: string;
        resamples?: number;
        confidence?: number;
        wait: boolean;
      }) => {
        const c = ctx.conn();
        const input: EvaluationInput = {
          ...(o.model === undefined ? {} : modelRef(o.model)),
          ...(o.deployment === undefined ? {} : { deployment: o.deployment }),
          ...datasetRef(o.dataset),
          target: o.target,
          ...(o.file === undefined ? {} : { file: o.file }),
          ...(o.task === undefined ? {} : { task: o.task }),
          ...(o.slice === undefined ? {} : { slice: o.slice }),
          ...(o.resamples === undefined ? {} : { resamples: o.resamples }),
          ...(o.confidence === undefined ? {} : { confidence: o.confidence }),
        };
        const created = await c.client.call('evaluations.create', input);
        if (!o.wait) {
          ctx.out(created, () => console.log(`evaluation ${created.id} ${created.state}`));
          return;
        }
        await waitForTask(c, created.jobId, !ctx.json());
        const done = await c.client.call('evaluations.get', { id: created.id });
        ctx.out(done, () => printEvaluation(done));
        if (done.state !== 'succeeded') process.exitCode = 1;
      },
    );
  evalCmd
    .command('list')
    .description('list evaluations, newest first')
    .option('--model <name>', 'only of this model')
    .option('--deployment <name>', 'only of this deployment')
    .option('-n, --limit <n>', 'how many (default 50)', wholeNumber('--limit'), 50)
    .action(async (o: { model?: string; deployment?: string; limit: number }) => {
      const list = await ctx
        .conn()
        .client.call('evaluations.list', { model: o.model, deployment: o.deployment, limit: o.limit });
      ctx.out(list, () => printTable(list.items.map(evaluationRow), 'no evaluations'));
    });
  evalCmd
    .command('show <id>')
    .description('show an evaluation: its metrics with confidence intervals, confusion matrix and slices')
    .action(async (id: string) => {
      const e = await ctx.conn().client.call('evaluations.get', { id });
      ctx.out(e, () => printEvaluation(e));
    });

  const gates = evalCmd.command('gate').description("a model's gates: metric thresholds checked before an alias moves");
  gates
    .command('set <model>')
    .description("set a gate, e.g. 'aidos eval gate set churn --alias champion --metric accuracy --op >= --value 0.9'")
    .option('--alias <alias>', 'the alias it guards (default: every alias of the model)')
    .requiredOption('--metric <name>', 'accuracy, f1, macro_f1, roc_auc, log_loss, mae, rmse, r2, …')
    .addOption(new Option('--op <op>', 'comparison').choices(['>=', '>', '<=', '<']).default('>='))
    .requiredOption('--value <number>', 'the threshold', decimal('--value'))
    .action(async (model: string, o: { alias?: string; metric: string; op: GateInput['op']; value: number }) => {
      const gate = await ctx.conn().client.call('evaluationGates.set', {
        model,
        ...(o.alias === undefined ? {} : { alias: o.alias }),
        metric: o.metric as GateInput['metric'],
        op: o.op,
        value: o.value,
      });
      ctx.out(gate, () => printTable([gateRow(gate)], ''));
    });
  gates
    .command('list [model]')
    .description('list gates (of one model)')
    .action(async (model: string | undefined) => {
      const list = await ctx.conn().client.call('evaluationGates.list', model === undefined ? {} : { model });
      ctx.out(list, () => printTable(list.items.map(gateRow), 'no gates'));
    });
  gates
    .command('rm <id>')
    .description('remove a gate')
    .action(async (id: string) => {
      const ok = await ctx.conn().client.call('evaluationGates.delete', { id });
      ctx.out(ok, () => console.log(`removed gate ${id}`));
    });
  gates
    .command('status <model> <version>')
    .description('whether a model version passed its gates, by its latest evaluation (exit 1 if not)')
    .action(async (model: string, version: string) => {
      const status = await ctx
        .conn()
        .client.call('evaluationGates.status', { model, version: wholeNumber('version')(version) });
      ctx.out(status, () => {
        console.log(`${model} v${status.version} ${status.passed ? 'passed' : 'did not pass'} its gates`);
        printTable(
          status.checks.map((c) => ({
            ...gateRow(c.gate),
            actual: metricText(c.actual),
            passed: c.passed ? 'yes' : 'no',
            reason: c.reason,
          })),
          'no gates',
        );
      });
      if (!status.passed) process.exitCode = 1;
    });
}
