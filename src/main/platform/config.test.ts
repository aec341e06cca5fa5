import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoopback, loadConfig } from './config';
import { tempDir } from './testing';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

describe('config', () => {
  it('defaults to 127.0.0.1:8000 and AIDOS_HOME for the data dir', () => {
    const c = loadConfig({}, { AIDOS_HOME: tmp.dir });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8000, dataDir: tmp.dir, allowRemote: false });
  });

  it('takes flags over environment over the config file', () => {
    writeFileSync(
      path.join(tmp.dir, 'config.json'),
      JSON.stringify({ port: 9000, logLevel: 'debug', host: '127.0.0.2' }),
    );
    const c = loadConfig({ port: 9200 }, { AIDOS_HOME: tmp.dir, AIDOS_PORT: '9100', AIDOS_LOG_LEVEL: 'warn' });
    expect(c).toMatchObject({ port: 9200, logLevel: 'warn', host: '127.0.0.2' });
  });

  it('names the setting that is wrong', () => {
    expect(() => loadConfig({}, { AIDOS_HOME: tmp.dir, AIDOS_PORT: '99999' })).toThrow(/^configuration port:/);
    expect(() => loadConfig({}, { AIDOS_HOME: tmp.dir, AIDOS_SHUTDOWN_GRACE_SECONDS: 'soon' })).toThrow(
      /^configuration shutdownGraceSeconds:/,
    );
    expect(loadConfig({}, { AIDOS_HOME: tmp.dir, AIDOS_SHUTDOWN_GRACE_SECONDS: '2.5' }).shutdownGraceSeconds).toBe(2.5);
    writeFileSync(path.join(tmp.dir, 'config.json'), '{ "port": ');
    expect(() => loadConfig({}, { AIDOS_HOME: tmp.dir })).toThrow(/config.json is not valid JSON/);
  });

  it('takes the per-file import limit from AIDOS_MAX_FILE_BYTES, keeping the other dataforge settings of the file', () => {
    expect(loadConfig({}, { AIDOS_HOME: tmp.dir }).dataforge.maxFileBytes).toBe(64 * 1024 ** 3);
    writeFileSync(path.join(tmp.dir, 'config.json'), JSON.stringify({ dataforge: { maxArchiveEntries: 10 } }));
    const c = loadConfig({}, { AIDOS_HOME: tmp.dir, AIDOS_MAX_FILE_BYTES: '1000' });
    expect(c.dataforge).toMatchObject({ maxFileBytes: 1000, maxArchiveEntries: 10 });
    expect(() => loadConfig({}, { AIDOS_HOME: tmp.dir, AIDOS_MAX_FILE_BYTES: 'lots' })).toThrow(
      /^configuration dataforge.maxFileBytes:/,
    );
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '192.168.1.2', '::'].some(isLoopback)).toBe(false);
  });
});
