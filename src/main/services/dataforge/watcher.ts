import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '#platform/logger';

/**
 * Runs one chokidar watcher per watched folder and calls `onSettled` once the folder has had no change for
 * `settleMs`. Symbolic links are not followed, so a link cannot pull outside files into a dataset.
 */
export class FolderWatchers {
  private readonly active = new Map<string, { watcher: FSWatcher; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly logger: Logger) {}

  start(id: string, folder: string, settleMs: number, onSettled: () => void): void {
    this.stop(id);
    const watcher = watch(folder, { ignoreInitial: true, followSymlinks: false, persistent: true });
    const entry: { watcher: FSWatcher; timer: NodeJS.Timeout | undefined } = { watcher, timer: undefined };
    watcher.on('all', () => {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        onSettled();
      }, settleMs);
    });
    watcher.on('error', (err) => this.logger.warn({ err, folder }, 'watching a folder failed'));
    this.active.set(id, entry);
  }

  stop(id: string): void {
    const entry = this.active.get(id);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    void entry.watcher.close();
    this.active.delete(id);
  }

  async stopAll(): Promise<void> {
    const all = [...this.active.values()];
    this.active.clear();
    for (const e of all) if (e.timer) clearTimeout(e.timer);
    await Promise.all(all.map((e) => e.watcher.close()));
  }
}
