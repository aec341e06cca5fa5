import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { trainerSummary } from '#shared/contracts/builtin-trainer';
import {
  hasEnded,
  TRAINING_JOB_STATES,
  TrainingJobSpec,
  type GpuStatus,
  type JobLogLine,
  type JobResources,
  type TrainingJob,
  type TrainingJobInput,
  type TrainingJobState,
  type Sweep,
  type SweepInput,
} from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';
import type { Connection } from './connection';
import { formatTime, printTable } from './output';
import { integer } from './option-parsers';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
  json(): boolean;
}

function orDash(value: number | null, unit: string): string | null {
  return value === null ? null : `${Math.round(value)}${unit}`;
}

function gpuRow(g: GpuStatus) {
  return {
    gpu: g.index,
    name: g.name,
    memory: g.memoryTotalMb === null ? null : `${g.memoryUsedMb ?? '?'} / ${g.memoryTotalMb} MiB`,
    'app reserved': `${g.vram.reservedMb} MiB`,
    util: orDash(g.utilizationPercent, '%'),
    temp: orDash(g.temperatureC, ' °C'),
    power:
      g.powerW === null
        ? null
        : `${Math.round(g.powerW)}${g.powerLimitW === null ? '' : ` / ${Math.round(g.powerLimitW)}`} W`,
  };
}

/** How often `--follow` asks for more of a running job's log. */
const LOG_POLL_MS = 500;

function gpuCount(value: string): number | 'any' {
  if (value === 'any') return 'any';
  if (!/^\d+$/.test(value)) throw AppError.invalid('--gpus', `'${value}' is neither a whole number nor 'any'`);
  return Number(value);
}

/** Collects repeated `--env KEY=VALUE` options; the key's format is checked with the rest of the spec. */
/** A commander parser collecting repeatable KEY=VALUE options of `flag` into a record. */
function keyValue(flag: string) {
  return (pair: string, previous: Record<string, string> = {}): Record<string, string> => {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw AppError.invalid(flag, `'${pair}' is not KEY=VALUE`);
    return { ...previous, [pair.slice(0, equals)]: pair.slice(equals + 1) };
  };
}

const envPair = keyValue('--env');

/** `--dataset AS=name[@version]` options as a template job's datasets. */
function templateDatasets(pairs: Record<string, string>): Record<string, { dataset: string; version: string }> {
  return Object.fromEntries(
    Object.entries(pairs).map(([as, value]) => {
      const at = value.lastIndexOf('@');
      const dataset = at > 0 ? value.slice(0, at) : value;
      return [as, { dataset, version: at > 0 ? value.slice(at + 1) : 'latest' }];
    }),
  );
}

/** The `aidos jobs submit` option that sets each field of the spec, for error messages. */
const SPEC_FLAGS: Record<string, string> = {
  name: '--name',
  command: 'command',
  workingDir: '--cwd',
  env: '--env',
  'resources.gpus': '--gpus',
  'resources.gpuMemoryMb': '--gpu-memory',
  'resources.cpuThreads': '--cpus',
  'resources.ramMb': '--ram',
  priority: '--priority',
  maxRuntimeSeconds: '--max-runtime',
  retries: '--retries',
  keepCheckpoints: '--keep-checkpoints',
  experiment: '--experiment',
};

/** Checks a spec against the contract before it is sent, naming the option that set the bad field. */
function checkSpec(spec: TrainingJobInput): void {
  const result = TrainingJobSpec.safeParse(spec);
  const issue = result.error?.issues[0];
  if (!issue) return;
  const field = issue.path[0] === 'resources' ? issue.path.slice(0, 2).join('.') : String(issue.path[0]);
  throw AppError.invalid(SPEC_FLAGS[field] ?? field, issueText(issue));
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `'${String(issue.path.at(-1))}' ${issue.issues[0]?.message ?? issue.message}`;
  if (issue.path[0] === 'command' && typeof issue.path[1] === 'number') {
    return `argument ${issue.path[1] + 1}: ${issue.message}`;
  }
  return issue.message;
}

/** Where a log line goes: the program's own stream, JSON lines, or stderr (to keep stdout for one JSON document). */
type LogSink = (line: JobLogLine) => void;

