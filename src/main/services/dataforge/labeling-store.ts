import type { Db } from '#platform/db';
import type {
  LabelKind,
  LabelPrediction,
  LabelReview,
  LabelSource,
  LabelTask,
  LabelValue,
  ProjectLabel,
} from '#shared/contracts/labeling';

export interface ProjectRow {
  id: string;
  datasetId: string;
  versionId: string;
  name: string;
  kind: LabelKind;
  labels: ProjectLabel[];
  source: LabelSource;
  /** The table's columns in file order (table sources), for exports. */
  columns: string[];
  overlap: number;
  review: boolean;
  instructions: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewTask {
  id: string;
  position: number;
  item: string;
  data: LabelTask['data'];
}

export interface TaskRow extends NewTask {
  prediction: LabelPrediction | null;
  /** Answers that are not skips. */
  submitted: number;
  reviewed: boolean;
}

export interface AnnotationRow {
  id: string;
  taskId: string;
  annotator: string;
  value: LabelValue | null;
  durationMs: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ReviewRow = LabelReview & { taskId: string };

export type TaskStatus = LabelTask['status'];

interface ProjectDbRow {
  id: string;
  dataset_id: string;
  version_id: string;
  name: string;
  kind: string;
  labels: string;
  source: string;
  columns: string;
  overlap: number;
  review: number;
  instructions: string;
  created_at: number;
  updated_at: number;
}

function toProject(r: ProjectDbRow): ProjectRow {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    versionId: r.version_id,
    name: r.name,
    kind: r.kind as LabelKind,
    labels: JSON.parse(r.labels) as ProjectLabel[],
    source: JSON.parse(r.source) as LabelSource,
    columns: JSON.parse(r.columns) as string[],
    overlap: r.overlap,
    review: r.review === 1,
    instructions: r.instructions,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

interface TaskDbRow {
  id: string;
  position: number;
  item: string;
  data: string;
  prediction: string | null;
  submitted: number;
  reviewed: number;
}

function toTask(r: TaskDbRow): TaskRow {
  return {
    id: r.id,
    position: r.position,
    item: r.item,
    data: JSON.parse(r.data) as LabelTask['data'],
    prediction: r.prediction === null ? null : (JSON.parse(r.prediction) as LabelPrediction),
    submitted: r.submitted,
    reviewed: r.reviewed === 1,
  };
}

interface AnnotationDbRow {
  id: string;
  task_id: string;
  annotator: string;
  value: string | null;
  duration_ms: number | null;
  created_at: number;
  updated_at: number;
}

function toAnnotation(r: AnnotationDbRow): AnnotationRow {
  return {
    id: r.id,
    taskId: r.task_id,
    annotator: r.annotator,
    value: r.value === null ? null : (JSON.parse(r.value) as LabelValue),
    durationMs: r.duration_ms,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const SUBMITTED = `(SELECT COUNT(*) FROM dataforge_label_annotations a WHERE a.task_id = t.id AND a.value IS NOT NULL)`;
const REVIEWED = `EXISTS (SELECT 1 FROM dataforge_label_reviews r WHERE r.task_id = t.id)`;
const TASK_COLUMNS = `t.id, t.position, t.item, t.data, t.prediction, ${SUBMITTED} AS submitted, ${REVIEWED} AS reviewed`;
/** A task's status from its answers and review; `@overlap` is the project's. */
const STATUS = `CASE WHEN ${REVIEWED} THEN 'reviewed' WHEN ${SUBMITTED} >= @overlap THEN 'annotated'
  WHEN ${SUBMITTED} > 0 THEN 'in_progress' ELSE 'open' END`;
/** Tasks an annotator may still answer: not answered or skipped by them, not reviewed, short of the overlap. */
const OPEN_TO = `t.project_id = @project
  AND NOT EXISTS (SELECT 1 FROM dataforge_label_annotations a WHERE a.task_id = t.id AND a.annotator = @annotator)
  AND NOT ${REVIEWED} AND ${SUBMITTED} < @overlap`;

/** Persistence of labeling projects: tasks, answers, reviews and the short holds on handed-out tasks. */
export class SqliteLabelingStore {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertProject(p: ProjectRow, tasks: readonly NewTask[]): void {
    this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO dataforge_label_projects (id, dataset_id, version_id, name, kind, labels, source, columns, overlap,
             review, instructions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          p.id,
          p.datasetId,
          p.versionId,
          p.name,
          p.kind,
          JSON.stringify(p.labels),
          JSON.stringify(p.source),
          JSON.stringify(p.columns),
          p.overlap,
          p.review ? 1 : 0,
          p.instructions,
          p.createdAt,
          p.updatedAt,
        );
      const insert = this.db.prepare(
        'INSERT INTO dataforge_label_tasks (id, project_id, position, item, data) VALUES (?, ?, ?, ?, ?)',
      );
      for (const t of tasks) insert.run(t.id, p.id, t.position, t.item, JSON.stringify(t.data));
    });
  }

  project(datasetId: string, idOrName: string): ProjectRow | undefined {
    const row = this.db
      .prepare('SELECT * FROM dataforge_label_projects WHERE dataset_id = ? AND (id = ? OR name = ?)')
      .get(datasetId, idOrName, idOrName) as ProjectDbRow | undefined;
    return row && toProject(row);
  }

  projects(datasetId: string): ProjectRow[] {
    return (
      this.db
        .prepare('SELECT * FROM dataforge_label_projects WHERE dataset_id = ? ORDER BY id DESC')
        .all(datasetId) as ProjectDbRow[]
    ).map(toProject);
  }

  updateProject(p: ProjectRow): void {
    this.db
      .prepare(
        `UPDATE dataforge_label_projects SET labels = ?, overlap = ?, review = ?, instructions = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(JSON.stringify(p.labels), p.overlap, p.review ? 1 : 0, p.instructions, p.updatedAt, p.id);
  }

  deleteProject(id: string): void {
    this.db.prepare('DELETE FROM dataforge_label_projects WHERE id = ?').run(id);
  }

  /** How many tasks are in each status, and each annotator's answers and skips. */
  stats(p: ProjectRow): {
    counts: Record<TaskStatus, number>;
    annotators: { name: string; submitted: number; skipped: number }[];
  } {
    const counts: Record<TaskStatus, number> = { open: 0, in_progress: 0, annotated: 0, reviewed: 0 };
    const rows = this.db
      .prepare(
        `SELECT ${STATUS} AS status, COUNT(*) AS n FROM dataforge_label_tasks t WHERE t.project_id = @project GROUP BY 1`,
      )
      .all({ project: p.id, overlap: p.overlap }) as { status: TaskStatus; n: number }[];
    for (const r of rows) counts[r.status] = r.n;
    const annotators = this.db
      .prepare(
        `SELECT annotator AS name, SUM(value IS NOT NULL) AS submitted, SUM(value IS NULL) AS skipped
         FROM dataforge_label_annotations WHERE project_id = ? GROUP BY annotator ORDER BY annotator`,
      )
      .all(p.id) as { name: string; submitted: number; skipped: number }[];
    return { counts, annotators };
  }

  tasks(p: ProjectRow, query: { status?: TaskStatus | undefined; offset: number; limit: number }) {
    const where = `t.project_id = @project ${query.status ? `AND ${STATUS} = @status` : ''}`;
    const params = { project: p.id, overlap: p.overlap, status: query.status ?? null };
    const total = (
      this.db.prepare(`SELECT COUNT(*) AS n FROM dataforge_label_tasks t WHERE ${where}`).get(params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(
        `SELECT ${TASK_COLUMNS} FROM dataforge_label_tasks t WHERE ${where} ORDER BY t.position LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: query.limit, offset: query.offset }) as TaskDbRow[];
    return { rows: rows.map(toTask), total };
  }

  /** Every task of the project, in order (for exports and agreement). */
  allTasks(projectId: string): TaskRow[] {
    return (
      this.db
        .prepare(`SELECT ${TASK_COLUMNS} FROM dataforge_label_tasks t WHERE t.project_id = ? ORDER BY t.position`)
        .all(projectId) as TaskDbRow[]
    ).map(toTask);
  }

  task(projectId: string, taskId: string): TaskRow | undefined {
    const row = this.db
      .prepare(`SELECT ${TASK_COLUMNS} FROM dataforge_label_tasks t WHERE t.project_id = ? AND t.id = ?`)
      .get(projectId, taskId) as TaskDbRow | undefined;
    return row && toTask(row);
  }

  taskIdsByItem(projectId: string): Map<string, string> {
    const rows = this.db.prepare('SELECT id, item FROM dataforge_label_tasks WHERE project_id = ?').all(projectId) as {
      id: string;
      item: string;
    }[];
    return new Map(rows.map((r) => [r.item, r.id]));
  }

  /**
   * The annotator's next task, held for them until `expiresAt`: the one they already hold if it is still theirs
   * to answer, else the first (finishing tasks others began before new ones) that the overlap leaves room for
   * once other annotators' live holds are counted.
   */
  nextTask(p: ProjectRow, annotator: string, now: number, expiresAt: number): TaskRow | undefined {
    return this.transaction(() => {
      const params = { project: p.id, annotator, overlap: p.overlap, now };
      const row = this.db
        .prepare(
          `SELECT ${TASK_COLUMNS} FROM dataforge_label_tasks t
           WHERE ${OPEN_TO}
             AND ${SUBMITTED} + (SELECT COUNT(*) FROM dataforge_label_locks l
                   WHERE l.task_id = t.id AND l.annotator <> @annotator AND l.expires_at > @now) < @overlap
           ORDER BY EXISTS (SELECT 1 FROM dataforge_label_locks l WHERE l.project_id = @project
                   AND l.annotator = @annotator AND l.task_id = t.id AND l.expires_at > @now) DESC,
                 ${SUBMITTED} DESC, t.position
           LIMIT 1`,
        )
        .get(params) as TaskDbRow | undefined;
      if (row) {
        this.db
          .prepare(
            `INSERT INTO dataforge_label_locks (task_id, project_id, annotator, expires_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (project_id, annotator) DO UPDATE SET task_id = excluded.task_id, expires_at = excluded.expires_at`,
          )
          .run(row.id, p.id, annotator, expiresAt);
      }
      return row && toTask(row);
    });
  }

  release(projectId: string, annotator: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM dataforge_label_locks WHERE project_id = ? AND annotator = ?')
        .run(projectId, annotator).changes > 0
    );
  }

