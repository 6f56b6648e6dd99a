import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { dirname } from 'node:path';

/**
 * The environment of a user's shell: this Node 24 first on PATH, and nothing of the repository's own set-up
 * (no `nightshift:source` condition in NODE_OPTIONS, no npm script variables, no parent test runner).
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(?:NODE_OPTIONS|NODE_TEST_CONTEXT|INIT_CWD|npm_.*)$/i.test(name)) env[name] = value;
  }
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, NO_COLOR: '1', ...extra };
}

/** Runs a command in the user's project, as the user would type it; fails with its output unless it exits 0 (or `expectFailure`). */
export function run(cwd: string, command: string, args: readonly string[], options: { env?: Record<string, string>; expectFailure?: boolean } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: userEnv(options.env), encoding: 'utf8', timeout: 180_000 });
  const failed = result.status !== 0;
  if (failed !== (options.expectFailure ?? false)) {
    throw new Error(`${command} ${args.join(' ')} in ${cwd} exited ${result.status}${result.signal ? ` (${result.signal})` : ''}:\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/** A long-running command of the user's (`npx nightshift worker …`), in a process group of its own. */
export function start(cwd: string, command: string, args: readonly string[], env: Record<string, string>) {
  const child = spawn(command, args, { cwd, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const waiter of waiters.filter((w) => w.pattern.test(output))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close': every process holding the output (npx, the CLI, the service it runs) has ended.
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    get output() {
      return output;
    },
    /** Resolves once the output matches; rejects if the command ends first. */
    waitFor(pattern: RegExp): Promise<void> {
      if (pattern.test(output)) return Promise.resolve();
      return Promise.race([
        new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
        closed.then(([code]) => { throw new Error(`${command} ${args.join(' ')} exited ${code} before printing ${pattern}:\n${output}`); }),
      ]);
    },
    /**
     * SIGTERM to the command's process group, as a supervisor or `kill` of the group reaches it (npx itself does not
     * pass a signal on); resolves with how npx ended once everything holding the output has ended. Should anything
     * still run after `graceMs`, the group is killed (and `killed` says so).
     */
    async stop(graceMs = 30_000): Promise<{ signal: NodeJS.Signals | null; killed: boolean }> {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, graceMs);
      const [, signal] = await closed;
      clearTimeout(timer);
      return { signal, killed };
    },
  };
}
