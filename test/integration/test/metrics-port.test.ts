// A second beat (or worker, alerter, health-api) on one host, as "run two or more for failover" invites, finds
// its /metrics port taken. It must say so in one line naming the setting to change, and exit 2 (a bad setting:
// a supervisor does not restart it), not die on an uncaught EADDRINUSE with a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const APP = fileURLToPath(new URL('../../../examples/factory/app.ts', import.meta.url));
let taken: Server;
let port: number;

before(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, resolve));
  port = (taken.address() as { port: number }).port;
});
after(() => {
  taken.close();
});

for (const service of ['beat', 'worker', 'alerter', 'health-api']) {
  test(`${service}: a metrics port in use is one line naming NIGHTSHIFT_METRICS_PORT, and exit 2`, () => {
    const run = spawnSync(process.execPath, [`services/${service}/src/main.ts`, '--app', APP], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
      env: { ...process.env, NIGHTSHIFT_METRICS_PORT: String(port) },
    });
    assert.equal(run.status, 2, `exit ${run.status} (signal ${run.signal}):\n${run.stderr}`);
    assert.equal(run.stderr,
      `${service}: cannot serve /metrics on all interfaces, port ${port}: the port is in use (EADDRINUSE), most likely by another Nightshift process on this host; set NIGHTSHIFT_METRICS_PORT to a free port, or to 0 for any free one\n`);
  });
}
