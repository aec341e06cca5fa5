import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseShell, locateElectron } from './start-decision.mjs';

const BIN = '/app/node_modules/electron/dist/electron';
const yes = () => true;
const no = () => false;

describe('chooseShell', () => {
  it('runs Electron on Linux with an installed runtime and an X11 or Wayland display', () => {
    expect(
      chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'linux', env: { DISPLAY: ':0' }, uid: 1000 }),
    ).toEqual({
      shell: 'electron',
      electronPath: BIN,
    });
    expect(
      chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } })
        .shell,
    ).toBe('electron');
  });

  it('needs no display variable on macOS and Windows', () => {
    expect(chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'darwin', env: {} }).shell).toBe('electron');
    expect(
      chooseShell({ electronPath: 'C:\\e\\electron.exe', isExecutable: yes, platform: 'win32', env: {} }).shell,
    ).toBe('electron');
  });

  it('falls back to headless when the binary was never downloaded, and says how to get it', () => {
    const d = chooseShell({ electronPath: null, isExecutable: yes, platform: 'darwin', env: {} });
    expect(d.shell).toBe('headless');
    expect(d.shell === 'headless' && d.reason).toMatch(
      /Electron runtime not installed.*path\.txt is missing.*install\.js/,
    );
  });

  it('falls back to headless when the binary is missing or not executable', () => {
    const d = chooseShell({ electronPath: BIN, isExecutable: no, platform: 'linux', env: { DISPLAY: ':0' } });
    expect(d).toEqual({ shell: 'headless', reason: expect.stringContaining(`${BIN} is missing or not executable`) });
  });

  it('falls back to headless on Linux without a display', () => {
    const d = chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'linux', env: { DISPLAY: '' }, uid: 1000 });
    expect(d).toEqual({ shell: 'headless', reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' });
    expect(chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'freebsd', env: {} }).shell).toBe('headless');
  });

  it('reports the missing runtime before the missing display', () => {
    const d = chooseShell({ electronPath: null, isExecutable: no, platform: 'linux', env: {} });
    expect(d.shell === 'headless' && d.reason).toMatch(/^Electron runtime not installed/);
  });

  it('does not run Electron as root on Linux rather than turning its sandbox off', () => {
    const d = chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'linux', env: { DISPLAY: ':0' }, uid: 0 });
    expect(d.shell === 'headless' && d.reason).toMatch(/running as root/);
  });

  it('honours AIDOS_HEADLESS', () => {
    const env = { AIDOS_HEADLESS: '1', DISPLAY: ':0' };
    expect(chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'linux', env })).toEqual({
      shell: 'headless',
      reason: 'AIDOS_HEADLESS is set',
    });
    expect(
      chooseShell({ electronPath: BIN, isExecutable: yes, platform: 'darwin', env: { AIDOS_HEADLESS: '0' } }).shell,
    ).toBe('electron');
  });
});

describe('locateElectron', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  function fakePackage(pathTxt: string | null): NodeJS.Require {
    dir = mkdtempSync(path.join(tmpdir(), 'aidos-electron-'));
    const pkg = path.join(dir, 'node_modules', 'electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"electron","main":"index.js"}');
    // index.js would download the binary; locateElectron must never load it.
    writeFileSync(path.join(pkg, 'index.js'), 'throw new Error("loaded")');
    if (pathTxt !== null) writeFileSync(path.join(pkg, 'path.txt'), pathTxt);
    return createRequire(path.join(dir, 'x.js'));
  }

  it('reads dist/<path.txt> without loading the package', () => {
    const req = fakePackage('electron');
    expect(locateElectron({}, req).electronPath).toBe(path.join(dir, 'node_modules', 'electron', 'dist', 'electron'));
  });

  it('gives null when path.txt was never written (no download yet)', () => {
    expect(locateElectron({}, fakePackage(null)).electronPath).toBeNull();
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH', () => {
    const req = fakePackage('electron');
    expect(locateElectron({ ELECTRON_OVERRIDE_DIST_PATH: '/opt/electron' }, req).electronPath).toBe(
      '/opt/electron/electron',
    );
  });

  it('gives null when the electron package is not installed', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'aidos-electron-'));
    expect(locateElectron({}, createRequire(path.join(dir, 'x.js')))).toEqual({ electronPath: null, packageDir: null });
  });
});
