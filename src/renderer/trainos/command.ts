import { AppError } from '#shared/errors';

/** A command line as words, or why it cannot be split. */
export type SplitCommand = { argv: string[] } | { error: string };

/**
 * Splits a command line into argv the way a POSIX shell splits simple commands: words apart by blanks,
 * 'single quotes' literal, "double quotes" with \" \\ \$ \` escapes, a backslash outside quotes escaping the
 * next character. Nothing is expanded (no variables, globs or pipes): the job runs without a shell.
 */
export function splitCommand(line: string): SplitCommand {
  const argv: string[] = [];
  let word = '';
  // A word exists once something is in it, even an empty quoted string ('').
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const char = line.charAt(i);
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else if (char === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return { error: "a single quote (') is not closed" };
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (char === '"') {
      let closed = false;
      for (i++; i < line.length; i++) {
        const inner = line.charAt(i);
        if (inner === '"') {
          closed = true;
          break;
        }
        const next = line.charAt(i + 1);
        if (inner === '\\' && (next === '"' || next === '\\' || next === '$' || next === '`')) {
          word += next;
          i++;
        } else if (inner === '\\' && next === '\n') {
          i++;
        } else {
          word += inner;
        }
      }
      if (!closed) return { error: 'a double quote (") is not closed' };
      inWord = true;
    } else if (char === '\\') {
      if (i + 1 >= line.length) return { error: 'the command ends with a backslash' };
      const next = line.charAt(++i);
      // A backslash before a line break joins the lines.
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  return argv.length > 0 ? { argv } : { error: 'the command is empty' };
}

/** How one argument of argv would be typed back into a shell: quoted only when it must be. */
export function quoteArgument(argument: string): string {
  if (argument !== '' && /^[\w@%+=:,./-]+$/.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

export type ParsedEnv = { env: Record<string, string> } | { error: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** KEY=VALUE lines (blank lines and # comments skipped; the value is everything after the first '='). */
export function parseEnvLines(text: string): ParsedEnv {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const equals = line.indexOf('=');
    const name = equals < 0 ? line.trim() : line.slice(0, equals).trim();
    if (equals < 0) return { error: `line ${index + 1}: '${name}' has no '=' (write KEY=VALUE)` };
    if (!ENV_NAME.test(name)) return { error: `line ${index + 1}: '${name}' is not an environment variable name` };
    if (Object.hasOwn(env, name)) return { error: `line ${index + 1}: ${name} is set twice` };
    env[name] = line.slice(equals + 1);
  }
  return { env };
}

/** The fields of the new-job form a server error can name. */
export const SPEC_FIELDS = [
  'name',
  'command',
  'workingDir',
  'experiment',
  'gpus',
  'gpuMemoryMb',
  'cpuThreads',
  'ramMb',
  'priority',
  'maxRuntimeSeconds',
  'retries',
  'keepCheckpoints',
  'env',
] as const;
export type SpecField = (typeof SPEC_FIELDS)[number];

export interface FieldError {
  /** The form field it belongs to; null when the server named none the form has. */
  field: SpecField | null;
  message: string;
}

function isSpecField(value: string): value is SpecField {
  return (SPEC_FIELDS as readonly string[]).includes(value);
}

/** `resources.gpus`, `command.0` or `env.X` as the form field it is about. */
function formFieldOf(path: string | null): SpecField | null {
  const segments = (path ?? '').split('.');
  const head = segments[0] === 'resources' ? segments[1] : segments[0];
  return head !== undefined && isSpecField(head) ? head : null;
}

/** A rejected request's complaint about one input field: its dotted path in the request (`params.lr`), if named. */
export interface ServerFieldError {
  /** Without the `body.` a schema issue starts with; null when the server named no field. */
  path: string | null;
  message: string;
}

/**
 * What a rejected request says about each input field: a 400 names its field either as `details.field` (the
 * service's own checks, message "field: why") or as `details.issues[]` (the request schema's).
 */
export function serverFieldErrors(error: unknown): ServerFieldError[] {
  if (!(error instanceof AppError) || error.code !== 'INVALID_ARGUMENT') return [];
  const details = error.details;
  if (typeof details !== 'object' || details === null) return [{ path: null, message: error.message }];
  if ('issues' in details && Array.isArray(details.issues)) {
    return details.issues.flatMap((issue: unknown) => {
      if (typeof issue !== 'object' || issue === null) return [];
      const field = 'field' in issue && typeof issue.field === 'string' ? issue.field : '';
      const message = 'message' in issue && typeof issue.message === 'string' ? issue.message : 'invalid';
      return [{ path: field.replace(/^body\.?/, '') || null, message }];
    });
  }
  if ('field' in details && typeof details.field === 'string') {
    const prefix = `${details.field}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return [{ path: details.field, message }];
  }
  return [{ path: null, message: error.message }];
}

/** What a rejected submit of the command form says about each of its fields. */
export function fieldErrorsOf(error: unknown): FieldError[] {
  return serverFieldErrors(error).map((e) => ({ field: formFieldOf(e.path), message: e.message }));
}
