import { z } from 'zod';
import { endpoint } from '../api/endpoint';
import { Id, Timestamp } from './common';
import { DatasetName, DatasetRef, DatasetVersion, VersionRef } from './dataforge';

/**
 * Labeling projects over a dataset version (DataForge): every row of a table, image or text file becomes a task;
 * annotators label tasks (several per task with an overlap above 1), a reviewer accepts or fixes, and the
 * result is exported as a new dataset version.
 */
export const LABEL_KINDS = ['classification', 'multilabel', 'ner', 'boxes'] as const;
export const LabelKind = z.enum(LABEL_KINDS);
export type LabelKind = z.infer<typeof LabelKind>;

export const ProjectName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,79}$/,
    'must be 1-80 characters: a-z, 0-9, ".", "_", "-", starting with a letter or digit',
  );

/** A project by id or by name (within its dataset). */
export const ProjectRef = z.union([Id, ProjectName]);

export const LabelDef = z.object({
  name: z
    .string()
    .min(1)
    .max(100)
    .refine((n) => n.trim() === n && !/[|\t\n\r]/.test(n), 'must not have outer spaces, tabs, newlines or "|"'),
  /** `#rrggbb`; assigned from a palette when absent. */
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour')
    .optional(),
  /** A single key (0-9, a-z) that picks the label in the labeling UI; the first nine get 1-9 when absent. */
  hotkey: z
    .string()
    .regex(/^[0-9a-z]$/, 'must be one key: 0-9 or a-z')
    .optional(),
  description: z.string().max(500).default(''),
});
export type LabelDef = z.infer<typeof LabelDef>;

/** A label of a project, with its colour and hotkey (null past the ninth label unless given) filled in. */
export const ProjectLabel = z.object({
  name: z.string(),
  color: z.string(),
  hotkey: z.string().nullable(),
  description: z.string(),
});
export type ProjectLabel = z.infer<typeof ProjectLabel>;

/** What the tasks are made from. */
export const LabelSource = z.discriminatedUnion('type', [
  /** Each row of a table (CSV, TSV, JSON lines) is a task; `textColumn` holds the text to label or show first. */
  z.object({
    type: z.literal('table'),
    path: z.string().min(1).max(4096),
    textColumn: z.string().min(1).max(200).optional(),
  }),
  /** Each image (PNG, JPEG, GIF, BMP, WebP) under `prefix` is a task. */
  z.object({ type: z.literal('images'), prefix: z.string().max(4096).default('') }),
  /** Each `.txt` file under `prefix` is a task (at most 1 MiB each). */
  z.object({ type: z.literal('texts'), prefix: z.string().max(4096).default('') }),
]);
export type LabelSource = z.infer<typeof LabelSource>;

export const TextSpan = z.object({
  /** Character offsets into the task's text (UTF-16 code units, as JavaScript strings count); `end` exclusive. */
  start: z.number().int().min(0),
  end: z.number().int().min(1),
  label: z.string(),
});
export type TextSpan = z.infer<typeof TextSpan>;

export const BoundingBox = z.object({
  /** Pixels from the image's top-left corner. */
  x: z.number().min(0),
  y: z.number().min(0),
  width: z.number().positive(),
  height: z.number().positive(),
  label: z.string(),
});
export type BoundingBox = z.infer<typeof BoundingBox>;

/**
 * One annotation's content. Classification: `labels` holds exactly one; multilabel: any number (none is a
 * valid answer); NER: `spans`; boxes: `boxes` (an empty list says "nothing to box here").
 */
export const LabelValue = z.object({
  labels: z.array(z.string()).max(200).optional(),
  spans: z.array(TextSpan).max(5000).optional(),
  boxes: z.array(BoundingBox).max(5000).optional(),
});
export type LabelValue = z.infer<typeof LabelValue>;

