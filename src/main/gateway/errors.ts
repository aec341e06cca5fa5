import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, httpStatusOf, type ErrorBody } from '#shared/errors';

const CONTEXT_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path' };

/**
 * The one place errors become HTTP (ARCHITECTURE.md §7). Anything a client caused becomes a 4xx naming the
 * problem; only the core's own faults are 500, and their details stay in the log.
 */
export function toHttpError(
  err: unknown,
  limits: { bodyLimitBytes: number },
): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof AppError)
    return { status: httpStatusOf(err), body: err.toBody(), internal: err.code === 'INTERNAL' };
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = CONTEXT_NAMES[(err as { validationContext?: string }).validationContext ?? 'body'] ?? 'input';
    const issues = err.validation.map((v) => {
      const field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return { field: field ? `${where}.${field}` : where, message: v.message ?? 'invalid' };
    });
    const first = issues[0] as { field: string; message: string };
    const app = new AppError('INVALID_ARGUMENT', `${first.field}: ${first.message}`, { issues });
    return { status: 400, body: app.toBody(), internal: false };
  }
  const fe = err as Partial<FastifyError> & { type?: string };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return client(
        413,
        'RESOURCE_EXHAUSTED',
        `the request body is larger than the limit of ${limits.bodyLimitBytes} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return client(
        415,
        'INVALID_ARGUMENT',
        'content-type is not accepted here: send application/json (application/octet-stream for upload chunks)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return client(400, 'INVALID_ARGUMENT', 'body: the request says it is JSON but has no body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return client(400, 'INVALID_ARGUMENT', `body: not valid JSON (${fe.message ?? ''})`);
    default:
      break;
  }
  if (fe instanceof SyntaxError || fe.type === 'entity.parse.failed') {
    return client(400, 'INVALID_ARGUMENT', `body: not valid JSON (${fe.message ?? ''})`);
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return client(429, 'RESOURCE_EXHAUSTED', fe.message ?? 'too many requests');
  if (status >= 400 && status < 500) return client(status, 'INVALID_ARGUMENT', fe.message ?? 'bad request');
  return {
    status: 500,
    body: new AppError('INTERNAL', 'internal error; the server log has the details').toBody(),
    internal: true,
  };
}

function client(status: number, code: AppError['code'], message: string) {
  return { status, body: new AppError(code, message, undefined, status).toBody(), internal: false };
}
