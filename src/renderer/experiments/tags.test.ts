import { describe, expect, it } from 'vitest';
import { parseTagList } from './tags';

describe('typed tag lists', () => {
  it('reads key=value pairs separated by commas or lines', () => {
    expect(parseTagList(' team=vision,\nowner = ana , draft')).toEqual({
      tags: [
        { key: 'team', value: 'vision' },
        { key: 'owner', value: 'ana' },
        { key: 'draft', value: '' },
      ],
      error: null,
    });
  });

  it('refuses a missing key and a key given twice', () => {
    expect(parseTagList('=x').error).toMatch(/no key/);
    expect(parseTagList('a=1, a=2').error).toMatch(/given twice/);
  });
});
