import { useState } from 'react';
import { Button } from '../components/ui';
import { toastError } from '../lib/toasts';
import { fieldClass } from './field';
import { isAbsolutePath } from './model';

/**
 * An absolute folder path on the core's machine. In the desktop app a "Choose…" button opens the native picker
 * (the core runs on the same machine there); in a browser the path is typed, as the server may be remote.
 */
export function FolderField({
  id,
  label,
  value,
  onChange,
  hint,
  disabled,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  disabled?: boolean;
}) {
  const bridge = typeof window !== 'undefined' ? window.aidos : undefined;
  const [choosing, setChoosing] = useState(false);
  const choose = async () => {
    if (!bridge) return;
    setChoosing(true);
    try {
      const chosen = await bridge.chooseFolder();
      if (chosen) onChange(chosen);
    } catch (error) {
      toastError(error, 'Could not open the folder picker');
    } finally {
      setChoosing(false);
    }
  };
  const invalid = value.trim() !== '' && !isAbsolutePath(value.trim());
  return (
    <div>
      <label htmlFor={id} className="mb-1 block font-medium">
        {label}
      </label>
      <div className="flex gap-2">
        <input
          id={id}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder="/home/me/data/flowers"
          spellCheck={false}
          autoComplete="off"
          disabled={disabled}
          aria-invalid={invalid || undefined}
          aria-describedby={`${id}-hint`}
          className={fieldClass({ text: 'text-[12px]', extra: 'font-mono' })}
        />
        {bridge && (
          <Button onClick={() => void choose()} disabled={disabled || choosing}>
            Choose…
          </Button>
        )}
      </div>
      <p
        id={`${id}-hint`}
        className={
          invalid
            ? 'mt-1 text-[12px] text-red-700 dark:text-red-400'
            : 'mt-1 text-[12px] text-zinc-500 dark:text-zinc-400'
        }
      >
        {invalid ? 'Give an absolute path (starting with / or a drive letter).' : hint}
      </p>
    </div>
  );
}
