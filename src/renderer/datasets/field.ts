import { inputClass } from '../components/ui';

/**
 * The shared input style with its width, height or text size swapped out: adding a second `w-*` next to
 * `w-full` leaves the winner to the order of Tailwind's generated CSS, so the token is replaced instead.
 */
export function fieldClass({
  width,
  height,
  text,
  extra,
}: {
  width?: string;
  height?: string;
  text?: string;
  extra?: string;
}): string {
  const swap: Record<string, string | undefined> = { 'w-full': width, 'h-8': height, 'text-[13px]': text };
  const tokens = inputClass.split(/\s+/).map((t) => swap[t] ?? t);
  return [...tokens, extra].filter(Boolean).join(' ');
}
