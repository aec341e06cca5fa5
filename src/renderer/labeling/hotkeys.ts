/**
 * The labeling workspace's keyboard: label hotkeys (1-9, letters) and the fixed shortcuts (Enter, S, Ctrl/Cmd+Z,
 * Delete). A label's hotkey wins over a fixed letter, so a label on "s" moves skipping to Shift+S.
 */

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export type ShortcutAction =
  | { type: 'label'; label: string }
  | { type: 'submit' }
  | { type: 'skip' }
  | { type: 'undo' }
  | { type: 'delete' }
  | { type: 'escape' };

interface Hotkeyed {
  name: string;
  hotkey: string | null;
}

/** What a key press means in the workspace, or null when it means nothing there. */
export function shortcutFor(e: KeyLike, labels: readonly Hotkeyed[]): ShortcutAction | null {
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.ctrlKey || e.metaKey) return key === 'z' && !e.shiftKey && !e.altKey ? { type: 'undo' } : null;
  if (e.altKey) return null;
  switch (key) {
    case 'Enter':
      return { type: 'submit' };
    case 'Delete':
    case 'Backspace':
      return { type: 'delete' };
    case 'Escape':
      return { type: 'escape' };
  }
  if (key.length !== 1) return null;
  if (key === 's' && e.shiftKey) return { type: 'skip' };
  if (!e.shiftKey) {
    const label = labels.find((l) => l.hotkey === key);
    if (label) return { type: 'label', label: label.name };
  }
  return key === 's' && !e.shiftKey ? { type: 'skip' } : null;
}

/** How the skip shortcut is written on screen for these labels. */
export function skipShortcut(labels: readonly Hotkeyed[]): string {
  return labels.some((l) => l.hotkey === 's') ? 'Shift+S' : 'S';
}

/** "Ctrl+Z", or "⌘Z" on a Mac. */
export function undoShortcut(platform: string): string {
  return /mac|iphone|ipad/i.test(platform) ? '⌘Z' : 'Ctrl+Z';
}

const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * The hotkeys the server will give these labels: the ones set, and 1-9 (those not taken) for the first nine
 * without one. Mirrors the server so the schema editor can show them before the project exists.
 */
export function effectiveHotkeys(defs: readonly { hotkey?: string | undefined }[]): (string | null)[] {
  const taken = new Set(defs.flatMap((d) => (d.hotkey ? [d.hotkey] : [])));
  const free = DIGITS.filter((k) => !taken.has(k));
  return defs.map((d, i) => d.hotkey || (i < 9 ? (free.shift() ?? null) : null));
}
