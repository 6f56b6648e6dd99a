// Preloaded (`node --import`) into every service that `nightshift up` or `nightshift worker|beat|health-api`
// starts, before the service's own main.ts. A service leads its own process group and session, so neither
// Ctrl-C nor a closing terminal reaches it except through its parent; if the parent dies without stopping it
// (SIGKILL, a crash), it would run on under PID 1, holding its ports. So its stdin is a pipe that the parent
// holds open and never writes to: the pipe ends when the parent ends, however it ends, and then the service is
// stopped as the parent would have stopped it: SIGTERM (its own graceful stop), then SIGKILL to its process
// group if it is still running after the grace period given in this module's URL (`?grace=<ms>`).
import { fstatSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

// Sandbox threads get the flags too; only the process watches. And only a pipe: with /dev/null as stdin
// (never from the CLI, but a copied command line) the service would stop at once; a terminal is not a parent.
if (isMainThread && isPipe(0)) {
  const graceMs = Number(new URL(import.meta.url).searchParams.get('grace') ?? 0);
  process.stdin.once('close', () => {
    // Nobody reads its output any more: writing it must not crash the stop.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    if (graceMs > 0) {
      setTimeout(() => {
        try {
          process.kill(-process.pid, 'SIGKILL');
        } catch {
          process.kill(process.pid, 'SIGKILL');
        }
      }, graceMs).unref();
    }
    process.kill(process.pid, 'SIGTERM');
  });
  process.stdin.resume();
  // Watching must not keep a service alive that has finished.
  process.stdin.unref();
}

function isPipe(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}
