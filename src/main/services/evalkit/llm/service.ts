import { z } from 'zod';
import type { JobContext, JobHandler } from '#platform/queue';
import type { Deployment } from '#shared/contracts/deploy';
import type {
  LlmAssertion,
  LlmAssertionResult,
  LlmResponseFormat,
  LlmRun,
  LlmRunInput,
  LlmRunSummary,
  LlmSuite,
  LlmSuiteSummary,
  LlmTotal,
} from '#shared/contracts/evalkit-llm';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { EvalkitDeps } from '../deps';
import type { LlmEvalsService, SuiteSpec } from './api';
import {
  checkLocally,
  cosine,
  fillTemplate,
  GRADER_VERDICT_SCHEMA,
  graderMessages,
  parseGraderVerdict,
  wordDiff,
  type Verdict,
} from './checks';
import { LlmEvalStore, type StoredCell } from './store';

const RUN_JOB = 'evalkit.llm-run';
const RunPayload = z.object({ runId: z.string() });
/** One model answer may take this long on a slow CPU before its cell is an error. */
const REQUEST_TIMEOUT_MS = 300_000;

interface ChatAnswer {
  content: string;
  /** `length` when the tokens or the context ran out. */
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** `response_format` of `/v1/chat/completions` for an answer format; nothing for free text. */
type WireResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict: true } };

function wireResponseFormat(format: LlmResponseFormat | undefined): WireResponseFormat | undefined {
  if (format?.type === 'json') return { type: 'json_object' };
  if (format?.type === 'json-schema')
    return { type: 'json_schema', json_schema: { name: 'answer', schema: format.schema, strict: true } };
  return undefined;
}

const GRADER_FORMAT: WireResponseFormat = {
  type: 'json_schema',
  json_schema: { name: 'verdict', schema: GRADER_VERDICT_SCHEMA, strict: true },
};

/** The message of an OpenAI-shaped error body, or the status line. */
async function httpProblem(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (body.error?.message) return `HTTP ${response.status}: ${body.error.message}`;
  } catch {
    // not JSON: the text itself says it
  }
  return `HTTP ${response.status}: ${text.slice(0, 300)}`;
}

export class LlmEvals implements LlmEvalsService {
  private readonly store: LlmEvalStore;

  constructor(private readonly deps: EvalkitDeps) {
    this.store = new LlmEvalStore(deps.db);
  }

  /** Its background work on the platform queue. */
  jobHandlers(): JobHandler[] {
    const handler: JobHandler<z.infer<typeof RunPayload>> = {
      type: RUN_JOB,
      description: 'Run an LLM eval suite: every prompt × model × case, asked through the OpenAI API and checked',
      payload: RunPayload,
      // A run cut short by a crash is taken up again: the cells it stored are not asked twice.
      maxAttempts: 3,
      run: (payload, ctx) => this.execute(payload.runId, ctx),
    };
    return [handler as JobHandler];
  }

  listSuites(): LlmSuiteSummary[] {
    return this.store.suites().map(({ prompts, cases, assertions: _a, generation: _g, ...rest }) => ({
      ...rest,
      prompts: prompts.length,
      cases: cases.length,
    }));
  }

  getSuite(ref: string): LlmSuite {
    const suite = this.store.suite(ref);
    if (!suite) throw new AppError('NOT_FOUND', `no LLM eval suite ${ref}`);
    return suite;
  }

  createSuite(spec: SuiteSpec): LlmSuite {
    const id = newId();
    this.store.transaction(() => {
      if (this.store.suiteNamed(spec.name)) throw new AppError('CONFLICT', `name: a suite named ${spec.name} exists`);
      this.store.insertSuite(id, spec, Date.now());
    });
    return this.getSuite(id);
  }

