import type { EventBus } from '#platform/events';
import type { DatasetVersion, ManifestEntry } from '#shared/contracts/dataforge';
import type {
  LabelAgreement,
  LabelDef,
  LabelExportResult,
  LabelKind,
  LabelProject,
  LabelSource,
  LabelTask,
  LabelValue,
  ProjectLabel,
} from '#shared/contracts/labeling';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import { imageSize } from './images';
import { consensus, projectAgreement, taskAgreement, type Answer } from './labeling-agreement';
import { exportFiles, type ExportFormat, type FinalTask } from './labeling-export';
import type {
  AnnotationRow,
  NewTask,
  ProjectRow,
  ReviewRow,
  SqliteLabelingStore,
  TaskRow,
  TaskStatus,
} from './labeling-store';
import { IMAGE } from './manifest';
import type { TableVisitor } from './tables';

/** What labeling needs from the rest of DataForge. */
export interface LabelingHost {
  dataset(ref: string): { id: string; name: string };
  resolveVersion(dataset: string, version: string): DatasetVersion;
  versionById(id: string): DatasetVersion;
  manifest(version: DatasetVersion): Promise<ManifestEntry[]>;
  /** Streams one table of a version into `visitor`. */
  readTable(entry: ManifestEntry, visitor: TableVisitor): Promise<void>;
  readHead(sha256: string, bytes: number): Promise<Buffer>;
  readBlob(sha256: string): Promise<Buffer>;
  /** Makes a version of `dataset` (created when missing) holding exactly `files`. */
  writeVersion(
    dataset: string,
    files: readonly ({ path: string; content: Buffer } | ManifestEntry)[],
    meta: { message: string; author: string },
  ): Promise<{ created: boolean; version: DatasetVersion }>;
}

/** Projects beyond this many tasks are refused: label a sample (a smaller version) instead. */
export const MAX_TASKS = 200_000;
const MAX_TEXT_BYTES = 1024 * 1024;
/** How long a task handed to an annotator is kept from others. */
const HOLD_MS = 10 * 60_000;
const IMAGE_HEAD_BYTES = 64 * 1024;
const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#d97706',
  '#9333ea',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#ea580c',
  '#4f46e5',
];

const KIND_SOURCES: Record<LabelKind, readonly LabelSource['type'][]> = {
  classification: ['table', 'images', 'texts'],
  multilabel: ['table', 'images', 'texts'],
  ner: ['table', 'texts'],
  boxes: ['images'],
};

export interface CreateProjectInput {
  dataset: string;
  name: string;
  version: string;
  kind: LabelKind;
  labels: LabelDef[];
  source: LabelSource;
  overlap: number;
  review: boolean;
  instructions: string;
}

/**
 * Labeling projects over dataset versions. Tasks are made once, when the project is created, from the version's
 * table rows, images or text files; answers are kept per annotator (skips too), so several annotators can
 * answer each task up to the project's overlap, and a review makes one answer final.
 */
export class LabelingService {
  constructor(
    private readonly store: SqliteLabelingStore,
    private readonly host: LabelingHost,
    private readonly bus: EventBus,
  ) {}

  async create(input: CreateProjectInput): Promise<LabelProject> {
    const dataset = this.host.dataset(input.dataset);
    if (this.store.project(dataset.id, input.name)) {
      throw new AppError('CONFLICT', `dataset '${dataset.name}' already has a labeling project '${input.name}'`, {
        name: input.name,
      });
    }
    if (!KIND_SOURCES[input.kind].includes(input.source.type)) {
      throw AppError.invalid(
        'source.type',
        `a ${input.kind} project labels ${KIND_SOURCES[input.kind].join(' or ')}, not ${input.source.type}`,
      );
    }
    const labels = projectLabels(input.labels);
    const version = this.host.resolveVersion(dataset.id, input.version);
    const { tasks, columns } = await this.makeTasks(version, input.kind, input.source);
    const now = Date.now();
    const row: ProjectRow = {
      id: newId(now),
      datasetId: dataset.id,
      versionId: version.id,
      name: input.name,
      kind: input.kind,
      labels,
      source: input.source,
      columns,
      overlap: input.overlap,
      review: input.review,
      instructions: input.instructions,
      createdAt: now,
      updatedAt: now,
    };
    this.store.insertProject(row, tasks);
    const project = this.toProject(row);
    this.bus.emit('labeling.project.created', { project });
    return project;
  }

