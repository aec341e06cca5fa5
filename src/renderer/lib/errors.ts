import { AppError, INSUFFICIENT_MEMORY, isErrorCode, type ErrorCode } from '#shared/errors';

/** A short title per error code, written for the person looking at the screen. */
const TITLES: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: 'Invalid input',
  UNAUTHENTICATED: 'Not signed in',
  PERMISSION_DENIED: 'Not allowed',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  FAILED_PRECONDITION: 'Not possible right now',
  RESOURCE_EXHAUSTED: 'Too many requests',
  UNAVAILABLE: 'Server unavailable',
  INTERNAL: 'Server error',
};

/** RESOURCE_EXHAUSTED covers a full queue (429), a body too large (413) and memory (503): told apart here. */
function titleOf(e: Pick<AppError, 'code' | 'details' | 'httpStatus'>): string {
  if (e.code !== 'RESOURCE_EXHAUSTED') return TITLES[e.code];
  const details = e.details as { code?: unknown } | undefined;
  if (details?.code === INSUFFICIENT_MEMORY) return 'Not enough memory';
  if (e.httpStatus === 413) return 'Too large';
  return TITLES.RESOURCE_EXHAUSTED;
}

export interface DescribedError {
  title: string;
  message: string;
  code: string | null;
}

/** Turns anything thrown (an AppError from the API, a network failure, a bug) into words for the UI. */
export function describeError(error: unknown): DescribedError {
  if (error instanceof AppError || (isAppErrorLike(error) && isErrorCode(error.code))) {
    const e = error as AppError;
    return { title: titleOf(e), message: e.message, code: e.code };
  }
  if (error instanceof TypeError) {
    // fetch() rejects with a TypeError when the server cannot be reached at all.
    return {
      title: 'Cannot reach the AI-DOS core',
      message: `${error.message}. Is \`aidos serve\` (or the desktop app) still running?`,
      code: null,
    };
  }
  if (error instanceof Error) return { title: 'Something went wrong', message: error.message, code: null };
  return { title: 'Something went wrong', message: String(error), code: null };
}

export function isUnauthenticated(error: unknown): boolean {
  return isAppErrorLike(error) && error.code === 'UNAUTHENTICATED';
}

function isAppErrorLike(error: unknown): error is { code: unknown; message: string } {
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}
