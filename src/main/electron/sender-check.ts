/**
 * Who may call the main process over IPC: the main frame of our window, showing a page of the core's origin.
 * Subframes (an embedded page) and anything that navigated elsewhere are refused, so the local token and the
 * native dialogs reach only the app itself. Pure, so it is tested without Electron.
 */
export function isTrustedSender(frameUrl: string | null | undefined, isMainFrame: boolean, appOrigin: string): boolean {
  if (!isMainFrame || !frameUrl) return false;
  let origin: string;
  try {
    origin = new URL(frameUrl).origin;
  } catch {
    return false;
  }
  return origin !== 'null' && origin === appOrigin;
}
