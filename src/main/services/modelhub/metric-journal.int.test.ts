import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations, type Db } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { tempDir } from '#platform/testing';
import { decodeRecords, encodeRecord } from './metric-journal';
import { modelhubMigrations } from './schema';
import { TrackingService } from './service';
import { ModelhubStore } from './store';

let tmp: ReturnType<typeof tempDir>;
let file: string;
const opened: { db: Db; store: ModelhubStore }[] = [];

function open(): { db: Db; store: ModelhubStore; tracking: TrackingService } {
  const db = openDatabase(file);
  runMigrations(db, [modelhubMigrations]);
  const store = new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) });
  opened.push({ db, store });
  return { db, store, tracking: new TrackingService(store, new EventBus(silentLogger()), silentLogger()) };
}

function close(): void {
  for (const { db, store } of opened.splice(0)) {
    if (!db.open) continue;
    store.close();
    db.close();
  }
}

beforeEach(() => {
  tmp = tempDir('aidos-journal-');
  file = path.join(tmp.dir, 'aidos.db');
});
afterEach(() => {
  close();
  tmp.remove();
});

const log = (tracking: TrackingService, run: string, step: number, value = step / 10) =>
  tracking.logBatch(run, { metrics: [{ key: 'acc', value, timestamp: 5000 + step, step }], params: [], tags: [] });

describe('the metric journal', () => {
  it('round-trips records exactly (NaN, -0, infinities, unicode keys) and stops at a damaged one', () => {
    const records = [
      { seq: 1, runId: 'a'.repeat(32), points: [{ key: 'loss/ü', step: 0, timestamp: 1, value: -0 }] },
      {
        seq: 2 ** 40,
        runId: 'b'.repeat(32),
        points: [
          { key: 'x', step: 2 ** 53 - 1, timestamp: 2, value: Number.NaN },
          { key: 'y', step: -3, timestamp: 3, value: -Infinity },
        ],
      },
    ];
    const bytes = Buffer.concat(records.map(encodeRecord));
    const back = decodeRecords(bytes);
    expect(back).toEqual(records);
    expect(Object.is(back[0]?.points[0]?.value, -0)).toBe(true);
    // Cut short (a crash mid-write), or a flipped byte: the whole records before it are kept.
    expect(decodeRecords(bytes.subarray(0, bytes.length - 5))).toEqual(records.slice(0, 1));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0xff;
    expect(decodeRecords(flipped)).toEqual(records.slice(0, 1));
  });

  it('serves points to readers at once although they reach their chunks later, and empties itself', () => {
    const { tracking } = open();
    const run = tracking.createRun({}).info.id;
    for (let step = 0; step < 5; step++) log(tracking, run, step);
    const journal = ModelhubStore.journalFor(opened[0]?.db as Db) as string;
    expect(statSync(journal).size).toBeGreaterThan(0);
    expect(tracking.run(run).metrics).toEqual([{ key: 'acc', value: 0.4, timestamp: 5004, step: 4 }]);
    expect(statSync(journal).size).toBe(0);
    expect(tracking.metricHistory(run, 'acc', {}).points.map((p) => p.step)).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands the points of a process killed before they left the journal to the next start', async () => {
    open().db.close(); // the schema, as a first start would leave it
    opened.length = 0;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./test-children/log-and-die.ts', import.meta.url)), file],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const run = out.trim();
    const { tracking } = open();
    const points = tracking.metricHistory(run, 'acc', {}).points;
    expect(points).toEqual([]);
    const loss = tracking.metricHistory(run, 'loss', {}).points;
    expect(loss.map((p) => p.step)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(Number.isNaN(loss[7]?.value)).toBe(true);
    expect(loss[299]?.value).toBe(1 / 300);
  }, 60_000);

  it('never applies a record twice when the process died between the commit and emptying the file', () => {
    const first = open();
    const run = first.tracking.createRun({}).info.id;
    for (let step = 0; step < 3; step++) log(first.tracking, run, step);
    const journal = ModelhubStore.journalFor(first.db) as string;
    const saved = `${journal}.saved`;
    copyFileSync(journal, saved);
    close(); // moves the points into the database and empties the journal
    copyFileSync(saved, journal); // as if the process had died right after the commit
    // A torn record after them (a write cut short by the crash) is ignored too.
    appendFileSync(journal, Buffer.from([40, 0, 0, 0, 1, 2, 3]));
    const { tracking } = open();
    expect(tracking.metricHistory(run, 'acc', {}).points.map((p) => p.step)).toEqual([0, 1, 2]);
    expect(readFileSync(journal).length).toBe(0);
    // Logging goes on from there, with sequence numbers past the ones applied.
    log(tracking, run, 3);
    close();
    const again = open();
    expect(again.tracking.metricHistory(run, 'acc', {}).points.map((p) => p.step)).toEqual([0, 1, 2, 3]);
  });
});
