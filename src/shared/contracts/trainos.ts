import { z } from 'zod';
import { RawReplySchema, endpoint, noInput } from '../api/endpoint';
import { Id, PageQuery, Timestamp, page } from './common';
import { EarlyStopping, ParamValue, SweepAlgorithm, SweepObjective, SweepSpace } from '../sweep-space';
import { BuiltinTrainerParams } from './builtin-trainer';
import { Gpu } from './system';

/** Who holds GPU memory: served models (DeployEngine) or training jobs (TrainOS). */
export const VramOwner = z.enum(['deploy', 'trainos']);
export type VramOwner = z.infer<typeof VramOwner>;

export const VramHolderKind = z.enum(['model', 'job']);
export type VramHolderKind = z.infer<typeof VramHolderKind>;

/** A reservation of GPU memory held through the VRAM arbiter; its id is the holder's own (deployment, job). */
export const VramHolder = z.object({
  id: z.string(),
  owner: VramOwner,
  kind: VramHolderKind,
  /** What a person sees on the GPU board ("llama-3-8b q4", "job 01J… resnet"). */
  label: z.string(),
  mb: z.number(),
  since: Timestamp,
  lastUsedAt: Timestamp,
  /** Whether it may be asked to give its memory back (an idle served model that can be reloaded later). */
  parkable: z.boolean(),
});
export type VramHolder = z.infer<typeof VramHolder>;

/** A reservation waiting for parked holders to be released. */
export const VramWaiting = z.object({
  id: z.string(),
  owner: VramOwner,
  label: z.string(),
  mb: z.number(),
  since: Timestamp,
  /** The holders asked to park for it. */
  waitingFor: z.array(z.string()),
});
export type VramWaiting = z.infer<typeof VramWaiting>;

/** One GPU's memory as the arbiter accounts it, in MiB. */
export const VramGpu = z.object({
  index: z.number().int(),
  /** What the inventory reports; 0 when the GPU's memory size is unknown (then nothing is placed on it). */
  totalMb: z.number(),
  /** Held by the app's reservations. */
  reservedMb: z.number(),
  /** Used by processes outside the app: the GPU's used memory beyond what the app reserved, never negative. */
  externalMb: z.number(),
  /** What is left for new reservations: total − reserved − external, never negative. */
  freeMb: z.number(),
  holders: z.array(VramHolder),
  waiting: z.array(VramWaiting),
});
export type VramGpu = z.infer<typeof VramGpu>;

export const GpuStatus = Gpu.extend({ vram: VramGpu });
export type GpuStatus = z.infer<typeof GpuStatus>;

/** What a training job asks of the machine. */
export const JobResources = z.object({
  /** Whole GPUs; 'any': one if one is free, else the CPU. */
  gpus: z.union([z.number().int().min(0).max(64), z.literal('any')]).default(0),
  /** With gpus = 1: the GPU memory it needs, so that small jobs can share a GPU. */
  gpuMemoryMb: z.number().int().positive().optional(),
  cpuThreads: z.number().int().min(1).max(1024).default(1),
  ramMb: z.number().int().min(1).max(16_777_216).default(512),
});
export type JobResources = z.infer<typeof JobResources>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const TRAINING_JOB_KINDS = ['script', 'builtin'] as const;

/**
 * A training job. `script`: any command in a working dir, logging to a ModelHub run through the SDK or MLflow's
 * client. `builtin`: one of the app's own trainers (TF.js in a worker thread) on the job's one dataset version,
 * logging each epoch, checkpointing each epoch, and registering its ONNX export as a model version.
 */