const toProgramStreams: LogSink = (line) =>
  (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${line.text}\n`);
const asJsonLines: LogSink = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const toStderr: LogSink = (line) => process.stderr.write(`${line.text}\n`);

/** Writes a job's log from `fromByte` up to what is stored now; returns the offset to continue from. */
async function drainLog(c: Connection, job: string, fromByte: number, sink: LogSink): Promise<number> {
  let offset = fromByte;
  for (;;) {
    const page = await c.client.call('trainingJobs.logs', { job, fromByte: offset });
    page.lines.forEach(sink);
    const progressed = page.nextByte > offset;
    offset = page.nextByte;
    if (page.atEnd || !progressed) return offset;
  }
}

/** Writes a job's log until the job has ended and its log is read to the end; returns the ended job. */
async function followLog(c: Connection, id: string, sink: LogSink): Promise<TrainingJob> {
  let offset = 0;
  for (;;) {
    // The state is read before the log: once a job has ended its log is complete, so that read is the last.
    const job = await c.client.call('trainingJobs.get', { job: id });
    offset = await drainLog(c, id, offset, sink);
    if (hasEnded(job.state)) return job;
    await sleep(LOG_POLL_MS);
  }
}

function placementText(job: TrainingJob): string | null {
  if (job.placement === null) return null;
  return job.placement.gpus.length === 0 ? 'cpu' : `gpu ${job.placement.gpus.join(',')}`;
}

function resourcesText(r: JobResources): string {
  const gpus = r.gpus === 'any' ? 'a GPU if one is free' : `${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`;
  const gpuMemory = r.gpuMemoryMb === undefined ? '' : ` (${r.gpuMemoryMb} MiB)`;
  return `${gpus}${gpuMemory}, ${r.cpuThreads} CPU thread${r.cpuThreads === 1 ? '' : 's'}, ${r.ramMb} MiB RAM`;
}

/** "01J… failed: exited with code 3", "01J… queued (waiting for 2 free GPUs (1 free))". */
function stateLine(job: TrainingJob): string {
  const waiting = job.waitingReason ? ` (${job.waitingReason})` : '';
  return `${job.id} ${job.state}${waiting}${job.reason ? `: ${job.reason}` : ''}`;
}

/** An argument as a shell would need it typed, for showing a command. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function jobRow(job: TrainingJob) {
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    attempt: job.attempt,
    placement: placementText(job),
    reason: job.waitingReason ?? job.reason,
    started: formatTime(job.startedAt),
    ended: formatTime(job.endedAt),
  };
}

function printJob(job: TrainingJob): void {
  const spec = job.spec;
  const fields: [string, string | number | null][] = [
    ['id', job.id],
    ['name', job.name],
    ['state', job.state],
    ['waiting', job.waitingReason],
    ['reason', job.reason],
    ['attempt', job.attempt],
    ['kind', spec.kind],
    ['command', spec.command ? spec.command.map(shellWord).join(' ') : null],
    ['cwd', spec.workingDir ?? null],
    ['trainer', spec.trainer ? trainerSummary(spec.trainer) : null],
    ['model', spec.registerModel ?? null],
    ['env', Object.keys(spec.env).join(', ') || null],
    ['resources', resourcesText(spec.resources)],
    ['priority', spec.priority],
    ['retries', spec.retries],
    ['keeps', spec.keepCheckpoints === undefined ? null : `the newest ${spec.keepCheckpoints} checkpoints`],
    ['max runtime', spec.maxRuntimeSeconds === undefined ? null : `${spec.maxRuntimeSeconds}s`],
    ['placement', placementText(job)],
    ['experiment', spec.experiment],
    ['run', job.runId],
    [
      'checkpoint',
      job.lastCheckpoint && `step ${job.lastCheckpoint.step} (${formatTime(job.lastCheckpoint.createdAt)})`,
    ],
    ['resumed', job.resumedFromStep === null ? null : `from the checkpoint at step ${job.resumedFromStep}`],
    ['exit code', job.exitCode],
    ['signal', job.signal],
    ['retry of', job.retryOf],
    ['created', formatTime(job.createdAt)],
    ['started', formatTime(job.startedAt)],
    ['ended', formatTime(job.endedAt)],
  ];
  for (const [label, value] of fields) if (value !== null) console.log(`${label.padEnd(11)} ${value}`);
}

function executorName(value: string): 'local' | 'slurm' {
  if (value === 'local' || value === 'slurm') return value;
  throw AppError.invalid('--executor', `is 'local' or 'slurm' (got '${value}')`);
}

interface SubmitOptions {
  name?: string;
  gpus?: number | 'any';
  gpuMemory?: number;
  cpus?: number;
  ram?: number;
  priority?: number;
  maxRuntime?: number;
  retries?: number;
  keepCheckpoints?: number;
  experiment?: string;
  env?: Record<string, string>;
  cwd?: string;
  follow?: boolean;
  template?: string;
  param?: Record<string, string>;
  dataset?: Record<string, string>;
  executor?: 'local' | 'slurm';
}

/** Prints a submitted job, or with `follow` its log until it ends (exit code 1 unless it succeeded). */
async function reportSubmitted(ctx: CliContext, c: Connection, submitted: TrainingJob, follow: boolean): Promise<void> {
  if (!follow) {
    ctx.out(submitted, () => console.log(stateLine(submitted)));
    return;
  }
  // Following: stdout is the program's output (or, with --json, the ended job as one JSON document).
  if (!ctx.json()) console.error(stateLine(submitted));
  const ended = await followLog(c, submitted.id, ctx.json() ? toStderr : toProgramStreams);
  ctx.out(ended, () => console.error(stateLine(ended)));
  if (ended.state !== 'succeeded') process.exitCode = 1;
}

/** `aidos gpus` and `aidos jobs …`: the GPU inventory and training jobs. */
export function addTrainosCommands(program: Command, ctx: CliContext): void {
  program
    .command('gpus')
    .description('list GPUs: memory, what the app has reserved, utilisation, temperature, power')
    .action(async () => {
      const list = await ctx.conn().client.call('gpus.list');
      ctx.out(list, () => {
        if (list.cpuOnly) {
          console.log('no GPU: jobs run on the CPU');
          return;
        }
        printTable(list.items.map(gpuRow), 'no GPU: jobs run on the CPU');
        for (const g of list.items) {
          for (const h of g.vram.holders) {
            console.log(
              `  gpu ${g.index}: ${h.label} (${h.owner} ${h.kind}, ${h.mb} MiB${h.parkable ? ', parkable' : ''})`,
            );
          }
          for (const w of g.vram.waiting) {
            console.log(`  gpu ${g.index}: ${w.label} waits for ${w.mb} MiB`);
          }
        }
      });
    });

  const jobs = program.command('jobs').description('training jobs: submit, list, follow logs, cancel, retry');
  jobs
    .command('submit')
    .description(
      'submit a training job: the command after -- runs (without a shell) when its resources are free; ' +
        "prints its id and state, or with --follow its log (then the CLI's own lines go to stderr)",
    )
    .argument('[command...]', 'the program and its arguments, after --')
    .option('--name <name>', "a name to show in lists (default: the program's file name)")
    .option('--gpus <n|any>', "whole GPUs, or 'any': one if one is free, else the CPU (default 0)", gpuCount)
    .option(
      '--gpu-memory <MB>',
      'with one GPU: the GPU memory it needs, so small jobs can share a GPU',
      integer('--gpu-memory'),
    )
    .option('--cpus <n>', 'CPU threads (default 1)', integer('--cpus'))
    .option('--ram <MB>', 'RAM in MiB (default 512)', integer('--ram'))
    .option('--priority <n>', 'higher runs first, -100 to 100 (default 0)', integer('--priority'))
    .option('--max-runtime <seconds>', 'stop it after this long', integer('--max-runtime'))
    .option('--retries <n>', 'start a failed job again up to this many times (default 0)', integer('--retries'))
    .option(
      '--keep-checkpoints <n>',
      'keep only its newest n checkpoints, deleting older ones as it saves (default: all)',
      integer('--keep-checkpoints'),
    )
    .option('--experiment <name>', 'the ModelHub experiment its run goes into (default: Default)')
    .option('--env <KEY=VALUE>', 'an environment variable for it (repeatable)', envPair)
    .option('--cwd <dir>', 'its working directory (default: the current one)')
    .option(
      '--executor <where>',
      "'local': this machine (default); 'slurm': the configured Slurm cluster",
      executorName,
    )
    .option('--template <id>', 'a job from a template (aidos jobs templates) instead of a command')
    .option('--param <NAME=VALUE>', "a template's parameter (repeatable)", keyValue('--param'))
    .option('--dataset <AS=NAME[@VERSION]>', 'a dataset version a template reads (repeatable)', keyValue('--dataset'))
    .option('-f, --follow', 'print its log until it ends; exit 0 if it succeeded, 1 otherwise')
    .action(async (command: string[], o: SubmitOptions) => {
      if (o.template !== undefined) {
        if (command.length > 0) throw AppError.invalid('command', 'give either a command or --template, not both');
        const c = ctx.conn();
        const submitted = await c.client.call('trainingTemplates.submit', {
          template: o.template,
          name: o.name,
          params: o.param ?? {},
          datasets: templateDatasets(o.dataset ?? {}),
          ...(o.cpus !== undefined || o.gpus !== undefined || o.ram !== undefined
            ? { resources: { gpus: o.gpus, gpuMemoryMb: o.gpuMemory, cpuThreads: o.cpus, ramMb: o.ram } }
            : {}),
          priority: o.priority,
          retries: o.retries,
          keepCheckpoints: o.keepCheckpoints,
          experiment: o.experiment,
          executor: o.executor,
        });
        await reportSubmitted(ctx, c, submitted, o.follow === true);
        return;
      }
      if (o.param || o.dataset) throw AppError.invalid('--param', '--param and --dataset go with --template');
      if (command.length === 0) {
        throw AppError.invalid(
          'command',
          'give the program to run after --, e.g. aidos jobs submit -- python3 train.py',
        );
      }
      const spec: TrainingJobInput = {
        name: o.name,
        command,
        workingDir: path.resolve(o.cwd ?? '.'),
        env: o.env,
        resources: { gpus: o.gpus, gpuMemoryMb: o.gpuMemory, cpuThreads: o.cpus, ramMb: o.ram },
        priority: o.priority,
        maxRuntimeSeconds: o.maxRuntime,
        retries: o.retries,
        keepCheckpoints: o.keepCheckpoints,
        experiment: o.experiment,
        executor: o.executor,
      };
      checkSpec(spec);
      const c = ctx.conn();
      await reportSubmitted(ctx, c, await c.client.call('trainingJobs.submit', spec), o.follow === true);
    });
  jobs
    .command('templates')
    .description('list training templates (for aidos jobs submit --template) with their parameters and datasets')
    .action(async () => {
      const { templates } = await ctx.conn().client.call('trainingTemplates.list');
      ctx.out({ templates }, () => {
        if (templates.length === 0) console.log('no training templates');
        for (const t of templates) {
          console.log(`${t.id}  ${t.title}`);
          for (const d of t.datasets) console.log(`  --dataset ${d.as}=<dataset>[@version]  ${d.help}`);
          for (const p of t.params) {
            const value = p.required ? ' (required)' : p.default === undefined ? '' : ` (default ${String(p.default)})`;
            const choices = p.choices ? ` [${p.choices.join('|')}]` : '';
            console.log(`  --param ${p.name}=<${p.type}>${choices}${value}  ${p.help}`);
          }
        }
      });
    });
  jobs
    .command('checkpoints <id>')
    .description("list a job's checkpoints, oldest first (a restart resumes from the newest)")
    .action(async (id: string) => {
      const { checkpoints } = await ctx.conn().client.call('trainingJobs.checkpoints', { job: id });
      ctx.out({ checkpoints }, () =>
        printTable(
          checkpoints.map((k) => ({
            id: k.id,
            attempt: k.attempt,
            step: k.step,
            name: k.name,
            size: k.size,
            saved: formatTime(k.createdAt),
          })),
          'no checkpoints',
        ),
      );
    });
  jobs
    .command('list')
    .description('list training jobs, newest first')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(TRAINING_JOB_STATES))
    .option('-n, --limit <n>', 'how many (at most 500)', integer('--limit'), 50)
    .action(async (o: { state?: TrainingJobState; limit: number }) => {
      const page = await ctx.conn().client.call('trainingJobs.list', { state: o.state, limit: o.limit });
      ctx.out(page, () =>
        printTable(page.items.map(jobRow), 'no training jobs (submit one with: aidos jobs submit -- <command>)'),
      );
    });
  jobs
    .command('show <id>')
    .description('show one training job: its command, resources, placement, state and times')
    .action(async (id: string) => {
      const job = await ctx.conn().client.call('trainingJobs.get', { job: id });
      ctx.out(job, () => printJob(job));
    });
  jobs
    .command('logs <id>')
    .description("print a job's log as the program wrote it (its stderr to stderr); --json: one JSON line per line")
    .option('-f, --follow', 'keep printing until the job has ended')
    .action(async (id: string, o: { follow?: boolean }) => {
      const c = ctx.conn();
      const sink = ctx.json() ? asJsonLines : toProgramStreams;
      if (o.follow) await followLog(c, id, sink);
      else await drainLog(c, id, 0, sink);
    });
  jobs
    .command('cancel <id>')
    .description('cancel a training job: a queued one at once, a running one by SIGTERM (SIGKILL after a grace)')
    .action(async (id: string) => {
      const job = await ctx.conn().client.call('trainingJobs.cancel', { job: id });
      ctx.out(job, () =>
        console.log(job.state === 'cancelled' ? `cancelled ${id}` : `cancel requested for ${id} (it is ${job.state})`),
      );
    });
  addSweepCommands(program, ctx);
  jobs
    .command('retry <id>')
    .description('submit an ended job again with the same spec, as a new job')
    .action(async (id: string) => {
      const job = await ctx.conn().client.call('trainingJobs.retry', { job: id });
      ctx.out(job, () => console.log(`${stateLine(job)} (retry of ${id})`));
    });
}

function sweepRow(sweep: Sweep) {
  const best = sweep.trials.find((t) => t.number === sweep.bestTrial);
  return {
    id: sweep.id,
    name: sweep.name,
    state: sweep.state,
    trials: `${sweep.trials.filter((t) => !['queued', 'running'].includes(t.state)).length} / ${sweep.spec.maxTrials}`,
    [`best ${sweep.spec.objective.metric}`]: best?.value ?? null,
    created: formatTime(sweep.createdAt),
  };
}

function printSweep(sweep: Sweep): void {
  console.log(`${sweep.name} (${sweep.id}): ${sweep.state}${sweep.reason ? ` — ${sweep.reason}` : ''}`);
  const { objective, algorithm, earlyStopping } = sweep.spec;
  console.log(`${algorithm} search, ${objective.goal} ${objective.metric}, early stopping: ${earlyStopping.type}`);
  const names = Object.keys(sweep.spec.space);
  // Best first for the goal; trials without a value last, in order.
  const sign = objective.goal === 'minimize' ? 1 : -1;
  const trials = [...sweep.trials].sort((a, b) =>
    a.value === null || b.value === null ? (a.value === null ? 1 : -1) : sign * (a.value - b.value),
  );
  printTable(
    trials.map((t) => ({
      trial: t.number === sweep.bestTrial ? `${t.number} *` : t.number,
      state: t.state,
      [objective.metric]: t.value,
      step: t.step,
      ...Object.fromEntries(names.map((n) => [n, t.params[n] ?? null])),
      job: t.jobId,
    })),
    'no trials yet',
  );
}

/** `aidos sweeps …`: hyper-parameter sweeps of training jobs. */
function addSweepCommands(program: Command, ctx: CliContext): void {
  const sweeps = program.command('sweeps').description('hyper-parameter sweeps: trials as training jobs');
  sweeps
    .command('create <file>')
    .description('start a sweep described by a JSON file (name, job or template, space, objective, algorithm…)')
    .action(async (file: string) => {
      let spec: unknown;
      try {
        spec = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw AppError.invalid('file', `${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const sweep = await ctx.conn().client.call('trainingSweeps.create', spec as SweepInput);
      ctx.out(sweep, () => console.log(`${sweep.id} ${sweep.state} (${sweep.trials.length} trials started)`));
    });
  sweeps
    .command('list')
    .description('list sweeps, newest first')
    .option('-n, --limit <n>', 'how many (at most 500)', integer('--limit'), 50)
    .action(async (o: { limit: number }) => {
      const page = await ctx.conn().client.call('trainingSweeps.list', { limit: o.limit });
      ctx.out(page, () =>
        printTable(page.items.map(sweepRow), 'no sweeps (start one with: aidos sweeps create <file>)'),
      );
    });
  sweeps
    .command('show <id>')
    .description("show a sweep's trials, best first, with their parameters (* marks the best)")
    .action(async (id: string) => {
      const sweep = await ctx.conn().client.call('trainingSweeps.get', { sweep: id });
      ctx.out(sweep, () => printSweep(sweep));
    });
  sweeps
    .command('cancel <id>')
    .description('cancel a sweep: no more trials, and its running ones are cancelled')
    .action(async (id: string) => {
      const sweep = await ctx.conn().client.call('trainingSweeps.cancel', { sweep: id });
      ctx.out(sweep, () => console.log(`${sweep.id} ${sweep.state}`));
    });
}