  updateSuite(ref: string, spec: SuiteSpec): LlmSuite {
    const { id } = this.getSuite(ref);
    this.store.transaction(() => {
      const holder = this.store.suiteNamed(spec.name);
      if (holder && holder !== id) throw new AppError('CONFLICT', `name: a suite named ${spec.name} exists`);
      this.store.updateSuite(id, spec, Date.now());
    });
    return this.getSuite(id);
  }

  deleteSuite(ref: string): void {
    this.store.deleteSuite(this.getSuite(ref).id);
  }

  createRun(input: z.output<typeof LlmRunInput>): LlmRunSummary {
    let suite: LlmSuite;
    try {
      suite = this.getSuite(input.suite);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND')
        throw new AppError('INVALID_ARGUMENT', `suite: no LLM eval suite ${input.suite}`);
      throw err;
    }
    const models = input.models.map((ref, i) => this.deploymentOfKind(ref, 'generation', `models[${i}]`).name);
    const duplicate = models.find((name, i) => models.indexOf(name) !== i);
    if (duplicate) throw new AppError('INVALID_ARGUMENT', `models: ${duplicate} is named twice`);
    this.checkAssertionDeployments(suite.assertions, 'assertions');
    suite.cases.forEach((c, i) => this.checkAssertionDeployments(c.assertions, `cases[${i}].assertions`));
    const id = newId();
    this.store.transaction(() => {
      const job = this.deps.queue.enqueue({ type: RUN_JOB, payload: { runId: id } });
      this.store.insertRun({
        id,
        suite,
        models,
        jobId: job.id,
        cellCount: suite.prompts.length * models.length * suite.cases.length,
        now: Date.now(),
      });
    });
    return this.announce(id);
  }

  listRuns(query: { suite?: string | undefined; limit: number }): LlmRunSummary[] {
    return this.store
      .runs({ suiteId: query.suite === undefined ? undefined : this.getSuite(query.suite).id, limit: query.limit })
      .map((run) => this.settled(run));
  }

  /**
   * The run, failed when its job ended without it (cancelled before it started, or given up after a crash on its
   * last attempt): then the job's handler never got to record the end.
   */
  private settled(run: LlmRunSummary): LlmRunSummary {
    if (run.state === 'succeeded' || run.state === 'failed') return run;
    const job = this.deps.queue.get(run.jobId);
    if (job.status !== 'failed' && job.status !== 'cancelled') return run;
    const reason = job.status === 'cancelled' ? 'cancelled' : (job.error?.message ?? 'its job failed');
    this.store.setRunState(run.id, 'failed', reason, job.finishedAt ?? Date.now());
    return { ...run, state: 'failed', reason, finishedAt: job.finishedAt ?? Date.now() };
  }

  getRun(id: string): LlmRun {
    const run = this.store.run(id);
    if (!run) throw new AppError('NOT_FOUND', `no LLM eval run ${id}`);
    const summary = this.settled(run.summary);
    const { prompts, cases, generation } = run.spec;
    const cells = this.store.cells(id).map(({ promptIndex, ...cell }) => ({
      prompt: prompts[promptIndex]?.name ?? String(promptIndex),
      ...cell,
    }));
    const totals: LlmTotal[] = prompts.flatMap((prompt) =>
      summary.models.map((model) => {
        const mine = cells.filter((c) => c.prompt === prompt.name && c.model === model);
        return {
          prompt: prompt.name,
          model,
          passed: mine.filter((c) => c.passed).length,
          failed: mine.filter((c) => !c.passed).length,
          errors: mine.filter((c) => c.error !== null).length,
        };
      }),
    );
    return { ...summary, prompts, cases, generation, totals, cells };
  }