export const LabelAnnotation = z.object({
  id: Id,
  taskId: Id,
  annotator: z.string(),
  /** Null when the annotator skipped the task. */
  value: LabelValue.nullable(),
  skipped: z.boolean(),
  durationMs: z.number().int().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type LabelAnnotation = z.infer<typeof LabelAnnotation>;

export const LabelReview = z.object({
  reviewer: z.string(),
  /** `accepted`: one annotator's answer is final; `fixed`: the reviewer's own answer is. */
  decision: z.enum(['accepted', 'fixed']),
  annotationId: Id.nullable(),
  value: LabelValue,
  createdAt: Timestamp,
});
export type LabelReview = z.infer<typeof LabelReview>;

/** A suggestion made outside the annotators (a model's pre-annotation); shown to them as a starting point. */
export const LabelPrediction = z.object({
  value: LabelValue,
  /** Which model (or tool) made it, e.g. `digits-classifier@champion`. */
  model: z.string().min(1).max(200),
  score: z.number().min(0).max(1).nullable(),
});
export type LabelPrediction = z.infer<typeof LabelPrediction>;

export const TASK_STATUSES = ['open', 'in_progress', 'annotated', 'reviewed'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);

export const LabelTask = z.object({
  id: Id,
  projectId: Id,
  /** 0, 1, 2… in source order. */
  position: z.number().int(),
  /** Where the task comes from: a file path, or `path:line` for a table row. */
  item: z.string(),
  data: z.object({
    /** The text to label (NER) or read (classification). */
    text: z.string().nullable(),
    /** A table row's values by column. */
    fields: z.record(z.string(), z.string().nullable()).nullable(),
    image: z
      .object({ path: z.string(), width: z.number().int(), height: z.number().int(), format: z.string() })
      .nullable(),
  }),
  prediction: LabelPrediction.nullable(),
  /** open: no answer yet; in_progress: fewer answers than the overlap; annotated: enough; reviewed: final. */
  status: TaskStatus,
  annotations: z.array(LabelAnnotation),
  review: LabelReview.nullable(),
  /** How far this task's annotators agree, 0-1 (null with fewer than two answers). */
  agreement: z.number().nullable(),
});
export type LabelTask = z.infer<typeof LabelTask>;

export const LabelProject = z.object({
  id: Id,
  name: ProjectName,
  datasetId: Id,
  datasetName: z.string(),
  versionId: Id,
  versionNumber: z.number().int(),
  kind: LabelKind,
  /** Each with its colour and hotkey filled in. */
  labels: z.array(ProjectLabel),
  source: LabelSource,
  /** How many annotators answer each task before it counts as annotated. */
  overlap: z.number().int(),
  /** When true, only reviewed tasks are final (exported by default). */
  review: z.boolean(),
  instructions: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  stats: z.object({
    tasks: z.number().int(),
    open: z.number().int(),
    inProgress: z.number().int(),
    annotated: z.number().int(),
    reviewed: z.number().int(),
    annotators: z.array(z.object({ name: z.string(), submitted: z.number().int(), skipped: z.number().int() })),
  }),
});
export type LabelProject = z.infer<typeof LabelProject>;

export const AGREEMENT_METRICS = ['cohen_kappa', 'fleiss_kappa', 'span_f1', 'box_iou'] as const;

export const LabelAgreement = z.object({
  kind: LabelKind,
  /** Tasks with at least two answers: the ones agreement is measured on. */
  tasks: z.number().int(),
  /**
   * Classification and multilabel: Fleiss' kappa (chance-corrected, any number of annotators); NER: F1 of exact
   * spans between annotators; boxes: IoU of matched boxes, unmatched boxes counting as 0.
   */
  overall: z.object({ metric: z.enum(AGREEMENT_METRICS), value: z.number().nullable() }),
  /** Each pair of annotators over the tasks both answered (Cohen's kappa for classification). */
  pairs: z.array(
    z.object({
      a: z.string(),
      b: z.string(),
      tasks: z.number().int(),
      metric: z.enum(AGREEMENT_METRICS),
      value: z.number().nullable(),
    }),
  ),
  /** Per label: Fleiss' kappa of "has this label" (classification, multilabel) or F1 / IoU of that label. */
  labels: z.array(z.object({ label: z.string(), value: z.number().nullable() })),
  /** The tasks annotators agree on least (up to 50), worst first: where a reviewer should look. */
  lowest: z.array(z.object({ taskId: Id, position: z.number().int(), agreement: z.number() })),
});
export type LabelAgreement = z.infer<typeof LabelAgreement>;

export const EXPORT_FORMATS = ['csv', 'jsonl', 'coco', 'yolo'] as const;

export const LabelExportResult = z.object({
  dataset: z.string(),
  /** False when the export equals the target dataset's latest version (then no version is made). */
  created: z.boolean(),
  version: DatasetVersion,
  /** Tasks written with their final label. */
  exported: z.number().int(),
  /** Tasks with answers whose annotators disagree with no majority and no review: left out. */
  unresolved: z.number().int(),
  files: z.array(z.string()),
});
export type LabelExportResult = z.infer<typeof LabelExportResult>;

const projectsPath = '/api/v1/datasets/:dataset/label-projects';
const projectPath = `${projectsPath}/:project`;
const taskPath = `${projectPath}/tasks/:task`;

const ProjectInput = z.object({ dataset: DatasetRef, project: ProjectRef });
const Annotator = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\s].*[^\s]$|^[^\s]$/, 'must not start or end with a space');