export const TrainingJobSpec = z
  .object({
    kind: z.enum(TRAINING_JOB_KINDS).default('script'),
    name: z.string().min(1).max(200).optional(),
    /** script: the program and its arguments, run without a shell: ["python3", "train.py", "--lr", "0.01"]. */
    command: z
      .array(z.string().max(32_768))
      .min(1)
      .max(1000)
      .refine((argv) => (argv[0] ?? '') !== '', 'must start with the program to run')
      .optional(),
    /** script: an absolute path on the machine that runs the job. */
    workingDir: z.string().min(1).max(4096).optional(),
    /** builtin: which trainer, on which file and columns of the dataset, with which hyper-parameters. */
    trainer: BuiltinTrainerParams.optional(),
    /**
     * builtin: the registered model its ONNX export becomes a version of (made when missing); default, fixed at
     * submission: `<dataset>-<trainer kind>` ("iris-tabular-classifier").
     */
    registerModel: z.string().min(1).max(250).optional(),
    env: z
      .record(z.string().regex(ENV_NAME, 'must be an environment variable name').max(200), z.string().max(32_768))
      .default({}),
    resources: JobResources.default({ gpus: 0, cpuThreads: 1, ramMb: 512 }),
    /** Higher runs first; equal priorities in the order submitted. */
    priority: z.number().int().min(-100).max(100).default(0),
    maxRuntimeSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .optional(),
    /**
     * Where it runs: 'local' (process groups on this machine, placed by TrainOS on its GPUs) or 'slurm' (a batch job
     * of the Slurm cluster the app is configured for, placed by Slurm: GPUs as `--gres=gpu:N`, CPUs, memory and the
     * maximum runtime as sbatch options; the cluster must share this machine's file system and reach its API).
     */
    executor: z.enum(['local', 'slurm']).default('local'),
    /**
     * Whether a job of higher priority may stop it once it has a checkpoint; it is then queued again and resumes from
     * that checkpoint.
     */
    preemptible: z.boolean().default(true),
    /**
     * Whether it may ask idle served models to give their GPU memory back (DeployEngine unloads them, and loads them
     * again on their next request); false: it waits until the memory is free.
     */
    parkIdleModels: z.boolean().default(true),
    /** Logged as its run's parameters (a template's or a sweep trial's values). */
    params: z.record(z.string().min(1).max(250), z.string().max(6000)).default({}),
    /** The ModelHub run its run is a child of (a sweep's). */
    parentRunId: z.string().min(1).max(64).optional(),
    /**
     * How many of its checkpoints are kept, the newest; an older one is deleted when a newer one is saved (a job
     * that checkpoints a large model every few minutes would otherwise fill the disk). Default: all of them.
     */
    keepCheckpoints: z.number().int().min(1).max(10_000).optional(),
    /** How many more times a failed job is started again (not after a cancel or a time-out). */
    retries: z.number().int().min(0).max(10).default(0),
    /** The ModelHub experiment its run goes into (made when missing). */
    experiment: z.string().min(1).max(250).default('Default'),
    /**
     * DataForge versions the job reads: each is written once into a folder of its own (shared by the jobs that read
     * that version: not to be written into), named in the job's environment as AIDOS_DATASET_<AS> (`as`, else the dataset's name in capitals, non-alphanumerics as _),
     * and logged as an input of its run. `version` (a number, tag or "latest") is fixed when the job is submitted.
     */
    datasets: z
      .array(
        z.object({
          dataset: z.string().min(1).max(200),
          version: z.string().min(1).max(100).default('latest'),
          as: z
            .string()
            .regex(/^[A-Z0-9_]{1,64}$/, 'must be capitals, digits and _')
            .optional(),
        }),
      )
      .max(20)
      .default([]),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (spec.kind === 'script') {
      if (spec.executor === 'slurm' && spec.resources.gpus === 'any') {
        issue('resources.gpus', "'any' is for jobs on this machine: ask Slurm for a number of GPUs");
      }
      if (spec.command === undefined) issue('command', "is required for a 'script' job");
      if (spec.workingDir === undefined) issue('workingDir', "is required for a 'script' job");
      if (spec.trainer !== undefined) issue('trainer', "is for 'builtin' jobs; a 'script' job runs its command");
      return;
    }
    if (spec.trainer === undefined) issue('trainer', "is required for a 'builtin' job: which trainer and its settings");
    if (spec.command !== undefined) issue('command', "is for 'script' jobs; a 'builtin' job runs its trainer");
    if (spec.datasets.length !== 1) {
      issue('datasets', `a 'builtin' job trains on exactly one dataset version (got ${spec.datasets.length})`);
    }
    if (spec.resources.gpus !== 0 && spec.resources.gpus !== 'any') {
      issue('resources.gpus', "built-in trainers run on the CPU here (TF.js's wasm backend): ask for 0 GPUs");
    }
    if (spec.executor !== 'local') issue('executor', "built-in trainers run in the app: the executor is 'local'");
  });