  /** The deployment `ref` names, when it serves a GGUF model of `kind`; INVALID_ARGUMENT naming `field` otherwise. */
  private deploymentOfKind(ref: string, kind: 'generation' | 'embedding', field: string): Deployment {
    let deployment: Deployment;
    try {
      deployment = this.deps.deploy.get(ref);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND')
        throw new AppError('INVALID_ARGUMENT', `${field}: no deployment named ${ref}`);
      throw err;
    }
    if (deployment.runtime !== 'gguf' || deployment.modelKind !== kind)
      throw new AppError(
        'INVALID_ARGUMENT',
        `${field}: deployment ${ref} serves a ${deployment.runtime} ${deployment.modelKind ?? 'model'}, not a GGUF ${kind === 'generation' ? 'chat' : 'embedding'} model`,
      );
    return deployment;
  }

  private checkAssertionDeployments(assertions: readonly LlmAssertion[], field: string): void {
    assertions.forEach((a, i) => {
      if (a.type === 'similarity') this.deploymentOfKind(a.embedder, 'embedding', `${field}[${i}].embedder`);
      if (a.type === 'rubric') this.deploymentOfKind(a.grader, 'generation', `${field}[${i}].grader`);
    });
  }

  private announce(id: string): LlmRunSummary {
    const run = this.store.run(id);
    if (!run) throw new AppError('NOT_FOUND', `no LLM eval run ${id}`);
    this.deps.bus.emit('evalkit.llm-run.updated', { run: run.summary });
    return run.summary;
  }

  /** The job: asks each cell not yet stored (a resumed run skips the done ones), then ends the run. */
  private async execute(runId: string, ctx: JobContext): Promise<{ cells: number; passed: number }> {
    const run = this.store.run(runId);
    if (!run) return { cells: 0, passed: 0 }; // its suite was deleted meanwhile
    if (run.summary.state === 'succeeded') return { cells: run.summary.done, passed: run.summary.passed };
    this.store.setRunState(runId, 'running', null, Date.now());
    this.announce(runId);
    try {
      const { prompts, cases, assertions, generation } = run.spec;
      const done = new Set(this.store.cells(runId).map((c) => `${c.promptIndex}/${c.model}/${c.case}`));
      let finished = done.size;
      for (const [p, prompt] of prompts.entries()) {
        for (const model of run.summary.models) {
          for (const [k, testCase] of cases.entries()) {
            if (done.has(`${p}/${model}/${k}`)) continue;
            ctx.signal.throwIfAborted();
            const messages = [
              ...(prompt.system
                ? [{ role: 'system' as const, content: fillTemplate(prompt.system, testCase.vars) }]
                : []),
              { role: 'user' as const, content: fillTemplate(prompt.user, testCase.vars) },
            ];
            // The case's answer format wins over the prompt's.
            const format = wireResponseFormat(testCase.responseFormat ?? prompt.responseFormat);
            const cell = await this.askCell(model, messages, generation, format, testCase, assertions, ctx.signal);
            this.store.insertCell(runId, { promptIndex: p, model, case: k, ...cell });
            finished += 1;
            ctx.progress(finished / run.summary.cellCount, `${finished} of ${run.summary.cellCount} cells`);
            this.announce(runId);
          }
        }
      }
      this.store.setRunState(runId, 'succeeded', null, Date.now());
      const summary = this.announce(runId);
      return { cells: summary.done, passed: summary.passed };
    } catch (err) {
      const reason = ctx.signal.aborted ? 'cancelled' : err instanceof Error ? err.message : String(err);
      this.store.setRunState(runId, 'failed', reason, Date.now());
      // Unless the suite (and so the run) was deleted meanwhile.
      if (this.store.run(runId)) this.announce(runId);
      throw err;
    }
  }

