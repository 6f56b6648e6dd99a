import { spawn } from 'node:child_process';
import { CommandFailure, type Io } from './command.ts';
import { locateServices } from './nightshift-services.ts';
import { serviceStopGraceMs, stopWithParentFlags } from './service-stop.ts';
import { unknownSettingWarnings } from './unknown-settings.ts';
import { sourceConditionFlags } from './source-condition.ts';

/** What a test may replace when a command runs a service. */
export interface RunServiceSettings {
  /** A repo whose `services/<name>/src/main.ts` are run instead. Default: the `main` export of each installed `@nightshift/<name>`. */
  readonly repoRoot?: string;
  /** The Node that runs it. Default: `process.execPath`. */
  readonly nodePath?: string;
  /** A signal this soon after the first counts as the same Ctrl-C (the terminal, npm and the launcher may each pass it on). Default: 300 ms. */
  readonly duplicateSignalWindowMs?: number;
  /**
   * If this process dies without stopping the service, how long the service may take to stop on its own
   * before it kills itself. Default: the worker's grace plus 5 s (`serviceStopGraceMs`).
   */
  readonly stopGraceMs?: number;
}

/**
 * Runs a service's `src/main.ts` (its one wiring point: telemetry, signals) in the foreground, its output
 * through `io`. The child has its own process group, so a terminal's Ctrl-C reaches it once, through us:
 * the first Ctrl-C, SIGTERM or SIGHUP (the terminal closed) becomes SIGTERM (the service stops gracefully),
 * a later one SIGKILL. Should this process die without passing a signal on, the service stops by itself
 * (see stop-with-parent.ts). Resolves to the service's exit code.
 * @throws CommandFailure when the service is not in the repo or could not be started.
 */
export function runService(name: string, args: readonly string[], io: Io, settings: RunServiceSettings = {}): Promise<number> {
  const service = locateServices(settings.repoRoot).find((s) => s.name === name);
  if (!service?.exists) {
    return Promise.reject(new CommandFailure(`${name} is not there yet (issue #${service?.issue ?? '?'}: services/${name})`, { code: 'E_SERVICE_MISSING' }));
  }
  const stopGraceMs = settings.stopGraceMs ?? serviceStopGraceMs(io.env);
  const child = spawn(settings.nodePath ?? process.execPath, [...sourceConditionFlags(), ...stopWithParentFlags(stopGraceMs), service.main, ...args], {
    cwd: io.cwd,
    env: { ...io.env },
    // stdin: a pipe never written to, which ends when this process does.
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin.on('error', () => {});
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => io.stdout.write(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => io.stderr.write(chunk));
  const window = settings.duplicateSignalWindowMs ?? 300;
  let firstSignalAt: number | undefined;
  const stopListening = io.onInterrupt(() => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      child.kill('SIGTERM');
    } else if (now - firstSignalAt >= window) {
      child.kill('SIGKILL');
    }
  });
  // After the start and the signal handling, which must not wait for it.
  void unknownSettingWarnings(io.env).then((warnings) => {
    for (const { message } of warnings) io.stderr.write(`warning: ${message}\n`);
  }, () => {});
  return new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new CommandFailure(`could not start ${name}: ${error.message}`, { code: 'E_SERVICE_START', cause: error })));
    child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 1)));
  }).finally(stopListening);
}
