import { describe, expect, it } from 'vitest';
import { effectiveHotkeys, shortcutFor, skipShortcut, undoShortcut } from './hotkeys';

const key = (k: string, mods: Partial<{ ctrl: boolean; meta: boolean; alt: boolean; shift: boolean }> = {}) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  altKey: mods.alt ?? false,
  shiftKey: mods.shift ?? false,
});
const labels = [
  { name: 'cat', hotkey: '1' },
  { name: 'dog', hotkey: 'd' },
  { name: 'other', hotkey: null },
];

describe('shortcutFor', () => {
  it('maps a label hotkey to that label, in either case', () => {
    expect(shortcutFor(key('1'), labels)).toEqual({ type: 'label', label: 'cat' });
    expect(shortcutFor(key('d'), labels)).toEqual({ type: 'label', label: 'dog' });
    expect(shortcutFor(key('D'), labels)).toEqual({ type: 'label', label: 'dog' });
  });

  it('knows the fixed shortcuts: Enter, S, Ctrl/Cmd+Z, Delete and Backspace, Escape', () => {
    expect(shortcutFor(key('Enter'), labels)).toEqual({ type: 'submit' });
    expect(shortcutFor(key('s'), labels)).toEqual({ type: 'skip' });
    expect(shortcutFor(key('z', { ctrl: true }), labels)).toEqual({ type: 'undo' });
    expect(shortcutFor(key('z', { meta: true }), labels)).toEqual({ type: 'undo' });
    expect(shortcutFor(key('Delete'), labels)).toEqual({ type: 'delete' });
    expect(shortcutFor(key('Backspace'), labels)).toEqual({ type: 'delete' });
    expect(shortcutFor(key('Escape'), labels)).toEqual({ type: 'escape' });
  });

  it('leaves other keys and browser shortcuts alone', () => {
    expect(shortcutFor(key('x'), labels)).toBeNull();
    expect(shortcutFor(key('1', { ctrl: true }), labels)).toBeNull();
    expect(shortcutFor(key('z', { ctrl: true, shift: true }), labels)).toBeNull();
    expect(shortcutFor(key('1', { alt: true }), labels)).toBeNull();
    expect(shortcutFor(key('ArrowLeft'), labels)).toBeNull();
  });

  it('lets a label on "s" win, moving skip to Shift+S', () => {
    const withS = [...labels, { name: 'sheep', hotkey: 's' }];
    expect(shortcutFor(key('s'), withS)).toEqual({ type: 'label', label: 'sheep' });
    expect(shortcutFor(key('S', { shift: true }), withS)).toEqual({ type: 'skip' });
    expect(skipShortcut(withS)).toBe('Shift+S');
    expect(skipShortcut(labels)).toBe('S');
  });
});

describe('effectiveHotkeys', () => {
  it('gives the first nine labels without a key the digits not taken, as the server does', () => {
    expect(effectiveHotkeys([{}, { hotkey: '1' }, {}, { hotkey: 'x' }])).toEqual(['2', '1', '3', 'x']);
    const twelve = Array.from({ length: 12 }, () => ({}));
    expect(effectiveHotkeys(twelve)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', null, null, null]);
  });
});

describe('undoShortcut', () => {
  it('writes ⌘Z on a Mac and Ctrl+Z elsewhere', () => {
    expect(undoShortcut('MacIntel')).toBe('⌘Z');
    expect(undoShortcut('Linux x86_64')).toBe('Ctrl+Z');
  });
});
