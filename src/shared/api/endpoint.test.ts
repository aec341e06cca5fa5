import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertUniqueEndpoints, endpoint, pathParamNames, splitInput } from './endpoint';

const get = endpoint({
  method: 'GET',
  path: '/api/v1/things/:id/parts/:part',
  summary: 'x',
  scope: 'read',
  input: z.object({ id: z.string(), part: z.string(), limit: z.coerce.number() }),
  output: z.object({}),
});
const post = endpoint({
  method: 'POST',
  path: '/api/v1/things/:id',
  summary: 'x',
  scope: 'write',
  input: z.object({ id: z.string(), name: z.string() }),
  output: z.object({}),
});

describe('endpoint contracts', () => {
  it('finds path parameters', () => {
    expect(pathParamNames(get.path)).toEqual(['id', 'part']);
  });

  it('puts path fields in params, the rest in the query for GET and in the body otherwise', () => {
    const g = splitInput(get);
    expect(Object.keys(g.params?.shape ?? {})).toEqual(['id', 'part']);
    expect(Object.keys(g.query?.shape ?? {})).toEqual(['limit']);
    expect(g.body).toBeUndefined();
    const p = splitInput(post);
    expect(Object.keys(p.body?.shape ?? {})).toEqual(['name']);
    expect(p.query).toBeUndefined();
  });

  it('refuses a path parameter missing from the input', () => {
    const broken = endpoint({ ...post, input: z.object({ name: z.string() }) });
    expect(() => splitInput(broken)).toThrow(/path parameter 'id' is not in its input/);
  });

  it('rejects duplicate names and two endpoints on one method and path', () => {
    expect(() => assertUniqueEndpoints([{ 'a.get': get }, { 'a.get': post }])).toThrow(
      /duplicate endpoint name 'a.get'/,
    );
    const clash = endpoint({ ...get, path: '/api/v1/things/:thing/parts/:p' });
    expect(() => assertUniqueEndpoints([{ 'a.get': get }, { 'b.get': clash }])).toThrow(
      /'a.get' and 'b.get' both claim GET/,
    );
    expect(Object.keys(assertUniqueEndpoints([{ 'a.get': get }, { 'a.post': post }]))).toEqual(['a.get', 'a.post']);
  });
});