  private async makeTasks(
    version: DatasetVersion,
    kind: LabelKind,
    source: LabelSource,
  ): Promise<{ tasks: NewTask[]; columns: string[] }> {
    const entries = await this.host.manifest(version);
    const under = (prefix: string) => entries.filter((e) => e.path.startsWith(prefix));
    const tasks: NewTask[] = [];
    const add = (item: string, data: LabelTask['data']) => {
      if (tasks.length >= MAX_TASKS) {
        throw AppError.invalid('source', `more than ${MAX_TASKS} tasks; label a smaller version (a sample) instead`);
      }
      tasks.push({ id: newId(), position: tasks.length, item, data });
    };
    switch (source.type) {
      case 'table': {
        const entry = entries.find((e) => e.path === source.path);
        if (!entry) throw AppError.invalid('source.path', `v${version.number} has no file '${source.path}'`);
        let columns: string[] = [];
        let badRows = 0;
        await this.host.readTable(entry, {
          columns: (names) => {
            columns = names;
            if (source.textColumn !== undefined && !names.includes(source.textColumn)) {
              throw AppError.invalid(
                'source.textColumn',
                `'${source.path}' has no column '${source.textColumn}' (it has: ${names.join(', ')})`,
              );
            }
          },
          row: (values, line) => {
            const fields = Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null]));
            add(`${source.path}:${line}`, {
              text: source.textColumn === undefined ? null : (fields[source.textColumn] ?? ''),
              fields,
              image: null,
            });
          },
          bad: () => {
            badRows++;
          },
        });
        if (kind === 'ner' && source.textColumn === undefined) {
          throw AppError.invalid(
            'source.textColumn',
            `an NER project needs the column that holds the text (one of: ${columns.join(', ')})`,
          );
        }
        if (tasks.length === 0) {
          throw AppError.invalid(
            'source.path',
            `'${source.path}' has no readable rows${badRows > 0 ? ` (${badRows} unreadable)` : ''}`,
          );
        }
        return { tasks, columns };
      }
      case 'images': {
        for (const e of under(source.prefix).filter((x) => IMAGE.test(x.path))) {
          const size = imageSize(await this.host.readHead(e.sha256, IMAGE_HEAD_BYTES));
          if (!size) throw AppError.invalid('source', `'${e.path}' is not a readable image`);
          add(e.path, { text: null, fields: null, image: { path: e.path, ...size } });
        }
        if (tasks.length === 0)
          throw AppError.invalid('source.prefix', `v${version.number} has no images under '${source.prefix}'`);
        return { tasks, columns: [] };
      }
      case 'texts': {
        for (const e of under(source.prefix).filter((x) => /\.txt$/i.test(x.path))) {
          if (e.size > MAX_TEXT_BYTES)
            throw AppError.invalid('source', `'${e.path}' is over 1 MiB; split it into smaller files`);
          let text: string;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(await this.host.readBlob(e.sha256));
          } catch {
            throw AppError.invalid('source', `'${e.path}' is not valid UTF-8 text`);
          }
          add(e.path, { text, fields: null, image: null });
        }
        if (tasks.length === 0)
          throw AppError.invalid('source.prefix', `v${version.number} has no .txt files under '${source.prefix}'`);
        return { tasks, columns: [] };
      }
    }
  }

  private projectRow(dataset: string, ref: string): ProjectRow {
    const ds = this.host.dataset(dataset);
    const row = this.store.project(ds.id, ref);
    if (!row) {
      throw new AppError('NOT_FOUND', `dataset '${ds.name}' has no labeling project '${ref}'`, { project: ref });
    }
    return row;
  }

  private toProject(row: ProjectRow): LabelProject {
    const ds = this.host.dataset(row.datasetId);
    const version = this.host.versionById(row.versionId);
    const { counts, annotators } = this.store.stats(row);
    return {
      id: row.id,
      name: row.name,
      datasetId: row.datasetId,
      datasetName: ds.name,
      versionId: row.versionId,
      versionNumber: version.number,
      kind: row.kind,
      labels: row.labels,
      source: row.source,
      overlap: row.overlap,
      review: row.review,
      instructions: row.instructions,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      stats: {
        tasks: counts.open + counts.in_progress + counts.annotated + counts.reviewed,
        open: counts.open,
        inProgress: counts.in_progress,
        annotated: counts.annotated,
        reviewed: counts.reviewed,
        annotators,
      },
    };
  }

  list(dataset: string): LabelProject[] {
    return this.store.projects(this.host.dataset(dataset).id).map((r) => this.toProject(r));
  }

  get(dataset: string, project: string): LabelProject {
    return this.toProject(this.projectRow(dataset, project));
  }

  update(
    dataset: string,
    project: string,
    change: {
      labels?: LabelDef[] | undefined;
      renames?: Record<string, string> | undefined;
      overlap?: number | undefined;
      review?: boolean | undefined;
      instructions?: string | undefined;
    },
  ): LabelProject {
    const row = this.projectRow(dataset, project);
    const renames = change.renames ?? {};
    const current = new Set(row.labels.map((l) => l.name));
    for (const [from, to] of Object.entries(renames)) {
      if (!current.has(from)) throw AppError.invalid(`renames.${from}`, `the project has no label '${from}'`);
      if (current.has(to) && !(to in renames)) throw AppError.invalid(`renames.${from}`, `'${to}' is already a label`);
    }
    const renamed = (name: string) => renames[name] ?? name;
    const labels = change.labels
      ? projectLabels(change.labels)
      : projectLabels(row.labels.map((l) => ({ ...l, name: renamed(l.name), hotkey: l.hotkey ?? undefined })));
    const names = new Set(labels.map((l) => l.name));
    for (const to of Object.values(renames)) {
      if (!names.has(to)) throw AppError.invalid('labels', `the renamed label '${to}' is not in the new labels`);
    }
    const rename = (v: LabelValue): LabelValue => ({
      ...(v.labels ? { labels: v.labels.map(renamed) } : {}),
      ...(v.spans ? { spans: v.spans.map((s) => ({ ...s, label: renamed(s.label) })) } : {}),
      ...(v.boxes ? { boxes: v.boxes.map((b) => ({ ...b, label: renamed(b.label) })) } : {}),
    });
    const used = this.labelsInUse(row);
    const dropped = [...used].map(renamed).filter((l) => !names.has(l));
    if (dropped.length > 0) {
      throw new AppError(
        'CONFLICT',
        `label${dropped.length > 1 ? 's' : ''} ${dropped.map((l) => `'${l}'`).join(', ')} ${dropped.length > 1 ? 'are' : 'is'} used by answers; rename ${dropped.length > 1 ? 'them' : 'it'} instead of removing`,
        { labels: dropped },
      );
    }
    const next: ProjectRow = {
      ...row,
      labels,
      overlap: change.overlap ?? row.overlap,
      review: change.review ?? row.review,
      instructions: change.instructions ?? row.instructions,
      updatedAt: Date.now(),
    };
    this.store.transaction(() => {
      if (Object.keys(renames).length > 0) this.store.rewriteValues(row.id, rename);
      this.store.updateProject(next);
    });
    return this.toProject(next);
  }

  private labelsInUse(row: ProjectRow): Set<string> {
    const used = new Set<string>();
    const collect = (v: LabelValue | null) => {
      for (const l of v?.labels ?? []) used.add(l);
      for (const s of v?.spans ?? []) used.add(s.label);
      for (const b of v?.boxes ?? []) used.add(b.label);
    };
    for (const a of this.store.projectAnnotations(row.id)) collect(a.value);
    for (const r of this.store.reviews(row.id)) collect(r.value);
    for (const t of this.store.allTasks(row.id)) collect(t.prediction?.value ?? null);
    return used;
  }

  delete(dataset: string, project: string): LabelProject {
    const row = this.projectRow(dataset, project);
    const out = this.toProject(row);
    this.store.deleteProject(row.id);
    return out;
  }

  private status(row: ProjectRow, t: TaskRow): TaskStatus {
    if (t.reviewed) return 'reviewed';
    if (t.submitted >= row.overlap) return 'annotated';
    return t.submitted > 0 ? 'in_progress' : 'open';
  }

  /** Tasks as the API shows them, with their answers and reviews loaded in one query each. */
  private toTasks(row: ProjectRow, tasks: readonly TaskRow[]): LabelTask[] {
    const ids = tasks.map((t) => t.id);
    const byTask = groupBy(this.store.annotations(ids), (a) => a.taskId);
    const wanted = new Set(ids);
    const reviews = new Map(
      (tasks.some((t) => t.reviewed) ? this.store.reviews(row.id) : [])
        .filter((r) => wanted.has(r.taskId))
        .map((r) => [r.taskId, r]),
    );
    return tasks.map((t) => {
      const annotations = byTask.get(t.id) ?? [];
      const review = reviews.get(t.id);
      return {
        id: t.id,
        projectId: row.id,
        position: t.position,
        item: t.item,
        data: t.data,
        prediction: t.prediction,
        status: this.status(row, t),
        annotations: annotations.map(toAnnotation),
        review: review ? withoutTask(review) : null,
        agreement: taskAgreement(row.kind, answersOf(annotations)),
      };
    });
  }

  private taskRow(row: ProjectRow, taskId: string): TaskRow {
    const t = this.store.task(row.id, taskId);
    if (!t) throw AppError.notFound('task', taskId);
    return t;
  }

  private oneTask(row: ProjectRow, taskId: string): LabelTask {
    return this.toTasks(row, [this.taskRow(row, taskId)])[0] as LabelTask;
  }

  next(
    dataset: string,
    project: string,
    annotator: string,
  ): { task: LabelTask | null; annotator: string; remaining: number } {
    const row = this.projectRow(dataset, project);
    const now = Date.now();
    const t = this.store.nextTask(row, annotator, now, now + HOLD_MS);
    return {
      task: t ? (this.toTasks(row, [t])[0] as LabelTask) : null,
      annotator,
      remaining: this.store.remaining(row, annotator),
    };
  }

  /** Gives back the task held for an annotator; false when they held none. */
  release(dataset: string, project: string, annotator: string): boolean {
    return this.store.release(this.projectRow(dataset, project).id, annotator);
  }

  tasks(
    dataset: string,
    project: string,
    query: {
      status?: TaskStatus | undefined;
      annotator?: string | undefined;
      sort: 'position' | 'agreement';
      offset: number;
      limit: number;
    },
  ): { items: LabelTask[]; total: number; offset: number } {
    const row = this.projectRow(dataset, project);
    if (query.annotator !== undefined) {
      if (query.status !== undefined || query.sort !== 'position') {
        throw AppError.invalid('annotator', 'list by annotator alone (without status or sort)');
      }
      const { rows, total } = this.store.tasksOf(row, query.annotator, query);
      return { items: this.toTasks(row, rows), total, offset: query.offset };
    }
    if (query.sort === 'position') {
      const { rows, total } = this.store.tasks(row, query);
      return { items: this.toTasks(row, rows), total, offset: query.offset };
    }
    // Agreement is computed from the answers, so this order is made here; tasks without it go last.
    const all = this.toTasks(
      row,
      this.store.allTasks(row.id).filter((t) => !query.status || this.status(row, t) === query.status),
    );
    all.sort((a, b) => (a.agreement ?? 2) - (b.agreement ?? 2) || a.position - b.position);
    return { items: all.slice(query.offset, query.offset + query.limit), total: all.length, offset: query.offset };
  }

  task(dataset: string, project: string, taskId: string): LabelTask {
    return this.oneTask(this.projectRow(dataset, project), taskId);
  }

  annotate(
    dataset: string,
    project: string,
    taskId: string,
    input: { annotator: string; value?: LabelValue | undefined; skip: boolean; durationMs?: number | undefined },
  ): LabelTask {
    const row = this.projectRow(dataset, project);
    const t = this.taskRow(row, taskId);
    if (input.skip && input.value) throw AppError.invalid('skip', 'give either an answer or skip, not both');
    if (!input.skip && !input.value) throw AppError.invalid('value', 'is required (or skip the task)');
    const value = input.value ? checkValue(row, t, input.value, 'value') : null;
    if (t.reviewed) {
      throw new AppError(
        'FAILED_PRECONDITION',
        `task ${t.position + 1} is reviewed; withdraw the review to change answers`,
      );
    }
    this.store.saveAnnotation(
      row.id,
      { id: newId(), taskId, annotator: input.annotator, value, durationMs: input.durationMs ?? null },
      Date.now(),
    );
    const task = this.oneTask(row, taskId);
    this.bus.emit('labeling.task.annotated', {
      projectId: row.id,
      taskId,
      annotator: input.annotator,
      skipped: value === null,
      status: task.status,
    });
    return task;
  }

  unannotate(dataset: string, project: string, taskId: string, annotator: string): LabelTask {
    const row = this.projectRow(dataset, project);
    const t = this.taskRow(row, taskId);
    if (t.reviewed) {
      throw new AppError('FAILED_PRECONDITION', `task ${t.position + 1} is reviewed; withdraw the review first`);
    }
    if (!this.store.deleteAnnotation(taskId, annotator)) {
      throw new AppError('NOT_FOUND', `${annotator} has no answer to task ${t.position + 1}`, { annotator });
    }
    return this.oneTask(row, taskId);
  }

  review(
    dataset: string,
    project: string,
    taskId: string,
    input: { reviewer: string; accept?: string | undefined; value?: LabelValue | undefined },
  ): LabelTask {
    const row = this.projectRow(dataset, project);
    const t = this.taskRow(row, taskId);
    if ((input.accept === undefined) === (input.value === undefined)) {
      throw AppError.invalid('accept', 'give either the answer to accept or your own value');
    }
    let review: ReviewRow;
    if (input.accept !== undefined) {
      const accepted = this.store.annotations([taskId]).find((a) => a.id === input.accept);
      if (!accepted) throw AppError.invalid('accept', `task ${t.position + 1} has no answer '${input.accept}'`);
      if (!accepted.value) throw AppError.invalid('accept', `answer '${input.accept}' is a skip`);
      review = {
        taskId,
        reviewer: input.reviewer,
        decision: 'accepted',
        annotationId: accepted.id,
        value: accepted.value,
        createdAt: Date.now(),
      };
    } else {
      review = {
        taskId,
        reviewer: input.reviewer,
        decision: 'fixed',
        annotationId: null,
        value: checkValue(row, t, input.value as LabelValue, 'value'),
        createdAt: Date.now(),
      };
    }
    this.store.saveReview(row.id, review);
    this.bus.emit('labeling.task.reviewed', { projectId: row.id, taskId, reviewer: input.reviewer });
    return this.oneTask(row, taskId);
  }

  unreview(dataset: string, project: string, taskId: string): LabelTask {
    const row = this.projectRow(dataset, project);
    const t = this.taskRow(row, taskId);
    if (!this.store.deleteReview(taskId)) throw new AppError('NOT_FOUND', `task ${t.position + 1} is not reviewed`);
    return this.oneTask(row, taskId);
  }

  /**
   * Attaches a model's suggestions to tasks (the pre-annotation seam): a later model-serving service calls this
   * with its predictions, as can any script through the API. Each is checked like an answer.
   */
  setPredictions(
    dataset: string,
    project: string,
    model: string,
    items: readonly {
      task?: string | undefined;
      item?: string | undefined;
      value: LabelValue;
      score?: number | undefined;
    }[],
  ): { updated: number } {
    const row = this.projectRow(dataset, project);
    const byItem = items.some((i) => i.task === undefined)
      ? this.store.taskIdsByItem(row.id)
      : new Map<string, string>();
    const updates = items.map((i, n) => {
      const taskId = i.task ?? (i.item !== undefined ? byItem.get(i.item) : undefined);
      if ((i.task === undefined) === (i.item === undefined))
        throw AppError.invalid(`items.${n}`, 'give either task or item');
      if (!taskId) throw AppError.invalid(`items.${n}.item`, `no task is '${i.item}'`);
      const t = this.taskRow(row, taskId);
      return {
        taskId,
        prediction: { value: checkValue(row, t, i.value, `items.${n}.value`), model, score: i.score ?? null },
      };
    });
    return { updated: this.store.setPredictions(updates) };
  }

  agreement(dataset: string, project: string): LabelAgreement {
    const row = this.projectRow(dataset, project);
    const byTask = groupBy(this.store.projectAnnotations(row.id), (a) => a.taskId);
    const tasks = this.store.allTasks(row.id).map((t) => ({
      taskId: t.id,
      position: t.position,
      answers: answersOf(byTask.get(t.id) ?? []),
    }));
    return projectAgreement(
      row.kind,
      row.labels.map((l) => l.name),
      tasks,
    );
  }

  async export(
    dataset: string,
    project: string,
    input: {
      format: ExportFormat;
      target?: string | undefined;
      include?: 'reviewed' | 'final' | undefined;
      message?: string | undefined;
      author: string;
    },
  ): Promise<LabelExportResult> {
    const row = this.projectRow(dataset, project);
    const include = input.include ?? (row.review ? 'reviewed' : 'final');
    const byTask = groupBy(this.store.projectAnnotations(row.id), (a) => a.taskId);
    const reviews = new Map(this.store.reviews(row.id).map((r) => [r.taskId, r]));
    const finals: FinalTask[] = [];
    let unresolved = 0;
    for (const t of this.store.allTasks(row.id)) {
      const review = reviews.get(t.id);
      let value: LabelValue | null = review?.value ?? null;
      if (!review && include === 'final') {
        // A task short of its overlap is not done yet.
        if (t.submitted < row.overlap) continue;
        const answers = answersOf(byTask.get(t.id) ?? []);
        value = consensus(row.kind, answers);
        if (!value) unresolved++;
      }
      if (value) finals.push({ item: t.item, data: t.data, value });
    }
    if (finals.length === 0) {
      throw new AppError(
        'FAILED_PRECONDITION',
        include === 'reviewed'
          ? 'no task is reviewed yet: review tasks, or export with include=final'
          : 'no task has a final label yet',
      );
    }
    const files = exportFiles(
      {
        kind: row.kind,
        source: row.source,
        columns: row.columns,
        labels: row.labels.map((l) => l.name),
        tasks: finals,
      },
      input.format,
    );
    const version = this.host.versionById(row.versionId);
    const sourceEntries = new Map((await this.host.manifest(version)).map((e) => [e.path, e]));
    const target = input.target ?? `${row.name}-labels`;
    const written = await this.host.writeVersion(
      target,
      files.map((f) => {
        if ('content' in f) return f;
        const e = sourceEntries.get(f.from) as ManifestEntry;
        return { path: f.path, sha256: e.sha256, size: e.size };
      }),
      {
        message:
          input.message ??
          `${input.format.toUpperCase()} export of labeling project '${row.name}' (${finals.length} tasks, ${include})`,
        author: input.author,
      },
    );
    this.bus.emit('labeling.exported', { projectId: row.id, dataset: target, versionId: written.version.id });
    return {
      dataset: target,
      created: written.created,
      version: written.version,
      exported: finals.length,
      unresolved,
      files: files.filter((f) => 'content' in f).map((f) => f.path),
    };
  }
}