export const labelingEndpoints = {
  'labeling.create': endpoint({
    method: 'POST',
    path: projectsPath,
    summary: 'Create a labeling project over a dataset version: each table row, image or text file becomes a task',
    scope: 'write',
    input: z.object({
      dataset: DatasetRef,
      name: ProjectName,
      version: VersionRef.default('latest'),
      kind: LabelKind,
      labels: z.array(LabelDef).min(1).max(200),
      source: LabelSource,
      overlap: z.number().int().min(1).max(20).default(1),
      review: z.boolean().default(false),
      instructions: z.string().max(20_000).default(''),
    }),
    output: LabelProject,
    status: 201,
  }),
  'labeling.list': endpoint({
    method: 'GET',
    path: projectsPath,
    summary: "A dataset's labeling projects with their progress",
    scope: 'read',
    input: z.object({ dataset: DatasetRef }),
    output: z.object({ items: z.array(LabelProject) }),
  }),
  'labeling.get': endpoint({
    method: 'GET',
    path: projectPath,
    summary: 'A labeling project with its progress per status and annotator',
    scope: 'read',
    input: ProjectInput,
    output: LabelProject,
  }),
  'labeling.update': endpoint({
    method: 'PATCH',
    path: projectPath,
    summary:
      'Edit the label schema (add, recolour, rename with `renames`; removing a label in use is refused), overlap, review, instructions',
    scope: 'write',
    input: ProjectInput.extend({
      labels: z.array(LabelDef).min(1).max(200).optional(),
      /** Old name → new name; every answer, review and prediction using the old name is rewritten. */
      renames: z.record(z.string(), z.string()).optional(),
      overlap: z.number().int().min(1).max(20).optional(),
      review: z.boolean().optional(),
      instructions: z.string().max(20_000).optional(),
    }),
    output: LabelProject,
  }),
  'labeling.delete': endpoint({
    method: 'DELETE',
    path: projectPath,
    summary: 'Delete a labeling project with its tasks and answers (exported versions stay)',
    scope: 'write',
    input: ProjectInput,
    output: LabelProject,
  }),
  'labeling.next': endpoint({
    method: 'GET',
    path: `${projectPath}/next`,
    summary:
      "The annotator's next task (held for them 10 minutes so others are not given it beyond the overlap), or null when none is left",
    scope: 'read',
    input: ProjectInput.extend({ annotator: Annotator.optional() }),
    output: z.object({ task: LabelTask.nullable(), annotator: z.string(), remaining: z.number().int() }),
  }),
  'labeling.release': endpoint({
    method: 'DELETE',
    path: `${projectPath}/next`,
    summary: 'Give back the task held for an annotator (when they stop or switch name), so others may take it',
    scope: 'write',
    input: ProjectInput.extend({ annotator: Annotator.optional() }),
    output: z.object({ released: z.boolean() }),
  }),
  'labeling.tasks': endpoint({
    method: 'GET',
    path: `${projectPath}/tasks`,
    summary:
      "A page of a project's tasks, by status or by annotator; `sort=agreement` puts the least agreed first (for review)",
    scope: 'read',
    input: ProjectInput.extend({
      status: TaskStatus.optional(),
      /** Only tasks this annotator answered or skipped, their latest answer first (for undo across sessions). */
      annotator: Annotator.optional(),
      sort: z.enum(['position', 'agreement']).default('position'),
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    output: z.object({ items: z.array(LabelTask), total: z.number().int(), offset: z.number().int() }),
  }),
  'labeling.task': endpoint({
    method: 'GET',
    path: taskPath,
    summary: 'A task with its answers, review and prediction',
    scope: 'read',
    input: ProjectInput.extend({ task: Id }),
    output: LabelTask,
  }),
  'labeling.annotate': endpoint({
    method: 'PUT',
    path: `${taskPath}/annotations`,
    summary: "Submit (or change) an annotator's answer to a task, or skip it",
    scope: 'write',
    input: ProjectInput.extend({
      task: Id,
      /** Who answers; the caller (OS user or API key) when absent. */
      annotator: Annotator.optional(),
      value: LabelValue.optional(),
      skip: z.boolean().default(false),
      /** Time spent on the task, for throughput figures. */
      durationMs: z.number().int().min(0).max(86_400_000).optional(),
    }),
    output: LabelTask,
  }),
  'labeling.unannotate': endpoint({
    method: 'DELETE',
    path: `${taskPath}/annotations`,
    summary: "Withdraw an annotator's answer or skip (undo): the task is theirs to answer again",
    scope: 'write',
    input: ProjectInput.extend({ task: Id, annotator: Annotator.optional() }),
    output: LabelTask,
  }),
  'labeling.review': endpoint({
    method: 'POST',
    path: `${taskPath}/review`,
    summary: "Make a task's label final: accept one annotator's answer, or give a fixed one",
    scope: 'write',
    input: ProjectInput.extend({
      task: Id,
      reviewer: Annotator.optional(),
      /** The answer to accept. */
      accept: Id.optional(),
      /** The reviewer's own answer (when none is right). */
      value: LabelValue.optional(),
    }),
    output: LabelTask,
  }),
  'labeling.unreview': endpoint({
    method: 'DELETE',
    path: `${taskPath}/review`,
    summary: 'Withdraw the review of a task',
    scope: 'write',
    input: ProjectInput.extend({ task: Id }),
    output: LabelTask,
  }),
  'labeling.predictions': endpoint({
    method: 'PUT',
    path: `${projectPath}/predictions`,
    summary: "Attach pre-annotations (a model's suggestions) to tasks by task id or item; annotators start from them",
    scope: 'write',
    input: ProjectInput.extend({
      model: z.string().min(1).max(200),
      items: z
        .array(
          z.object({
            task: Id.optional(),
            item: z.string().max(4200).optional(),
            value: LabelValue,
            score: z.number().min(0).max(1).optional(),
          }),
        )
        .min(1)
        .max(100_000),
    }),
    output: z.object({ updated: z.number().int() }),
  }),
  'labeling.agreement': endpoint({
    method: 'GET',
    path: `${projectPath}/agreement`,
    summary: "Inter-annotator agreement: Fleiss' and pairwise Cohen's kappa, span F1 (NER) or box IoU",
    scope: 'read',
    input: ProjectInput,
    output: LabelAgreement,
  }),
  'labeling.export': endpoint({
    method: 'POST',
    path: `${projectPath}/export`,
    summary:
      'Export final labels as a new dataset version: CSV or JSON lines; COCO or YOLO (with the images) for boxes',
    scope: 'write',
    input: ProjectInput.extend({
      format: z.enum(EXPORT_FORMATS),
      /** The dataset that receives the version; `<project>-labels` by default (made when missing). */
      target: DatasetName.optional(),
      /**
       * `reviewed`: reviewed tasks only. `final`: reviewed tasks, and annotated ones (answered by as many
       * annotators as the overlap asks) by the majority of their answers.
       * Default: `reviewed` for projects with a review step, else `final`.
       */
      include: z.enum(['reviewed', 'final']).optional(),
      message: z.string().max(2000).optional(),
    }),
    output: LabelExportResult,
    status: 201,
  }),
} as const;

export const labelingEvents = {
  'labeling.project.created': z.object({ project: LabelProject }),
  'labeling.task.annotated': z.object({
    projectId: Id,
    taskId: Id,
    annotator: z.string(),
    skipped: z.boolean(),
    status: TaskStatus,
  }),
  'labeling.task.reviewed': z.object({ projectId: Id, taskId: Id, reviewer: z.string() }),
  'labeling.exported': z.object({ projectId: Id, dataset: z.string(), versionId: Id }),
} as const;