export type TrainingJobSpec = z.infer<typeof TrainingJobSpec>;
export type TrainingJobInput = z.input<typeof TrainingJobSpec>;

export const TRAINING_JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed-out'] as const;
export const TrainingJobState = z.enum(TRAINING_JOB_STATES);
export type TrainingJobState = z.infer<typeof TrainingJobState>;

/** Whether a job has ended (it will not run again; `retry` makes a new job). */
export function hasEnded(state: TrainingJobState): boolean {
  return state !== 'queued' && state !== 'running';
}

/** A file a job saved to resume from (model and optimizer state…), kept in the blob store. */
export const TrainingCheckpoint = z.object({
  id: Id,
  jobId: Id,
  /** The attempt that saved it. */
  attempt: z.number().int(),
  /** The last training step whose metrics it includes: a resumed attempt logs from the step after it. */
  step: z.number().int(),
  /** The file name it was saved under (AIDOS_RESUME_CHECKPOINT keeps it). */
  name: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  createdAt: Timestamp,
});
export type TrainingCheckpoint = z.infer<typeof TrainingCheckpoint>;

const CHECKPOINT_NAME = /^[^/\\\0]{1,200}$/;

export const TrainingJob = z.object({
  id: Id,
  name: z.string(),
  spec: TrainingJobSpec,
  state: TrainingJobState,
  /** 1 for the first start; a retry after a failure counts up. */
  attempt: z.number().int(),
  /** The ModelHub run it logs into (AIDOS_RUN_ID), made when it first starts. */
  runId: z.string().nullable(),
  /** Where it runs: GPU indices ([] on the CPU) and the CUDA_VISIBLE_DEVICES it was given. */
  placement: z.object({ gpus: z.array(z.number().int()), cudaVisibleDevices: z.string() }).nullable(),
  /** Why a queued job is not running yet ("waiting for 2 free GPUs (1 free)"). */
  waitingReason: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** Why it did not succeed, for people ("exited with code 3", "cancelled"). */
  reason: z.string().nullable(),
  /** The newest checkpoint, from which a restart resumes. */
  lastCheckpoint: TrainingCheckpoint.nullable(),
  /** The step of the checkpoint the current attempt resumed from; null when it started from scratch. */
  resumedFromStep: z.number().int().nullable(),
  /** The job this one retries by hand (`retry`), if any. */
  retryOf: Id.nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
});
export type TrainingJob = z.infer<typeof TrainingJob>;

export const JobLogLine = z.object({
  time: Timestamp,
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
export type JobLogLine = z.infer<typeof JobLogLine>;

/** A value a template parameter takes. */
export const TemplateParamValue = z.union([z.string().max(4096), z.number(), z.boolean()]);
export type TemplateParamValue = z.infer<typeof TemplateParamValue>;

export const TemplateParam = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name of letters, digits and _'),
  type: z.enum(['string', 'int', 'number', 'boolean', 'choice']),
  default: TemplateParamValue.optional(),
  required: z.boolean().default(false),
  /** The values a `choice` takes. */
  choices: z.array(z.string()).optional(),
  help: z.string().default(''),
});
export type TemplateParam = z.infer<typeof TemplateParam>;

const templateBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and -'),
  title: z.string().min(1),
  description: z.string().default(''),
  params: z.array(TemplateParam).default([]),
  /** The dataset versions it reads, each named in the environment as AIDOS_DATASET_<as>. */
  datasets: z.array(z.object({ as: z.string().regex(/^[A-Z0-9_]{1,64}$/), help: z.string().default('') })).default([]),
  resources: JobResources.default({ gpus: 0, cpuThreads: 1, ramMb: 512 }),
};

