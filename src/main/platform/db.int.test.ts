import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations, schemaSnapshot, startCheckpointer, type Db, type MigrationSet } from './db';
import { tempDir, waitFor } from './testing';

let tmp: ReturnType<typeof tempDir>;
let db: Db;

beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(path.join(tmp.dir, 'test.db'));
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const notes: MigrationSet = {
  owner: 'notes',
  tablePrefix: 'notes',
  migrations: [
    { version: 1, name: 'notes', sql: 'CREATE TABLE notes_items (id TEXT PRIMARY KEY, body TEXT NOT NULL);' },
    { version: 2, name: 'index', sql: 'CREATE INDEX notes_items_body ON notes_items(body);' },
  ],
};

describe('database', () => {
  it('opens in WAL mode with a busy timeout and foreign keys on', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('applies each migration once, in order, and records it', () => {
    expect(runMigrations(db, [notes]).applied).toEqual(['notes#1 notes', 'notes#2 index']);
    expect(runMigrations(db, [notes]).applied).toEqual([]);
    db.prepare("INSERT INTO notes_items VALUES ('a', 'hello')").run();
    const recorded = db.prepare('SELECT owner, version FROM _migrations ORDER BY version').all();
    expect(recorded).toEqual([
      { owner: 'notes', version: 1 },
      { owner: 'notes', version: 2 },
    ]);
  });

  it('refuses to start when an applied migration was edited afterwards', () => {
    runMigrations(db, [notes]);
    const edited: MigrationSet = {
      ...notes,
      migrations: [{ version: 1, name: 'notes', sql: 'CREATE TABLE notes_items (id TEXT PRIMARY KEY);' }],
    };
    expect(() => runMigrations(db, [edited])).toThrow(/changed after it was applied/);
  });

  it('rejects a migration that creates a table outside its prefix and leaves nothing behind', () => {
    const rogue: MigrationSet = {
      owner: 'rogue',
      tablePrefix: 'rogue',
      migrations: [
        { version: 1, name: 'steals', sql: 'CREATE TABLE rogue_ok (id INT); CREATE TABLE notes_stolen (id INT);' },
      ],
    };
    expect(() => runMigrations(db, [rogue])).toThrow(/creates 'notes_stolen' outside its prefix/);
    expect(schemaSnapshot(db)).not.toMatch(/rogue_ok|notes_stolen/);
    expect(db.prepare("SELECT COUNT(*) AS n FROM _migrations WHERE owner = 'rogue'").get()).toEqual({ n: 0 });
  });

  it('rolls back a failing migration completely', () => {
    const broken: MigrationSet = {
      owner: 'broken',
      tablePrefix: 'broken',
      migrations: [
        { version: 1, name: 'half', sql: 'CREATE TABLE broken_a (id INT); CREATE TABLE broken_a (id INT);' },
      ],
    };
    expect(() => runMigrations(db, [broken])).toThrow(/already exists/);
    expect(schemaSnapshot(db)).not.toContain('broken_a');
  });

  it('rejects gaps in migration versions', () => {
    const gap: MigrationSet = { owner: 'gap', tablePrefix: 'gap', migrations: [{ version: 2, name: 'x', sql: '' }] };
    expect(() => runMigrations(db, [gap])).toThrow(/must run 1, 2, 3/);
  });
});

describe('the checkpointer thread', () => {
  it('copies committed pages into the database file while commits only append to the WAL', async () => {
    const file = path.join(tmp.dir, 'test.db');
    db.exec('CREATE TABLE notes_pages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const checkpointer = startCheckpointer(db, { intervalMs: 20 });
    try {
      // The writer's own checkpoint now waits for 10,000 pages; these ~2,000 pages leave it to the thread.
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
      const insert = db.prepare('INSERT INTO notes_pages (body) VALUES (?)');
      for (let i = 0; i < 2000; i++) insert.run(Buffer.alloc(3000, i % 256));
      await waitFor(() => statSync(file).size > 6_000_000, 10_000);
      expect((db.prepare('SELECT COUNT(*) AS n FROM notes_pages').get() as { n: number }).n).toBe(2000);
    } finally {
      await checkpointer.stop();
    }
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});
