/**
 * The navigation rules of the desktop window, as pure functions so they are tested without Electron.
 * The window shows one origin, the core's; everything else either opens in the system browser or nowhere.
 */

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The origin of the core's URL, e.g. `http://127.0.0.1:8000`; throws on a malformed URL. */
export function originOf(coreUrl: string): string {
  const origin = parse(coreUrl)?.origin;
  if (!origin || origin === 'null') throw new Error(`not an http(s) URL: ${coreUrl}`);
  return origin;
}

/** True when the window may navigate (or be redirected) to `url`: only within the app's own origin. */
export function isAppNavigation(url: string, appOrigin: string): boolean {
  const parsed = parse(url);
  return parsed !== null && parsed.origin !== 'null' && parsed.origin === appOrigin;
}

/**
 * What a link that asks for a new window (target=_blank, window.open) opens in the system browser: http(s)
 * URLs only, never file:, javascript:, custom schemes or anything a crafted page could turn into a command.
 */
export function externalLinkToOpen(url: string): string | null {
  const parsed = parse(url);
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return null;
  return parsed.href;
}