/**
 * A ready-made training job, filled in with parameters and dataset versions. `script`: a script shipped in
 * `resources/templates/<id>/` whose command has `{param}` placeholders and runs in that folder. `builtin`: a
 * built-in trainer's settings, where a value that is exactly `"{param}"` takes the parameter's typed value (left
 * out when the parameter is not set) and other strings have their placeholders replaced.
 */
export const TrainingTemplate = z.discriminatedUnion('kind', [
  z.object({ ...templateBase, kind: z.literal('script'), command: z.array(z.string()).min(1) }),
  z.object({ ...templateBase, kind: z.literal('builtin'), trainer: z.record(z.string(), z.unknown()) }),
]);
export type TrainingTemplate = z.infer<typeof TrainingTemplate>;

/** A job from a template: its parameters and dataset versions, and optionally what a spec sets besides. */
export const TemplateJobInput = z.object({
  template: z.string().min(1).max(64),
  name: z.string().min(1).max(200).optional(),
  params: z.record(z.string(), TemplateParamValue).default({}),
  /** One per dataset the template reads, by its `as`. */
  datasets: z
    .record(
      z.string(),
      z.object({ dataset: z.string().min(1).max(200), version: z.string().min(1).max(100).default('latest') }),
    )
    .default({}),
  resources: JobResources.optional(),
  priority: z.number().int().min(-100).max(100).default(0),
  experiment: z.string().min(1).max(250).default('Default'),
  retries: z.number().int().min(0).max(10).default(0),
  /** As the job spec's: the newest checkpoints kept (default all). */
  keepCheckpoints: z.number().int().min(1).max(10_000).optional(),
  executor: z.enum(['local', 'slurm']).default('local'),
});
export type TemplateJobInput = z.infer<typeof TemplateJobInput>;

/**
 * A hyper-parameter sweep: trials of one job (a spec, or a template) with parameters the search picks from `space`,
 * `parallel` at a time, judged by `objective` (the last value their run logs under its metric).
 */
export const SweepSpec = z
  .object({
    name: z.string().min(1).max(200),
    /**
     * The trial job: `{name}` in its command and env values is replaced by the trial's value of parameter `name`;
     * every trial also gets AIDOS_SWEEP_PARAMS (the values as JSON).
     */
    job: TrainingJobSpec.optional(),
    /** Or a template: the trial's values are its parameters (each space parameter must be one of them). */
    template: TemplateJobInput.optional(),
    space: SweepSpace,
    objective: SweepObjective,
    algorithm: SweepAlgorithm.default('random'),
    maxTrials: z.number().int().min(1).max(10_000).default(20),
    /** Trials running at once (each still waits for its resources). */
    parallel: z.number().int().min(1).max(256).default(2),
    earlyStopping: EarlyStopping.default({ type: 'none' }),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** Grid search: points on each continuous range. */
    gridPoints: z.number().int().min(2).max(100).optional(),
  })
  .refine((s) => (s.job === undefined) !== (s.template === undefined), {
    message: 'give either job or template',
    path: ['job'],
  });
export type SweepSpec = z.infer<typeof SweepSpec>;
export type SweepInput = z.input<typeof SweepSpec>;

export const SWEEP_TRIAL_STATES = ['queued', 'running', 'completed', 'failed', 'pruned', 'cancelled'] as const;
export const SweepTrial = z.object({
  number: z.number().int(),
  jobId: Id,
  runId: z.string().nullable(),
  params: z.record(z.string(), ParamValue),
  state: z.enum(SWEEP_TRIAL_STATES),
  /** The objective's last value; null before the run logs one. */
  value: z.number().nullable(),
  /** The last step at which the objective was reported. */
  step: z.number().int().nullable(),
  /** Why it ended early ("stopped by the median rule at step 12"). */
  reason: z.string().nullable(),
});
export type SweepTrial = z.infer<typeof SweepTrial>;

