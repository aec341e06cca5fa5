import { useEffect, useRef, type ReactNode } from 'react';
import { CloseIcon } from './icons';

/**
 * A modal on the native <dialog> element: focus trapping, Escape and the top layer come from the browser.
 * `onClose` runs for Escape and the close button; the parent owns `open`. `size="lg"` is for long forms: wider,
 * and its body scrolls between a header and footer that stay in view.
 */
export function Dialog({
  open,
  onClose,
  title,
  children,
  footer,
  testId,
  size = 'md',
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  footer?: ReactNode;
  testId?: string;
  size?: 'md' | 'lg';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      data-testid={testId}
      aria-labelledby={testId ? `${testId}-title` : undefined}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={`m-auto ${size === 'lg' ? 'w-[min(46rem,calc(100vw-2rem))]' : 'w-[min(32rem,calc(100vw-2rem))]'} rounded-lg border border-zinc-200 bg-white p-0 text-zinc-800 shadow-2xl dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200`}
    >
      {open && (
        <div className={size === 'lg' ? 'flex max-h-[calc(100dvh-3rem)] flex-col' : 'flex flex-col'}>
          <header className="flex items-center justify-between border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
            <h2
              id={testId ? `${testId}-title` : undefined}
              className="text-sm font-semibold text-zinc-900 dark:text-zinc-50"
            >
              {title}
            </h2>
            <button
              type="button"
              onClick={onClose}
              aria-label="Close"
              className="rounded p-1 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
            >
              <CloseIcon />
            </button>
          </header>
          <div className={size === 'lg' ? 'min-h-0 space-y-3 overflow-y-auto px-5 py-4' : 'space-y-3 px-5 py-4'}>
            {children}
          </div>
          {footer && (
            <footer className="flex justify-end gap-2 border-t border-zinc-200 bg-zinc-50 px-5 py-3 dark:border-zinc-800 dark:bg-zinc-900/60">
              {footer}
            </footer>
          )}
        </div>
      )}
    </dialog>
  );
}