  /** Tasks one annotator answered or skipped, the latest first, a page at a time. */
  tasksOf(p: ProjectRow, annotator: string, query: { offset: number; limit: number }) {
    const params = { project: p.id, annotator };
    const total = (
      this.db
        .prepare(
          'SELECT COUNT(*) AS n FROM dataforge_label_annotations WHERE project_id = @project AND annotator = @annotator',
        )
        .get(params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(
        `SELECT ${TASK_COLUMNS} FROM dataforge_label_tasks t JOIN dataforge_label_annotations a ON a.task_id = t.id
         WHERE a.project_id = @project AND a.annotator = @annotator
         ORDER BY a.updated_at DESC, a.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: query.limit, offset: query.offset }) as TaskDbRow[];
    return { rows: rows.map(toTask), total };
  }

  /** Tasks the annotator may still answer (held by others or not). */
  remaining(p: ProjectRow, annotator: string): number {
    return (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM dataforge_label_tasks t WHERE ${OPEN_TO}`)
        .get({ project: p.id, annotator, overlap: p.overlap }) as { n: number }
    ).n;
  }

  annotations(taskIds: readonly string[]): AnnotationRow[] {
    if (taskIds.length === 0) return [];
    const out: AnnotationRow[] = [];
    // SQLite caps bound parameters; page through long lists.
    for (let i = 0; i < taskIds.length; i += 500) {
      const ids = taskIds.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT * FROM dataforge_label_annotations WHERE task_id IN (${ids.map(() => '?').join(',')})
           ORDER BY created_at, id`,
        )
        .all(...ids) as AnnotationDbRow[];
      out.push(...rows.map(toAnnotation));
    }
    return out;
  }

  projectAnnotations(projectId: string): AnnotationRow[] {
    return (
      this.db
        .prepare('SELECT * FROM dataforge_label_annotations WHERE project_id = ? ORDER BY created_at, id')
        .all(projectId) as AnnotationDbRow[]
    ).map(toAnnotation);
  }

  reviews(projectId: string): ReviewRow[] {
    const rows = this.db.prepare('SELECT * FROM dataforge_label_reviews WHERE project_id = ?').all(projectId) as {
      task_id: string;
      reviewer: string;
      decision: string;
      annotation_id: string | null;
      value: string;
      created_at: number;
    }[];
    return rows.map((r) => ({
      taskId: r.task_id,
      reviewer: r.reviewer,
      decision: r.decision as LabelReview['decision'],
      annotationId: r.annotation_id,
      value: JSON.parse(r.value) as LabelValue,
      createdAt: r.created_at,
    }));
  }

  /** Records (or replaces) an annotator's answer, null for a skip, and releases their hold on the task. */
  saveAnnotation(
    projectId: string,
    a: { id: string; taskId: string; annotator: string; value: LabelValue | null; durationMs: number | null },
    now: number,
  ): void {
    this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO dataforge_label_annotations (id, task_id, project_id, annotator, value, duration_ms, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (task_id, annotator) DO UPDATE SET value = excluded.value, duration_ms = excluded.duration_ms,
             updated_at = excluded.updated_at`,
        )
        .run(
          a.id,
          a.taskId,
          projectId,
          a.annotator,
          a.value === null ? null : JSON.stringify(a.value),
          a.durationMs,
          now,
          now,
        );
      this.db
        .prepare('DELETE FROM dataforge_label_locks WHERE project_id = ? AND annotator = ? AND task_id = ?')
        .run(projectId, a.annotator, a.taskId);
    });
  }