export const SweepState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type SweepState = z.infer<typeof SweepState>;

export const Sweep = z.object({
  id: Id,
  name: z.string(),
  spec: SweepSpec,
  state: SweepState,
  /** The parent run in ModelHub; each trial's run is its child. */
  runId: z.string().nullable(),
  /** The trial with the best objective so far. */
  bestTrial: z.number().int().nullable(),
  trials: z.array(SweepTrial),
  reason: z.string().nullable(),
  createdAt: Timestamp,
  endedAt: Timestamp.nullable(),
});
export type Sweep = z.infer<typeof Sweep>;

const jobPath = '/api/v1/training/jobs/:job';
const sweepPath = '/api/v1/training/sweeps/:sweep';

export const trainosEndpoints = {
  'gpus.list': endpoint({
    method: 'GET',
    path: '/api/v1/gpus',
    summary: 'GPU inventory with the memory the app has reserved on each; cpuOnly when there is no GPU',
    scope: 'read',
    input: noInput,
    output: z.object({
      /** No GPU found: training jobs run on the CPU. */
      cpuOnly: z.boolean(),
      items: z.array(GpuStatus),
    }),
  }),
  'trainingJobs.submit': endpoint({
    method: 'POST',
    path: '/api/v1/training/jobs',
    summary: 'Submit a training job (a command in a working dir); it runs when its resources are free',
    scope: 'write',
    input: TrainingJobSpec,
    output: TrainingJob,
    status: 201,
  }),
  'trainingSweeps.create': endpoint({
    method: 'POST',
    path: '/api/v1/training/sweeps',
    summary: 'Start a hyper-parameter sweep: grid, random or TPE search, trials as child runs, optional early stopping',
    scope: 'write',
    input: SweepSpec,
    output: Sweep,
    status: 201,
  }),
  'trainingSweeps.list': endpoint({
    method: 'GET',
    path: '/api/v1/training/sweeps',
    summary: 'Sweeps, newest first',
    scope: 'read',
    input: PageQuery,
    output: page(Sweep),
  }),
  'trainingSweeps.get': endpoint({
    method: 'GET',
    path: sweepPath,
    summary: 'One sweep with its trials',
    scope: 'read',
    input: z.object({ sweep: Id }),
    output: Sweep,
  }),
  'trainingSweeps.cancel': endpoint({
    method: 'POST',
    path: `${sweepPath}/cancel`,
    summary: 'Cancel a sweep: no more trials, running ones cancelled',
    scope: 'write',
    input: z.object({ sweep: Id }),
    output: Sweep,
  }),
  'trainingTemplates.list': endpoint({
    method: 'GET',
    path: '/api/v1/training/templates',
    summary: 'Training templates: ready-made jobs to fill in with parameters and dataset versions',
    scope: 'read',
    input: noInput,
    output: z.object({ templates: z.array(TrainingTemplate) }),
  }),
  'trainingTemplates.submit': endpoint({
    method: 'POST',
    path: '/api/v1/training/templates/:template/jobs',
    summary: "Submit a job from a template: its command filled in with the parameters, run in the template's folder",
    scope: 'write',
    input: TemplateJobInput,
    output: TrainingJob,
    status: 201,
  }),
  'trainingJobs.list': endpoint({
    method: 'GET',
    path: '/api/v1/training/jobs',
    summary: 'Training jobs, newest first, optionally in one state',
    scope: 'read',
    input: PageQuery.extend({ state: TrainingJobState.optional() }),
    output: page(TrainingJob),
  }),
  'trainingJobs.get': endpoint({
    method: 'GET',
    path: jobPath,
    summary: 'One training job',
    scope: 'read',
    input: z.object({ job: Id }),
    output: TrainingJob,
  }),
  'trainingJobs.logs': endpoint({
    method: 'GET',
    path: `${jobPath}/logs`,
    summary:
      "A page of a job's log from a byte offset (follow with nextByte; live lines come as training.job.log events)",
    scope: 'read',
    input: z.object({
      job: Id,
      fromByte: z.coerce.number().int().min(0).default(0),
      maxBytes: z.coerce.number().int().min(1).max(4_194_304).default(262_144),
    }),
    output: z.object({ lines: z.array(JobLogLine), nextByte: z.number().int(), atEnd: z.boolean() }),
  }),
  'trainingJobs.cancel': endpoint({
    method: 'POST',
    path: `${jobPath}/cancel`,
    summary: 'Cancel a training job: a queued one at once, a running one by SIGTERM, then SIGKILL after a grace',
    scope: 'write',
    input: z.object({ job: Id }),
    output: TrainingJob,
  }),
  'trainingJobs.retry': endpoint({
    method: 'POST',
    path: `${jobPath}/retry`,
    summary: 'Submit an ended job again with the same spec, as a new job (retryOf names the old one)',
    scope: 'write',
    input: z.object({ job: Id }),
    output: TrainingJob,
    status: 201,
  }),
  'trainingJobs.saveCheckpoint': endpoint({
    method: 'POST',
    path: `${jobPath}/checkpoints`,
    summary:
      'Save a checkpoint of a running job (the body is the file); a restart resumes from the newest (AIDOS_RESUME_CHECKPOINT)',
    scope: 'write',
    input: z.object({
      job: Id,
      step: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      name: z
        .string()
        .regex(CHECKPOINT_NAME, 'must be a file name (no / or \\, at most 200 characters)')
        .refine((n) => n !== '.' && n !== '..', 'must be a file name'),
    }),
    output: TrainingCheckpoint,
    status: 201,
    rawBody: { maxBytes: 1024 * 1024 * 1024 },
  }),
  'trainingJobs.checkpoints': endpoint({
    method: 'GET',
    path: `${jobPath}/checkpoints`,
    summary: "A job's checkpoints, oldest first",
    scope: 'read',
    input: z.object({ job: Id }),
    output: z.object({ checkpoints: z.array(TrainingCheckpoint) }),
  }),
  'trainingJobs.checkpointContent': endpoint({
    method: 'GET',
    path: `${jobPath}/checkpoints/:checkpoint/content`,
    summary: "A checkpoint's file",
    scope: 'read',
    input: z.object({ job: Id, checkpoint: Id }),
    output: RawReplySchema,
    rawOutput: true,
  }),
} as const;

