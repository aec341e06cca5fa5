import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from './ipc';

// The preload script cannot import main-process code, so it spells the channel names itself.
const preload = readFileSync(new URL('../../preload/index.ts', import.meta.url), 'utf8');

describe('the IPC channels', () => {
  it('are the ones the preload script uses, and it uses no others', () => {
    const used = new Set(preload.match(/'aidos:[a-z-]+'/g)?.map((s) => s.slice(1, -1)));
    expect([...used].sort()).toEqual(Object.values(CHANNELS).sort());
  });

  it('exposes one object and no generic passthrough', () => {
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).toMatch(/satisfies DesktopBridge/);
    // Every ipcRenderer call names one of the fixed channel constants, never a channel handed in by the page.
    const constants = new Set([...preload.matchAll(/const (\w+) = 'aidos:[a-z-]+'/g)].map((m) => m[1]));
    const calls = [...preload.matchAll(/ipcRenderer\.\w+\(([^,)]*)/g)].map((m) => m[1]?.trim());
    expect(calls.length).toBeGreaterThan(0);
    for (const arg of calls) expect(constants).toContain(arg);
  });
});
