import { useEffect, useRef, useState } from 'react';
import { toastError } from '../lib/toasts';
import { pickedFromDrop, type PickedFile } from './upload';

function carriesFiles(e: DragEvent): boolean {
  return e.dataTransfer?.types.includes('Files') ?? false;
}

/**
 * Files and folders dragged anywhere onto the window while the page is shown: returns whether a drag is over it,
 * and hands what is dropped (folders walked, with relative paths) to `onFiles`. A file dropped outside a drop
 * target would otherwise be opened by the browser (or the desktop shell) in place of the app.
 */
export function useFileDrop(onFiles: (files: PickedFile[]) => void): boolean {
  const [dragging, setDragging] = useState(false);
  const handler = useRef(onFiles);
  useEffect(() => {
    handler.current = onFiles;
  }, [onFiles]);

  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      // Every element entered is left again: the count is back at 0 when the drag leaves the window.
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      if (!e.dataTransfer) return;
      pickedFromDrop(e.dataTransfer)
        .then((files) => {
          if (files.length > 0) handler.current(files);
        })
        .catch((error: unknown) => toastError(error, 'Could not read what was dropped'));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return dragging;
}

/** The page-wide sign that a drop is welcome. */
export function DropOverlay({ show, label }: { show: boolean; label: string }) {
  if (!show) return null;
  return (
    <div
      data-testid="drop-overlay"
      className="pointer-events-none fixed inset-0 z-40 flex items-center justify-center bg-indigo-500/10 p-6 dark:bg-indigo-400/10"
    >
      <div className="flex h-full w-full items-center justify-center rounded-xl border-2 border-dashed border-indigo-400 dark:border-indigo-500">
        <p className="rounded-lg bg-white px-5 py-3 text-sm font-medium text-indigo-700 shadow-lg dark:bg-zinc-900 dark:text-indigo-300">
          {label}
        </p>
      </div>
    </div>
  );
}
