// A standalone service whose broker refuses connections keeps retrying (that is its job) and says why in one
// readable line per retry, the URL's password masked; not a JSON dump of an error object (`err.type: "Object"`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const APP = fileURLToPath(new URL('../../../examples/factory/app.ts', import.meta.url));

test('a worker whose broker refuses says so in a readable line per retry, and keeps retrying', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, ['services/worker/src/main.ts', '--app', APP], {
    cwd: REPO_ROOT,
    env: { ...process.env, NIGHTSHIFT_AMQP_URL: 'amqp://guest:secret@127.0.0.1:1', NIGHTSHIFT_METRICS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const retries = () => output.split('\n').filter((line) => line.includes('refused'));
  const threeRetries = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (retries().length >= 3) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const exited = once(child, 'exit');
  await Promise.race([threeRetries, exited]);
  child.kill('SIGKILL');
  await exited;

  const lines = retries().slice(0, 3).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 3, output);
  lines.forEach((line, index) => {
    assert.equal(line.level, 'warn');
    assert.match(String(line.msg), new RegExp(`^RabbitMQ at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:1 refused the connection \\(is it running\\? NIGHTSHIFT_AMQP_URL\\); retrying in \\d+\\.\\ds \\(attempt ${index + 1}\\)$`));
    assert.equal(line.err, undefined, 'no error object dumped');
    assert.equal(line.attempt, index + 1);
  });
  assert.doesNotMatch(output, /secret/);
  assert.doesNotMatch(output, /"type":"Object"/);
});
