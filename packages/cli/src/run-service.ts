import { spawn } from 'node:child_process';
import type { Io } from './command.ts';
import { findRepoRoot, locateServices } from './nightshift-services.ts';

/**
 * Runs a service's `src/main.ts` in the foreground (its own wiring: telemetry, signals), with this terminal.
 * Ctrl-C and SIGTERM are passed on, so the first stops it gracefully and a second at once.
 */
export function runService(name: string, args: readonly string[], io: Io): Promise<number> {
  const service = locateServices(findRepoRoot()).find((s) => s.name === name);
  if (!service?.exists) {
    io.stderr.write(`error: ${name} is not there yet (issue #${service?.issue ?? '?'}: services/${name})\n`);
    return Promise.resolve(1);
  }
  const child = spawn(process.execPath, [service.main, ...args], { cwd: io.cwd, env: { ...io.env }, stdio: 'inherit' });
  const release = io.onInterrupt((signal) => child.kill(signal));
  return new Promise((resolve) => {
    child.once('error', (error) => {
      release();
      io.stderr.write(`error: could not start ${name}: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      release();
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