  private async askCell(
    model: string,
    messages: { role: 'system' | 'user'; content: string }[],
    generation: SuiteSpec['generation'],
    format: WireResponseFormat | undefined,
    testCase: SuiteSpec['cases'][number],
    suiteAssertions: readonly LlmAssertion[],
    signal: AbortSignal,
  ): Promise<Omit<StoredCell, 'promptIndex' | 'model' | 'case'>> {
    const started = performance.now();
    let answer: ChatAnswer;
    try {
      answer = await this.chat(model, messages, generation, format, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      return {
        output: null,
        error: err instanceof Error ? err.message : String(err),
        latencyMs: null,
        promptTokens: null,
        completionTokens: null,
        passed: false,
        assertions: [],
        diff: null,
      };
    }
    const latencyMs = performance.now() - started;
    const checked = { output: answer.content, latencyMs, expected: testCase.expected };
    const all = [
      ...suiteAssertions.map((a) => ({ a, source: 'suite' as const })),
      ...testCase.assertions.map((a) => ({ a, source: 'case' as const })),
    ];
    const results: LlmAssertionResult[] = [];
    for (const { a, source } of all) {
      const verdict = await this.check(a, checked, signal);
      results.push({ type: a.type, source, ...verdict });
    }
    return {
      output: answer.content,
      error: null,
      latencyMs,
      promptTokens: answer.promptTokens,
      completionTokens: answer.completionTokens,
      passed: results.every((r) => r.passed),
      assertions: results,
      diff: testCase.expected === undefined ? null : wordDiff(testCase.expected, answer.content),
    };
  }

  /** A verdict; a deployment that cannot answer (embedder, grader) fails the assertion with its error. */
  private async check(
    assertion: LlmAssertion,
    answer: { output: string; latencyMs: number; expected: string | undefined },
    signal: AbortSignal,
  ): Promise<Verdict> {
    try {
      if (assertion.type === 'similarity') {
        const want = assertion.value ?? answer.expected ?? '';
        const [got, wanted] = await this.embed(assertion.embedder, [answer.output, want], signal);
        const score = cosine(got ?? [], wanted ?? []);
        const passed = score >= assertion.threshold;
        return {
          passed,
          reason: `cosine similarity ${score.toFixed(4)} ${passed ? '≥' : '<'} ${assertion.threshold} (${assertion.embedder})`,
          score,
        };
      }
      if (assertion.type === 'rubric') {
        const verdict = await this.chat(
          assertion.grader,
          graderMessages(assertion.rubric, answer.output),
          { temperature: 0, maxTokens: 128 },
          GRADER_FORMAT,
          signal,
        );
        return parseGraderVerdict(verdict.content, verdict.finishReason);
      }
      return checkLocally(assertion, answer);
    } catch (err) {
      if (signal.aborted) throw err;
      return {
        passed: false,
        reason: `could not check: ${err instanceof Error ? err.message : String(err)}`,
        score: null,
      };
    }
  }

  /** POSTs to the core's own OpenAI-compatible API, as a user's client would. */
  private async post(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const { url, token } = this.deps.access();
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    if (!response.ok) throw new Error(await httpProblem(response));
    return response.json();
  }

  private async chat(
    model: string,
    messages: { role: 'system' | 'user'; content: string }[],
    generation: { temperature: number; seed?: number | undefined; maxTokens: number },
    format: WireResponseFormat | undefined,
    signal: AbortSignal,
  ): Promise<ChatAnswer> {
    const body = (await this.post(
      '/v1/chat/completions',
      {
        model,
        messages,
        temperature: generation.temperature,
        max_tokens: generation.maxTokens,
        ...(generation.seed === undefined ? {} : { seed: generation.seed }),
        ...(format === undefined ? {} : { response_format: format }),
      },
      signal,
    )) as {
      choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const content = body.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new Error('the answer had no message content');
    return {
      content,
      finishReason: body.choices?.[0]?.finish_reason ?? null,
      promptTokens: body.usage?.prompt_tokens ?? null,
      completionTokens: body.usage?.completion_tokens ?? null,
    };
  }

  private async embed(model: string, input: string[], signal: AbortSignal): Promise<number[][]> {
    const body = (await this.post('/v1/embeddings', { model, input }, signal)) as {
      data?: { index: number; embedding: number[] }[];
    };
    const data = [...(body.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== input.length)
      throw new Error(`the embedder returned ${data.length} of ${input.length} vectors`);
    return data.map((d) => d.embedding);
  }
}
