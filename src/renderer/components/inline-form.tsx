import { useState, type ChangeEvent, type ReactNode } from 'react';
import { cx } from './ui';

/** A field of a compact inline form (a row of fields and a button): its label above the control. */
export function InlineField({
  label,
  className,
  children,
}: {
  label: ReactNode;
  className?: string;
  children: ReactNode;
}) {
  return (
    <label className={cx('flex flex-col gap-1', className)}>
      {label}
      {children}
    </label>
  );
}

/** A form of text fields: their values, and `bind(key)`, the value and onChange of one's input or select. */
export function useTextFields<T extends Record<string, string>>(initial: T) {
  const [form, setForm] = useState(initial);
  const bind = (key: keyof T) => ({
    value: form[key],
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      setForm((current) => ({ ...current, [key]: e.target.value })),
  });
  return { form, bind };
}
