import { create } from 'zustand';

/** Where the token in use came from; the desktop app's token cannot be signed out of. */
export type TokenSource = 'desktop' | 'url' | 'storage' | 'sign-in';

const STORAGE_KEY = 'aidos.token';

interface SessionState {
  /** The core's base URL: the desktop bridge's, or this page's origin in a browser. */
  baseUrl: string;
  token: string | null;
  source: TokenSource | null;
  /** Why the user is looking at the sign-in screen (a rejected token, signed out), shown there. */
  notice: string | null;
  signIn(token: string): void;
  signOut(notice?: string): void;
}

/**
 * Finds the credentials once, at start-up (ARCHITECTURE.md §1: the renderer talks to the core over REST only):
 * 1. in Electron, `window.aidos` gives the base URL and the local token;
 * 2. in a browser, a `#token=...` fragment (what `aidos serve` prints), which is then removed from the address bar
 *    and kept in localStorage;
 * 3. else a token kept in localStorage by an earlier visit;
 * 4. else none, and the sign-in screen asks for one.
 */
export function initialSession(): Pick<SessionState, 'baseUrl' | 'token' | 'source'> {
  const bridge = window.aidos;
  if (bridge) return { baseUrl: bridge.apiBaseUrl, token: bridge.token, source: 'desktop' };
  const baseUrl = window.location.origin;
  const fromUrl = takeTokenFromFragment();
  if (fromUrl) {
    store(fromUrl);
    return { baseUrl, token: fromUrl, source: 'url' };
  }
  const stored = read();
  if (stored) return { baseUrl, token: stored, source: 'storage' };
  return { baseUrl, token: null, source: null };
}

/** Reads `#token=...` (other fragment parameters are kept) and rewrites the address without the token. */
function takeTokenFromFragment(): string | null {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const token = params.get('token')?.trim();
  if (!token) return null;
  params.delete('token');
  const rest = params.toString();
  const url = `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`;
  window.history.replaceState(window.history.state, '', url);
  return token;
}

function read(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the user signs in each time
  }
}

function store(token: string | null): void {
  try {
    if (token === null) window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, token);
  } catch {
    // storage disabled: the token lives for this page only
  }
}

export const useSession = create<SessionState>()((set, get) => ({
  ...initialSession(),
  notice: null,
  signIn(token) {
    const source = get().source === 'desktop' ? 'desktop' : 'sign-in';
    if (source !== 'desktop') store(token);
    set({ token, source, notice: null });
  },
  signOut(notice) {
    store(null);
    set({ token: null, source: null, notice: notice ?? null });
  },
}));
