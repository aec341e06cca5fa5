import type { DeploymentDevice, DeploymentInput } from '#shared/contracts/deploy';
import { AppError } from '#shared/errors';

/**
 * The deploy form: what it holds (text as typed, so that an emptied number field means "the server's default"),
 * the request it makes, and the server's refusal spread over the fields it names.
 */

/** Model formats a deployment can serve (the runtimes of the deploy service). */
export const DEPLOYABLE_FORMATS = ['gguf', 'onnx', 'tfjs'] as const;

export function isDeployable(format: string): boolean {
  return (DEPLOYABLE_FORMATS as readonly string[]).includes(format.toLowerCase());
}

/**
 * Whether a model format or deployment runtime serves a tensor model (ONNX, TF.js: replicas and batching, the v2
 * protocol, the predict playground) rather than an LLM (GGUF: context, parallel sequences, chat).
 */
export function isTensorRuntime(runtime: string | undefined): boolean {
  return runtime !== undefined && isDeployable(runtime) && runtime.toLowerCase() !== 'gguf';
}

export interface DeployDraft {
  model: string;
  /** '' for the newest version, `3`, or `@champion`. */
  version: string;
  /** '' for the server's default (the model's name). */
  name: string;
  contextSize: string;
  parallel: string;
  maxQueue: string;
  /** '' for never. */
  idleUnloadSeconds: string;
  device: DeploymentDevice;
  threads: string;
  chatFormat: 'auto' | 'raw';
  /** GGUF: '1' loaded now (and when the app starts), '0' on its first request; ONNX, TF.js: the fewest replicas. */
  minReplicas: string;
  /** ONNX, TF.js: the most replicas the autoscaler may run. */
  maxReplicas: string;
  /** ONNX, TF.js dynamic batching: rows per run (0: off), and the longest wait for a batch to fill. */
  maxBatchSize: string;
  maxQueueDelayMs: string;
  /** The share of requests logged, in percent. */
  logPercent: string;
}

export function emptyDraft(model = '', version = ''): DeployDraft {
  return {
    model,
    version,
    name: '',
    contextSize: '',
    parallel: '1',
    maxQueue: '32',
    idleUnloadSeconds: '',
    device: 'auto',
    threads: '',
    chatFormat: 'auto',
    minReplicas: '1',
    maxReplicas: '1',
    maxBatchSize: '32',
    maxQueueDelayMs: '2',
    logPercent: '100',
  };
}

/** `3` → 3, `@champion` → '@champion', `champion` → '@champion', '' → undefined (the newest). */
export function versionSelectorOf(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  return t.startsWith('@') ? t : `@${t}`;
}

function numberOrUndefined(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/**
 * The create request for a draft of a model in `format`; empty fields are left out so that the server's defaults
 * apply, and so are the settings the other runtimes read (GGUF: context and chat prompts; ONNX and TF.js:
 * replicas and batching).
 */
export function deploymentInputOf(draft: DeployDraft, format = 'gguf'): DeploymentInput {
  const idle = numberOrUndefined(draft.idleUnloadSeconds);
  const percent = numberOrUndefined(draft.logPercent);
  const tensor = isTensorRuntime(format);
  return {
    model: draft.model,
    version: versionSelectorOf(draft.version),
    name: draft.name.trim() || undefined,
    maxQueue: numberOrUndefined(draft.maxQueue),
    idleUnloadSeconds: idle ?? null,
    device: draft.device,
    // TF.js sets its own threads (the form hides the field; a value typed before switching runtime stays behind).
    threads: format === 'tfjs' ? undefined : numberOrUndefined(draft.threads),
    minReplicas: numberOrUndefined(draft.minReplicas),
    requestLog: percent === undefined ? undefined : { sampleRate: percent / 100 },
    ...(tensor
      ? {
          maxReplicas: numberOrUndefined(draft.maxReplicas),
          maxBatchSize: numberOrUndefined(draft.maxBatchSize),
          maxQueueDelayMs: numberOrUndefined(draft.maxQueueDelayMs),
        }
      : {
          contextSize: numberOrUndefined(draft.contextSize),
          parallel: numberOrUndefined(draft.parallel),
          chatFormat: draft.chatFormat,
        }),
  };
}

/** The field of the form a server error names (`body.requestLog.sampleRate` → `logPercent`), or null. */
export function formFieldOf(path: string | null): keyof DeployDraft | null {
  if (!path) return null;
  const p = path.replace(/^body\.?/, '');
  if (p.startsWith('requestLog')) return 'logPercent';
  if (p === 'file') return 'model';
  const fields: readonly (keyof DeployDraft)[] = [
    'model',
    'version',
    'name',
    'contextSize',
    'parallel',
    'maxQueue',
    'idleUnloadSeconds',
    'device',
    'threads',
    'chatFormat',
    'minReplicas',
    'maxReplicas',
    'maxBatchSize',
    'maxQueueDelayMs',
  ];
  return fields.find((f) => f === p) ?? null;
}

export interface FormErrors {
  fields: Partial<Record<keyof DeployDraft, string>>;
  /** What names no field (or a field the form does not show): said above the buttons. */
  general: string[];
}

/** How the form's labels name the settings a server message may mention. */
const FIELD_WORDS: Record<string, string> = {
  minReplicas: 'min replicas',
  maxReplicas: 'max replicas',
  contextSize: 'the context size',
  maxBatchSize: 'the max batch size',
  maxQueueDelayMs: 'the max queue delay',
  maxQueue: 'the max queue',
};

/**
 * Spreads a refused create over the form: a validation error's issues (`details.issues[].field`), or a service
 * error naming one field (`details.field`, for any code: a taken name is a CONFLICT on `name`). The field's
 * name is cut from the front of the message ("parallel: must be at most 64" → "must be at most 64").
 */
export function formErrorsOf(error: unknown): FormErrors {
  const out: FormErrors = { fields: {}, general: [] };
  if (!error) return out;
  if (!(error instanceof AppError)) {
    out.general.push(error instanceof Error ? error.message : String(error));
    return out;
  }
  const put = (path: string | null, message: string) => {
    const field = formFieldOf(path);
    const name = path?.replace(/^body\.?/, '');
    const cut = name && message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
    // The form asks for a percentage where the API takes a fraction; other fields go by their labels here.
    const text =
      field === 'logPercent' && /sampleRate/.test(name ?? '')
        ? 'give a percentage from 0 to 100'
        : cut.replace(
            /\b(minReplicas|maxReplicas|contextSize|maxBatchSize|maxQueueDelayMs|maxQueue)\b/g,
            (f) => FIELD_WORDS[f] ?? f,
          );
    if (field && !out.fields[field]) out.fields[field] = text;
    else if (!field) out.general.push(message);
  };
  const details = error.details as { issues?: unknown; field?: unknown } | null | undefined;
  if (details && Array.isArray(details.issues)) {
    for (const issue of details.issues as unknown[]) {
      if (typeof issue !== 'object' || issue === null) continue;
      const i = issue as { field?: unknown; message?: unknown };
      put(typeof i.field === 'string' ? i.field : null, typeof i.message === 'string' ? i.message : 'invalid');
    }
    if (out.general.length === 0 && Object.keys(out.fields).length === 0) out.general.push(error.message);
    return out;
  }
  put(details && typeof details.field === 'string' ? details.field : null, error.message);
  return out;
}
