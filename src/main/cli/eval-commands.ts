import { existsSync, readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import {
  INTERVAL_KEY_OF_METRIC,
  type Benchmark,
  type BenchmarkInput,
  type Evaluation,
  type EvaluationInput,
  type EvaluationSummary,
  type EvaluationTask,
  type Gate,
  type GateInput,
} from '#shared/contracts/evalkit-evaluations';
import type {
  DiffPart,
  LlmCell,
  LlmRun,
  LlmRunSummary,
  LlmSuite,
  LlmSuiteInput,
  LlmSuiteSummary,
} from '#shared/contracts/evalkit-llm';
import { AppError } from '#shared/errors';
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

/** A file's suite, saved under its name: created, or replacing the suite of that name. */
async function saveSuiteFile(c: Connection, file: string): Promise<{ suite: LlmSuite; replaced: boolean }> {
  let spec: LlmSuiteInput;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as LlmSuiteInput;
  } catch (err) {
    throw AppError.invalid('suite', `${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return { suite: await c.client.call('llmSuites.create', spec), replaced: false };
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
    return { suite: await c.client.call('llmSuites.update', { ...spec, suite: spec.name }), replaced: true };
  }
}

function llmRunRow(r: LlmRunSummary) {
  return {
    id: r.id,
    suite: r.suite,
    state: r.state,
    models: r.models.join(', '),
    cells: `${r.done}/${r.cellCount}`,
    passed: r.passed,
    created: formatTime(r.createdAt),
  };
}

function llmSuiteRow(s: LlmSuiteSummary) {
  return {
    name: s.name,
    id: s.id,
    prompts: s.prompts,
    cases: s.cases,
    updated: formatTime(s.updatedAt),
    description: s.description || null,
  };
}

const caseLabel = (run: LlmRun, index: number) => run.cases[index]?.name ?? `#${index}`;
const columnLabel = (prompt: string, model: string) => `${prompt} × ${model}`;

function cellText(cell: LlmCell | undefined): string {
  if (!cell) return '-';
  if (cell.error !== null) return 'error';
  return cell.passed ? 'pass' : 'FAIL';
}

/** A word diff inline: `[-removed-]{+added+}`, as `wdiff` writes it. */
function diffText(diff: readonly DiffPart[]): string {
  return diff
    .map((part) => (part.op === 'same' ? part.text : part.op === 'removed' ? `[-${part.text}-]` : `{+${part.text}+}`))
    .join('');
}

/** The run's fields, the pass/fail matrix (a row per case, a column per prompt × model), and why cells failed. */
function printLlmRun(run: LlmRun): void {
  const fields: [string, string | number | null][] = [
    ['id', run.id],
    ['suite', run.suite],
    ['state', run.state],
    ['reason', run.reason],
    ['models', run.models.join(', ')],
    ['cells', `${run.done} of ${run.cellCount} done, ${run.passed} passed`],
    ['created', formatTime(run.createdAt)],
    ['finished', formatTime(run.finishedAt)],
  ];
  for (const [label, value] of fields) if (value !== null) console.log(`${label.padEnd(8)} ${value}`);
  console.log('');
  const columns = run.totals.map((t) => ({ ...t, label: columnLabel(t.prompt, t.model) }));
  const at = (prompt: string, model: string, index: number) =>
    run.cells.find((c) => c.prompt === prompt && c.model === model && c.case === index);
  printTable(
    [
      ...run.cases.map((_, index) => ({
        case: caseLabel(run, index),
        ...Object.fromEntries(columns.map((col) => [col.label, cellText(at(col.prompt, col.model, index))])),
      })),
      {
        case: 'passed',
        ...Object.fromEntries(columns.map((col) => [col.label, `${col.passed}/${run.cases.length}`])),
      },
    ],
    'no cases',
  );
  const failed = run.cells.filter((c) => !c.passed);
  if (failed.length === 0) return;
  console.log('\nfailures');
  for (const cell of failed) {
    const why =
      cell.error ??
      cell.assertions
        .filter((a) => !a.passed)
        .map((a) => `${a.type}: ${a.reason}`)
        .join('; ');
    console.log(`${columnLabel(cell.prompt, cell.model)} × ${caseLabel(run, cell.case)}: ${why}`);
    if (cell.diff && cell.diff.some((part) => part.op !== 'same')) console.log(`  diff: ${diffText(cell.diff)}`);
  }
}

/** `aidos eval llm …`: LLM eval suites run over prompts × chat deployments × cases. */
function addLlmEvalCommands(evalCmd: Command, ctx: CliContext): void {
  const llm = evalCmd
    .command('llm')
    .description('LLM evals: suites of cases with assertions, run over prompts × GGUF chat deployments');
  llm
    .command('run <suite>')
    .description(
      'run a suite (a JSON file, saved under its name first, replacing a suite of that name; or a saved ' +
        "suite's name or id) on chat deployments; waits with a progress bar and prints the pass/fail matrix " +
        '(exit 1 if the run failed or any cell did not pass)',
    )
    .requiredOption(
      '-m, --model <deployment>',
      'a GGUF chat deployment, one column per prompt (repeat for more)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--no-wait', 'print the queued run and return')
    .action(async (ref: string, o: { model: string[]; wait: boolean }) => {
      const c = ctx.conn();
      let suite = ref;
      if (ref.endsWith('.json') || existsSync(ref)) {
        const saved = await saveSuiteFile(c, ref);
        suite = saved.suite.id;
        if (!ctx.json())
          console.error(`${saved.replaced ? 'replaced' : 'saved'} suite ${saved.suite.name} from ${ref}`);
      }
      const created = await c.client.call('llmRuns.create', { suite, models: o.model });
      if (!o.wait) {
        ctx.out(created, () => console.log(`LLM eval run ${created.id} ${created.state}`));
        return;
      }
      await waitForTask(c, created.jobId, !ctx.json());
      const run = await c.client.call('llmRuns.get', { id: created.id });
      ctx.out(run, () => printLlmRun(run));
      if (run.state !== 'succeeded' || run.passed < run.cellCount) process.exitCode = 1;
    });
  llm
    .command('list')
    .description('list LLM eval runs, newest first')
    .option('--suite <suite>', 'only of this suite (name or id)')
    .option('-n, --limit <n>', 'how many (default 50)', wholeNumber('--limit'), 50)
    .action(async (o: { suite?: string; limit: number }) => {
      const list = await ctx.conn().client.call('llmRuns.list', { suite: o.suite, limit: o.limit });
      ctx.out(list, () => printTable(list.items.map(llmRunRow), 'no LLM eval runs'));
    });
  llm
    .command('show <id>')
    .description('show an LLM eval run: the pass/fail matrix of cases × prompt × model, and why cells failed')
    .action(async (id: string) => {
      const run = await ctx.conn().client.call('llmRuns.get', { id });
      ctx.out(run, () => printLlmRun(run));
    });
  llm
    .command('suites')
    .description('list LLM eval suites')
    .action(async () => {
      const list = await ctx.conn().client.call('llmSuites.list', {});
      ctx.out(list, () =>
        printTable(
          list.items.map(llmSuiteRow),
          'no LLM eval suites (run one from a file: aidos eval llm run suite.json)',
        ),
      );
    });
}

const ms = (value: number) => Number(value.toPrecision(4)).toString();

function benchmarkModel(b: Benchmark): string | null {
  return b.model === null ? null : `${b.model} v${b.modelVersion}`;
}

function benchmarkRow(b: Benchmark) {
  return {
    id: b.id,
    state: b.state,
    deployment: b.deployment,
    model: benchmarkModel(b),
    clients: b.concurrency,
    seconds: b.durationSeconds,
    requests: b.requests,
    errors: b.errors,
    'req/s': b.throughput === null ? null : ms(b.throughput),
    'p50 ms': b.latencyMs ? ms(b.latencyMs.p50) : null,
    'p95 ms': b.latencyMs ? ms(b.latencyMs.p95) : null,
    'p99 ms': b.latencyMs ? ms(b.latencyMs.p99) : null,
    created: formatTime(b.createdAt),
  };
}

function printBenchmark(b: Benchmark): void {
  const latency = b.latencyMs;
  const fields: [string, string | number | null][] = [
    ['id', b.id],
    ['state', b.state],
    ['reason', b.reason],
    ['deployment', `${b.deployment} (${b.runtime})`],
    ['model', benchmarkModel(b)],
    ['endpoint', b.endpoint],
    ['load', `${b.concurrency} client${b.concurrency === 1 ? '' : 's'} for ${b.durationSeconds} s`],
    ['requests', b.requests === null ? null : `${b.requests} answered, ${b.errors ?? 0} failed`],
    ['first error', b.firstError],
    ['throughput', b.throughput === null ? null : `${ms(b.throughput)} requests/s`],
    [
      'latency',
      latency
        ? `mean ${ms(latency.mean)} ms, p50 ${ms(latency.p50)}, p95 ${ms(latency.p95)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)}`
        : null,
    ],
    ['created', formatTime(b.createdAt)],
    ['finished', formatTime(b.finishedAt)],
  ];
  for (const [label, value] of fields) if (value !== null) console.log(`${label.padEnd(11)} ${value}`);
}

/** `aidos eval bench …`: load benchmarks of deployments, stored with the model version they served. */
function addBenchCommands(evalCmd: Command, ctx: CliContext): void {
  const bench = evalCmd
    .command('bench')
    .description(
      'load a deployment over HTTP as users do (KServe v2 infer for ONNX and TF.js, chat completions for GGUF) ' +
        'and report throughput and latency percentiles; waits with a progress bar (exit 1 if it failed). ' +
        "'bench list' and 'bench show <id>' read stored benchmarks",
    )
    .argument('<deployment>', 'the deployment (name or id)')
    .option('-c, --concurrency <n>', 'clients sending requests back to back (default 4)', wholeNumber('--concurrency'))
    .option('-d, --duration <seconds>', 'how long to load it (default 10)', decimal('--duration'))
    .option('--prompt <text>', "GGUF: every request's user message (default 'Say hello.')")
    .option('--max-tokens <n>', 'GGUF: tokens each answer may have (default 16)', wholeNumber('--max-tokens'))
    .option('--no-wait', 'print the queued benchmark and return')
    .action(
      async (
        deployment: string,
        o: { concurrency?: number; duration?: number; prompt?: string; maxTokens?: number; wait: boolean },
      ) => {
        const c = ctx.conn();
        const input: BenchmarkInput = {
          deployment,
          ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
          ...(o.duration === undefined ? {} : { durationSeconds: o.duration }),
          ...(o.prompt === undefined ? {} : { prompt: o.prompt }),
          ...(o.maxTokens === undefined ? {} : { maxTokens: o.maxTokens }),
        };
        const created = await c.client.call('benchmarks.create', input);
        if (!o.wait) {
          ctx.out(created, () => console.log(`benchmark ${created.id} ${created.state}`));
          return;
        }
        await waitForTask(c, created.jobId, !ctx.json());
        const done = await c.client.call('benchmarks.get', { id: created.id });
        ctx.out(done, () => printBenchmark(done));
        if (done.state !== 'succeeded') process.exitCode = 1;
      },
    );
  bench
    .command('list [deployment]')
    .description('list benchmarks (of one deployment), newest first, with the model version each served')
    .option('-n, --limit <n>', 'how many (default 50)', wholeNumber('--limit'), 50)
    .action(async (deployment: string | undefined, o: { limit: number }) => {
      const list = await ctx.conn().client.call('benchmarks.list', { deployment, limit: o.limit });
      ctx.out(list, () => printTable(list.items.map(benchmarkRow), 'no benchmarks'));
    });
  bench
    .command('show <id>')
    .description('show a benchmark: the load, requests, throughput and latency percentiles')
    .action(async (id: string) => {
      const b = await ctx.conn().client.call('benchmarks.get', { id });
      ctx.out(b, () => printBenchmark(b));
    });
}

/** `aidos eval …`: evaluation runs of model versions and deployments on dataset versions, and gates. */
export function addEvalCommands(program: Command, ctx: CliContext): void {
  const evalCmd = program
    .command('eval')
    .description(
      'evaluate model versions and deployments on dataset versions; gates before alias moves; LLM evals; load benchmarks',
    );
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
  addLlmEvalCommands(evalCmd, ctx);
  addBenchCommands(evalCmd, ctx);
}
