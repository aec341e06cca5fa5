import { useSyncExternalStore } from 'react';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

export const THEMES = ['light', 'dark', 'system'] as const;
export type Theme = (typeof THEMES)[number];

interface ThemeState {
  theme: Theme;
  setTheme(theme: Theme): void;
}

const darkQuery = (): MediaQueryList | null =>
  typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;

/** The user's choice, persisted in localStorage; `system` follows the OS. */
export const useTheme = create<ThemeState>()(
  persist(
    (set) => ({
      theme: 'system',
      setTheme: (theme) => set({ theme }),
    }),
    { name: 'aidos.theme', storage: createJSONStorage(() => window.localStorage) },
  ),
);

export function effectiveTheme(theme: Theme): 'light' | 'dark' {
  if (theme !== 'system') return theme;
  return darkQuery()?.matches ? 'dark' : 'light';
}

/**
 * The theme in effect, for what draws its own colours (charts): re-renders when the user's choice changes and, for
 * `system`, when the OS preference does.
 */
export function useEffectiveTheme(): 'light' | 'dark' {
  const theme = useTheme((s) => s.theme);
  const osDark = useSyncExternalStore(subscribeToOsTheme, () => darkQuery()?.matches ?? false);
  if (theme !== 'system') return theme;
  return osDark ? 'dark' : 'light';
}

function subscribeToOsTheme(onChange: () => void): () => void {
  const query = darkQuery();
  query?.addEventListener('change', onChange);
  return () => query?.removeEventListener('change', onChange);
}

/** Puts `dark` or `light` on <html> (Tailwind's `dark:` variant keys on the class). */
export function applyTheme(theme: Theme): void {
  const resolved = effectiveTheme(theme);
  const root = document.documentElement;
  root.classList.toggle('dark', resolved === 'dark');
  root.classList.toggle('light', resolved === 'light');
}

/** Applies the stored theme now (before the first paint) and whenever it, or the OS preference, changes. */
export function startTheme(): () => void {
  applyTheme(useTheme.getState().theme);
  const offStore = useTheme.subscribe((s) => applyTheme(s.theme));
  const query = darkQuery();
  const onOsChange = () => applyTheme(useTheme.getState().theme);
  query?.addEventListener('change', onOsChange);
  return () => {
    offStore();
    query?.removeEventListener('change', onOsChange);
  };
}
