import { describe, expect, it } from 'vitest';
import { folderCrumbs, prettyJson, previewKind, previewRows } from './artifacts';

describe('artifact previews', () => {
  it('previews images inline, text, JSON and tables as text, and offers anything else as a download', () => {
    expect(previewKind('plots/roc.PNG')).toBe('image');
    expect(previewKind('notes.txt')).toBe('text');
    expect(previewKind('model/MLmodel')).toBe('text');
    expect(previewKind('metrics.json')).toBe('json');
    expect(previewKind('preds.csv')).toBe('table');
    expect(previewKind('model/model.onnx')).toBe('other');
    expect(previewKind('.hidden')).toBe('other');
  });

  it('makes breadcrumbs of a folder path', () => {
    expect(folderCrumbs('a/b')).toEqual([
      { name: 'a', path: 'a' },
      { name: 'b', path: 'a/b' },
    ]);
    expect(folderCrumbs('')).toEqual([]);
  });

  it('pretty-prints JSON only when all of it was read', () => {
    expect(prettyJson('{"a":1}', true)).toBe('{\n  "a": 1\n}');
    expect(prettyJson('{"a":1', true)).toBe('{"a":1');
    expect(prettyJson('{"a":1}', false)).toBe('{"a":1}');
  });

  it('splits CSV with quotes, dropping a last line cut short', () => {
    expect(previewRows('a,b\n"x, y",2\n"say ""hi""",3\n4,', false, false)).toEqual([
      ['a', 'b'],
      ['x, y', '2'],
      ['say "hi"', '3'],
    ]);
    expect(previewRows('a\tb\n1\t2\n', true, true)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});
