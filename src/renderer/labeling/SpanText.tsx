import type { Ref } from 'react';
import type { ProjectLabel, TextSpan } from '#shared/contracts/labeling';
import { cx } from '../components/ui';
import { segmentText } from './spans';

/**
 * A text with its entity spans highlighted in their labels' colours (the label's name after each, drawn by CSS so
 * that the text nodes hold exactly the task's text and selections map to offsets). A click on a span removes it
 * unless `onRemove` is absent (read-only).
 */
export function SpanText({
  text,
  spans,
  labels,
  onRemove,
  rootRef,
  compact,
}: {
  text: string;
  spans: readonly TextSpan[];
  labels: readonly ProjectLabel[];
  onRemove?: (span: TextSpan) => void;
  rootRef?: Ref<HTMLDivElement>;
  compact?: boolean;
}) {
  const colour = (label: string) => labels.find((l) => l.name === label)?.color ?? '#71717a';
  return (
    <div
      ref={rootRef}
      data-testid="span-text"
      className={cx(
        'whitespace-pre-wrap text-zinc-900 dark:text-zinc-100',
        compact ? 'text-[13px] leading-6' : 'text-[15px] leading-8',
        onRemove && 'cursor-text selection:bg-indigo-200 dark:selection:bg-indigo-800',
      )}
    >
      {segmentText(text, spans).map((s) =>
        s.span ? (
          <mark
            key={s.start}
            data-label={s.span.label}
            data-start={s.start}
            data-end={s.end}
            title={onRemove ? `${s.span.label}: click to remove` : s.span.label}
            onClick={
              onRemove
                ? () => {
                    if (window.getSelection()?.isCollapsed !== false) onRemove(s.span as TextSpan);
                  }
                : undefined
            }
            style={{ backgroundColor: `${colour(s.span.label)}2e`, borderColor: colour(s.span.label) }}
            className={cx(
              'rounded-sm border-b-2 px-0.5 text-inherit after:ml-1 after:align-[1px] after:text-[10px] after:font-semibold after:tracking-wide after:uppercase after:opacity-80 after:content-[attr(data-label)]',
              onRemove && 'cursor-pointer hover:line-through',
            )}
          >
            {text.slice(s.start, s.end)}
          </mark>
        ) : (
          <span key={s.start}>{text.slice(s.start, s.end)}</span>
        ),
      )}
    </div>
  );
}
