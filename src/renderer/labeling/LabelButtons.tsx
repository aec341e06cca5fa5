import type { ProjectLabel } from '#shared/contracts/labeling';
import { cx } from '../components/ui';

/**
 * The project's labels as buttons, each with its colour and hotkey. `pressed` marks the chosen ones (multilabel),
 * the picked one (classification) or the label new boxes get. `keepSelection` stops a click from clearing the
 * text selection (NER: select text, then click a label).
 */
export function LabelButtons({
  labels,
  pressed,
  onPress,
  keepSelection,
  disabled,
  groupLabel,
}: {
  labels: readonly ProjectLabel[];
  pressed: (label: string) => boolean;
  onPress: (label: string) => void;
  keepSelection?: boolean;
  disabled?: boolean;
  groupLabel: string;
}) {
  return (
    <div role="group" aria-label={groupLabel} className="flex flex-wrap gap-1.5">
      {labels.map((l) => {
        const on = pressed(l.name);
        return (
          <button
            key={l.name}
            type="button"
            aria-pressed={on}
            data-label-button="true"
            aria-keyshortcuts={l.hotkey ?? undefined}
            title={l.description || undefined}
            disabled={disabled}
            onMouseDown={keepSelection ? (e) => e.preventDefault() : undefined}
            onClick={() => onPress(l.name)}
            style={on ? { backgroundColor: l.color, borderColor: l.color } : { borderColor: `${l.color}99` }}
            className={cx(
              'inline-flex h-8 items-center gap-2 rounded-md border px-2.5 text-[13px] font-medium shadow-xs transition-colors disabled:opacity-50',
              on
                ? 'text-white'
                : 'bg-white text-zinc-800 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800',
            )}
          >
            {!on && <span className="size-2.5 rounded-full" style={{ backgroundColor: l.color }} aria-hidden="true" />}
            {l.name}
            {l.hotkey && (
              <kbd
                className={cx(
                  'rounded px-1 font-mono text-[11px] leading-4',
                  on ? 'bg-white/25 text-white' : 'bg-zinc-100 text-zinc-500 dark:bg-zinc-800 dark:text-zinc-400',
                )}
              >
                {l.hotkey}
              </kbd>
            )}
          </button>
        );
      })}
    </div>
  );
}
