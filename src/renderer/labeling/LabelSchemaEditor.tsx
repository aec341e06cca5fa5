import { useId, useState } from 'react';
import { Button, cx } from '../components/ui';
import { PlusIcon, CloseIcon } from '../components/icons';
import { fieldClass } from '../datasets/field';
import { checkLabels, draftHotkeys, PALETTE, type LabelDraft } from './model';

let nextKey = 0;

/** A new editor row; `from` is the label's name on the server, for rows of an existing project. */
export function labelDraft(
  name: string,
  index: number,
  from: { color: string; hotkey: string | null; description: string } | null = null,
): LabelDraft {
  return {
    key: `label-${++nextKey}`,
    from: from ? name : null,
    name,
    color: from?.color ?? (PALETTE[index % PALETTE.length] as string),
    hotkey: from?.hotkey ?? '',
    description: from?.description ?? '',
  };
}

/**
 * The label schema: one row per label with its colour, name, hotkey and description; add, remove, rename (edit
 * the name) and reorder by removing and adding. Problems are shown per row as you type.
 */
export function LabelSchemaEditor({
  labels,
  onChange,
  disabled,
}: {
  labels: LabelDraft[];
  onChange: (labels: LabelDraft[]) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const [adding, setAdding] = useState('');
  const problems = checkLabels(labels);
  const keys = draftHotkeys(labels);
  const update = (key: string, change: Partial<LabelDraft>) =>
    onChange(labels.map((l) => (l.key === key ? { ...l, ...change } : l)));
  const add = () => {
    const names = adding
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !labels.some((l) => l.name === n));
    if (names.length === 0) return;
    onChange([...labels, ...names.map((n, i) => labelDraft(n, labels.length + i))]);
    setAdding('');
  };

  return (
    <fieldset className="space-y-2" aria-label="Labels" disabled={disabled}>
      {labels.length > 0 && (
        <div className="grid grid-cols-[1.75rem_minmax(0,1fr)_2.75rem_minmax(0,1.3fr)_1.75rem] items-center gap-x-1.5 gap-y-1">
          <span aria-hidden="true" />
          <span className="text-[11px] font-medium text-zinc-500 uppercase dark:text-zinc-400">Name</span>
          <span className="text-[11px] font-medium text-zinc-500 uppercase dark:text-zinc-400">Key</span>
          <span className="text-[11px] font-medium text-zinc-500 uppercase dark:text-zinc-400">Description</span>
          <span />
          {labels.map((l, i) => {
            const problem = problems.rows.get(l.key);
            return (
              <div key={l.key} className="contents" data-testid="label-row">
                <input
                  type="color"
                  value={l.color}
                  onChange={(e) => update(l.key, { color: e.target.value })}
                  aria-label={`Colour of ${l.name || `label ${i + 1}`}`}
                  className="h-7 w-7 cursor-pointer rounded border border-zinc-300 bg-transparent p-0.5 dark:border-zinc-700"
                />
                <input
                  value={l.name}
                  onChange={(e) => update(l.key, { name: e.target.value })}
                  aria-label={`Name of label ${i + 1}`}
                  aria-invalid={problem ? true : undefined}
                  aria-describedby={problem ? `${id}-${l.key}-problem` : undefined}
                  spellCheck={false}
                  className={fieldClass({
                    height: 'h-7',
                    extra: problem ? 'border-red-400 dark:border-red-700' : undefined,
                  })}
                />
                <input
                  value={l.hotkey}
                  onChange={(e) => update(l.key, { hotkey: e.target.value.slice(-1).toLowerCase() })}
                  placeholder={keys[i] ?? '—'}
                  aria-label={`Hotkey of ${l.name || `label ${i + 1}`}`}
                  title="One key, 0-9 or a-z; the first nine labels get 1-9 when left empty"
                  maxLength={2}
                  className={fieldClass({ height: 'h-7', extra: 'text-center font-mono' })}
                />
                <input
                  value={l.description}
                  onChange={(e) => update(l.key, { description: e.target.value })}
                  placeholder="optional"
                  aria-label={`Description of ${l.name || `label ${i + 1}`}`}
                  className={fieldClass({ height: 'h-7' })}
                />
                <button
                  type="button"
                  onClick={() => onChange(labels.filter((x) => x.key !== l.key))}
                  aria-label={`Remove ${l.name || `label ${i + 1}`}`}
                  className="flex size-7 items-center justify-center rounded text-zinc-500 hover:bg-zinc-100 hover:text-red-600 dark:hover:bg-zinc-800"
                >
                  <CloseIcon />
                </button>
                {problem && (
                  <p
                    id={`${id}-${l.key}-problem`}
                    className="col-span-4 col-start-2 -mt-0.5 mb-1 text-[12px] text-red-700 dark:text-red-400"
                  >
                    {problem}
                  </p>
                )}
              </div>
            );
          })}
        </div>
      )}
      <div className="flex items-center gap-1.5">
        <input
          value={adding}
          onChange={(e) => setAdding(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
          placeholder="New label (or several, comma-separated)"
          aria-label="New label"
          spellCheck={false}
          className={fieldClass({ height: 'h-7' })}
        />
        <Button size="sm" onClick={add} disabled={adding.trim() === ''}>
          <PlusIcon /> Add label
        </Button>
      </div>
      {labels.some((l, i) => (l.hotkey || keys[i]) === 's') && (
        <p className={cx('text-[12px] text-zinc-500 dark:text-zinc-400')}>
          A label uses the key S, so skipping a task becomes Shift+S.
        </p>
      )}
    </fieldset>
  );
}
