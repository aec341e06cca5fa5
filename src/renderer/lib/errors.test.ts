import { describe, expect, test } from 'vitest';
import { AppError } from '#shared/errors';
import { describeError, isUnauthenticated } from './errors';

describe('describeError', () => {
  test("an API error keeps its code and the server's message under a readable title", () => {
    const d = describeError(new AppError('PERMISSION_DENIED', "this API key lacks the 'admin' scope"));
    expect(d).toEqual({
      title: 'Not allowed',
      message: "this API key lacks the 'admin' scope",
      code: 'PERMISSION_DENIED',
    });
  });

  test('a full queue, a body too large and a model that does not fit have titles of their own', () => {
    expect(describeError(new AppError('RESOURCE_EXHAUSTED', 'queue full', undefined, 429)).title).toBe(
      'Too many requests',
    );
    expect(describeError(new AppError('RESOURCE_EXHAUSTED', 'body too large', undefined, 413)).title).toBe('Too large');
    expect(describeError(AppError.insufficientMemory('needs 8 GiB of RAM', {})).title).toBe('Not enough memory');
    // As the API client rebuilds it from a response: the details carry the code.
    const fromJson = new AppError('RESOURCE_EXHAUSTED', 'x', { code: 'insufficient_memory' }, 503);
    expect(describeError(fromJson).title).toBe('Not enough memory');
  });

  test('a failed fetch says the core cannot be reached', () => {
    const d = describeError(new TypeError('Failed to fetch'));
    expect(d.title).toBe('Cannot reach the AI-DOS core');
    expect(d.message).toContain('Failed to fetch');
  });

  test('anything else still has words', () => {
    expect(describeError('boom').message).toBe('boom');
    expect(isUnauthenticated(new AppError('UNAUTHENTICATED', 'no'))).toBe(true);
    expect(isUnauthenticated(new Error('no'))).toBe(false);
  });
});