const VramHolderRef = VramHolder.pick({ id: true, owner: true, kind: true, label: true, mb: true });

export const trainosEvents = {
  /** A training job was submitted, started, ended, or its waiting reason changed. */
  'training.job.updated': z.object({ job: TrainingJob }),
  /**
   * Lines of a running job's output, gathered for up to a tenth of a second; each line's `nextByte` is where the
   * log continues after it, so that a reader joins them to a `trainingJobs.logs` page without gaps or repeats.
   */
  'training.job.log': z.object({
    jobId: Id,
    lines: z.array(JobLogLine.extend({ nextByte: z.number().int() })).min(1),
  }),
  /** A sweep started, a trial started or ended, or the sweep ended. */
  'training.sweep.updated': z.object({ sweep: Sweep }),
  /** Memory was granted; `waitedMs` is how long it waited for parked holders (0 when it fit at once). */
  'vram.reserved': VramHolderRef.extend({ gpu: z.number().int(), waitedMs: z.number().int().nonnegative() }),
  'vram.released': VramHolderRef.extend({ gpu: z.number().int(), heldMs: z.number().int().nonnegative() }),
  /**
   * A reservation does not fit and these parkable holders (least recently used first) were chosen to make
   * room on `gpu`; their owners may release them. The reservation waits until they are gone or it times out.
   */
  'vram.park-requested': z.object({
    requestId: z.string(),
    owner: VramOwner,
    label: z.string(),
    gpu: z.number().int(),
    mb: z.number(),
    /** How much more memory the reservation needs than the GPU has free now. */
    shortfallMb: z.number(),
    holders: z.array(VramHolderRef.extend({ lastUsedAt: Timestamp })),
  }),
} as const;
