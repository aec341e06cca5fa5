// `npm start`: build if needed, then open the desktop app (Electron), or, where Electron cannot run (no runtime
// installed, no display), say why in one line and run the same core headless (`aidos serve`) instead.
// Arguments after `npm start --` go to `aidos serve` (e.g. `npm start -- --port 0`).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { ROOT, ensureBuilt } from './start-build.mjs';
import { chooseShell, isExecutableFile, locateElectron } from './start-decision.mjs';

if (!ensureBuilt()) process.exit(1);

const args = process.argv.slice(2);
const decision = chooseShell({
  electronPath: locateElectron().electronPath,
  isExecutable: isExecutableFile,
  platform: process.platform,
  env: process.env,
  uid: process.getuid?.(),
});

/** Runs a child with our stdio, passes our signals on, and leaves with its exit status. */
function run(command, argv, env, onSpawnError) {
  const child = spawn(command, argv, { cwd: ROOT, stdio: 'inherit', env });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (err) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(signal, forward);
    onSpawnError(err);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 1)));
}

function headless(reason) {
  if (reason) console.error(`aidos: ${reason} — starting headless instead (aidos serve)`);
  run(process.execPath, [path.join(ROOT, 'bin', 'aidos.js'), 'serve', ...args], process.env, (err) => {
    console.error(`aidos: could not start the headless server: ${err.message}`);
    process.exit(1);
  });
}

if (decision.shell === 'electron') {
  // ELECTRON_RUN_AS_NODE would make Electron a plain Node and ignore the app.
  const { ELECTRON_RUN_AS_NODE: _ignored, ...env } = process.env;
  run(decision.electronPath, ['.', ...args], env, (err) => headless(`Electron could not be started (${err.message})`));
} else {
  headless(decision.reason);
}
