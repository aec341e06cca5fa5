import { useState } from 'react';

const STORAGE_KEY = 'aidos.labeling.annotator';

function read(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * Who is annotating (and reviewing) on this browser: the name typed last, kept in localStorage; null until one
 * is typed, when the server answers for the signed-in caller (the OS user or the API key's name) and says who
 * that is. Several people can take turns on one machine by changing it.
 */
export function useAnnotatorName(): { name: string | null; setName: (name: string) => void } {
  const [name, setStored] = useState<string | null>(read);
  const setName = (next: string) => {
    setStored(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // storage disabled: the name lasts for this page
    }
  };
  return { name, setName };
}
