/**
 * The one error type of AI-DOS (ARCHITECTURE.md §7). Every layer throws `AppError`; the gateway maps the code
 * to HTTP in one place (`httpStatusOf`) and clients turn the JSON shape back into an `AppError`.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'CONFLICT',
  'FAILED_PRECONDITION',
  'RESOURCE_EXHAUSTED',
  /** The server cannot take the request now but will again (it is shutting down): retry it, maybe elsewhere. */
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What a request to a server that is shutting down is told (`AppError.shuttingDown`), in every error shape. */
export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down: send the request again once it is back';

/** `details.code` of an error about memory (`AppError.insufficientMemory`). */
export const INSUFFICIENT_MEMORY = 'insufficient_memory';

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * The HTTP status of an error; `RESOURCE_EXHAUSTED` is 429 unless the error names another (413 for a body, 503 for
 * memory: see `AppError.insufficientMemory`).
 */
export function httpStatusOf(error: Pick<AppError, 'code' | 'httpStatus'>): number {
  return error.httpStatus ?? HTTP_STATUS[error.code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The JSON body of every error response: `{ "error": { "code", "message", "details" } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** Only for codes that cover several HTTP statuses (413, 429 and 503 are all RESOURCE_EXHAUSTED). */
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode, message: string, details?: unknown, httpStatus?: number) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.httpStatus = httpStatus;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  /**
   * A model or job that does not fit in the RAM or GPU memory there is: a 503 whose details say
   * `code: 'insufficient_memory'`, not a 429 (OpenAI's clients and the UI would call it a rate limit). It may fit
   * once other models are unloaded or jobs end.
   */
  static insufficientMemory(message: string, details: Record<string, unknown>): AppError {
    return new AppError('RESOURCE_EXHAUSTED', message, { ...details, code: INSUFFICIENT_MEMORY }, 503);
  }

  /** What a request gets from a server that is shutting down: a 503 to send again once it is back. */
  static shuttingDown(): AppError {
    return new AppError('UNAVAILABLE', SHUTTING_DOWN_MESSAGE, { code: 'server_shutting_down' });
  }

  static notFound(what: string, id: string): AppError {
    return new AppError('NOT_FOUND', `${what} '${id}' does not exist`, { [what]: id });
  }

  static invalid(field: string, message: string): AppError {
    return new AppError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
  }
}