/** Colours and hotkeys filled in; names and hotkeys must be unique. */
function projectLabels(defs: readonly LabelDef[]): ProjectLabel[] {
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const [i, d] of defs.entries()) {
    if (names.has(d.name)) throw AppError.invalid(`labels.${i}.name`, `'${d.name}' is given twice`);
    names.add(d.name);
    if (d.hotkey !== undefined) {
      if (keys.has(d.hotkey)) throw AppError.invalid(`labels.${i}.hotkey`, `key '${d.hotkey}' is given twice`);
      keys.add(d.hotkey);
    }
  }
  const free = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].filter((k) => !keys.has(k));
  return defs.map((d, i) => ({
    name: d.name,
    color: d.color ?? (PALETTE[i % PALETTE.length] as string),
    hotkey: d.hotkey ?? (i < 9 ? (free.shift() ?? null) : null),
    description: d.description ?? '',
  }));
}

/** Checks an answer against the project's kind, labels and the task (text length, image size). */
function checkValue(row: ProjectRow, t: TaskRow, v: LabelValue, field: string): LabelValue {
  const names = new Set(row.labels.map((l) => l.name));
  const known = (label: string, at: string) => {
    if (!names.has(label)) {
      throw AppError.invalid(at, `'${label}' is not a label of this project (${[...names].join(', ')})`);
    }
  };
  const only = (allowed: keyof LabelValue) => {
    for (const key of ['labels', 'spans', 'boxes'] as const) {
      if (key !== allowed && v[key] !== undefined)
        throw AppError.invalid(`${field}.${key}`, `a ${row.kind} answer has no ${key}`);
    }
  };
  switch (row.kind) {
    case 'classification':
    case 'multilabel': {
      only('labels');
      const labels = v.labels ?? [];
      if (row.kind === 'classification' && labels.length !== 1) {
        throw AppError.invalid(
          `${field}.labels`,
          `a classification answer has exactly one label (got ${labels.length})`,
        );
      }
      if (new Set(labels).size !== labels.length) throw AppError.invalid(`${field}.labels`, 'a label is given twice');
      labels.forEach((l, i) => known(l, `${field}.labels.${i}`));
      return { labels: row.kind === 'multilabel' ? [...labels].sort() : labels };
    }
    case 'ner': {
      only('spans');
      const text = t.data.text ?? '';
      const spans = v.spans ?? [];
      spans.forEach((s, i) => {
        known(s.label, `${field}.spans.${i}.label`);
        if (s.end <= s.start || s.end > text.length) {
          throw AppError.invalid(
            `${field}.spans.${i}`,
            `[${s.start}, ${s.end}) is not a span of the ${text.length}-character text`,
          );
        }
      });
      return { spans: [...spans].sort((a, b) => a.start - b.start || a.end - b.end) };
    }
    case 'boxes': {
      only('boxes');
      const image = t.data.image;
      const boxes = v.boxes ?? [];
      boxes.forEach((b, i) => {
        known(b.label, `${field}.boxes.${i}.label`);
        // Half a pixel of slack for boxes drawn to the edge on a scaled canvas.
        if (image && (b.x + b.width > image.width + 0.5 || b.y + b.height > image.height + 0.5)) {
          throw AppError.invalid(
            `${field}.boxes.${i}`,
            `the box reaches outside the ${image.width}×${image.height} image`,
          );
        }
      });
      return { boxes };
    }
  }
}

function answersOf(annotations: readonly AnnotationRow[]): Answer[] {
  return annotations.flatMap((a) => (a.value ? [{ annotator: a.annotator, value: a.value }] : []));
}

function toAnnotation(a: AnnotationRow): LabelTask['annotations'][number] {
  return { ...a, skipped: a.value === null };
}

function withoutTask(r: ReviewRow): NonNullable<LabelTask['review']> {
  return {
    reviewer: r.reviewer,
    decision: r.decision,
    annotationId: r.annotationId,
    value: r.value,
    createdAt: r.createdAt,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
