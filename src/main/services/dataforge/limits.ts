import { AppError } from '#shared/errors';

/** How large an import may be (`dataforge.*` in the configuration). */
export interface ImportLimits {
  /** The largest one file may be: a file of a folder, an imported file, an archive entry. */
  maxFileBytes: number;
  /** Archives: uncompressed bytes of all entries together, and the number of entries. */
  maxArchiveBytes: number;
  maxArchiveEntries: number;
}

/** Refuses a file over the per-file limit, naming it and its size. */
export function assertFileSize(path: string, size: number, limits: ImportLimits): void {
  if (size > limits.maxFileBytes) {
    throw AppError.invalid(
      'path',
      `'${path}' is ${size} bytes, over the limit of ${limits.maxFileBytes} bytes per file (dataforge.maxFileBytes)`,
    );
  }
}