  deleteAnnotation(taskId: string, annotator: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM dataforge_label_annotations WHERE task_id = ? AND annotator = ?')
        .run(taskId, annotator).changes > 0
    );
  }

  saveReview(projectId: string, r: ReviewRow): void {
    this.db
      .prepare(
        `INSERT INTO dataforge_label_reviews (task_id, project_id, reviewer, decision, annotation_id, value, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET reviewer = excluded.reviewer, decision = excluded.decision,
           annotation_id = excluded.annotation_id, value = excluded.value, created_at = excluded.created_at`,
      )
      .run(r.taskId, projectId, r.reviewer, r.decision, r.annotationId, JSON.stringify(r.value), r.createdAt);
  }

  deleteReview(taskId: string): boolean {
    return this.db.prepare('DELETE FROM dataforge_label_reviews WHERE task_id = ?').run(taskId).changes > 0;
  }

  setPredictions(items: readonly { taskId: string; prediction: LabelPrediction }[]): number {
    return this.transaction(() => {
      const update = this.db.prepare('UPDATE dataforge_label_tasks SET prediction = ? WHERE id = ?');
      let n = 0;
      for (const i of items) n += update.run(JSON.stringify(i.prediction), i.taskId).changes;
      return n;
    });
  }

  /** Rewrites every stored value (answers, reviews, predictions) of a project in one transaction. */
  rewriteValues(projectId: string, rewrite: (v: LabelValue) => LabelValue): void {
    const annotations = this.db
      .prepare('SELECT id, value FROM dataforge_label_annotations WHERE project_id = ? AND value IS NOT NULL')
      .all(projectId) as { id: string; value: string }[];
    const reviews = this.db
      .prepare('SELECT task_id, value FROM dataforge_label_reviews WHERE project_id = ?')
      .all(projectId) as { task_id: string; value: string }[];
    const predictions = this.db
      .prepare('SELECT id, prediction FROM dataforge_label_tasks WHERE project_id = ? AND prediction IS NOT NULL')
      .all(projectId) as { id: string; prediction: string }[];
    const setAnnotation = this.db.prepare('UPDATE dataforge_label_annotations SET value = ? WHERE id = ?');
    const setReview = this.db.prepare('UPDATE dataforge_label_reviews SET value = ? WHERE task_id = ?');
    const setPrediction = this.db.prepare('UPDATE dataforge_label_tasks SET prediction = ? WHERE id = ?');
    const apply = (json: string) => JSON.stringify(rewrite(JSON.parse(json) as LabelValue));
    for (const a of annotations) setAnnotation.run(apply(a.value), a.id);
    for (const r of reviews) setReview.run(apply(r.value), r.task_id);
    for (const t of predictions) {
      const p = JSON.parse(t.prediction) as LabelPrediction;
      setPrediction.run(JSON.stringify({ ...p, value: rewrite(p.value) }), t.id);
    }
  }
}
