// Types for start-decision.mjs (plain Node ESM, so `npm start` needs no TypeScript), used by its test.
export type ShellDecision = { shell: 'electron'; electronPath: string } | { shell: 'headless'; reason: string };

export function locateElectron(
  env?: Record<string, string | undefined>,
  require?: NodeJS.Require,
): { electronPath: string | null; packageDir: string | null };

export function isExecutableFile(file: string): boolean;

export function chooseShell(input: {
  electronPath: string | null;
  isExecutable: (file: string) => boolean;
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  uid?: number | undefined;
}): ShellDecision;
