import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { toHttpError } from './errors';

const limits = { bodyLimitBytes: 1024 };

describe('error mapping', () => {
  it('maps each AppError code to its status', () => {
    const cases: [AppError['code'], number][] = [
      ['INVALID_ARGUMENT', 400],
      ['UNAUTHENTICATED', 401],
      ['PERMISSION_DENIED', 403],
      ['NOT_FOUND', 404],
      ['CONFLICT', 409],
      ['FAILED_PRECONDITION', 409],
      ['RESOURCE_EXHAUSTED', 429],
      ['INTERNAL', 500],
    ];
    for (const [code, status] of cases) expect(toHttpError(new AppError(code, 'm'), limits).status).toBe(status);
  });

  it('maps an oversized body to 413 naming the limit', () => {
    const mapped = toHttpError(
      Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
      limits,
    );
    expect(mapped).toMatchObject({
      status: 413,
      body: {
        error: { code: 'RESOURCE_EXHAUSTED', message: 'the request body is larger than the limit of 1024 bytes' },
      },
    });
  });

  it('hides the details of unexpected errors behind a 500', () => {
    const mapped = toHttpError(new TypeError('secret internals'), limits);
    expect(mapped.status).toBe(500);
    expect(mapped.internal).toBe(true);
    expect(JSON.stringify(mapped.body)).not.toContain('secret internals');
  });
});
