// The README's front door stays true: its app and its "Testing your own tasks" example, copied out of
// README.md as a reader would, run as written against the real servers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';

const README = new URL('../../../README.md', import.meta.url);
// Inside the repository, so that `@nightshift/*` resolve as they do for a workspace of the user's.
const SCRATCH = new URL('../.readme-check/', import.meta.url);

after(() => rmSync(SCRATCH, { recursive: true, force: true }));

test('the README\'s app.ts and report.test.ts run as written', { timeout: 120_000 }, () => {
  const blocks = [...readFileSync(README, 'utf8').matchAll(/```ts\n(.*?)```/gs)].map((m) => m[1] ?? '');
  const app = blocks.find((b) => b.startsWith('// app.ts'));
  const suite = blocks.find((b) => b.startsWith('// report.test.ts'));
  assert.ok(app && suite, 'README.md has the // app.ts and // report.test.ts examples');
  mkdirSync(SCRATCH, { recursive: true });
  writeFileSync(new URL('app.ts', SCRATCH), app);
  writeFileSync(new URL('report.test.ts', SCRATCH), suite);
  // Without NODE_TEST_CONTEXT, which would make the inner run report to this runner instead of its own output.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', 'report.test.ts'], { cwd: SCRATCH, env, encoding: 'utf8', timeout: 110_000 });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.match(run.stdout, /pass 3/);
});
