import { create } from 'zustand';
import { describeError } from './errors';

export interface Toast {
  id: number;
  tone: 'error' | 'success' | 'info';
  title: string;
  message?: string;
}

interface ToastState {
  toasts: Toast[];
  push(toast: Omit<Toast, 'id'>): void;
  dismiss(id: number): void;
}

let nextId = 1;

/** Short-lived notices for outcomes that have no place of their own on the page (a failed cancel, a copied secret). */
export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push(toast) {
    const id = nextId++;
    set({ toasts: [...get().toasts.slice(-4), { ...toast, id }] });
    // Errors stay until read and closed; the rest fade on their own.
    if (toast.tone !== 'error') setTimeout(() => get().dismiss(id), 4000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export function toastError(error: unknown, context?: string): void {
  const d = describeError(error);
  useToasts.getState().push({ tone: 'error', title: context ? `${context}: ${d.title}` : d.title, message: d.message });
}
