// The layering rule of eslint.config.js, run on files that are not in the tree: each is linted as if it stood
// at the path named, so the per-directory blocks apply as they would to a real file there.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: fileURLToPath(new URL('../../..', import.meta.url)) });

/** The messages of `no-restricted-imports` for `source` standing at `path`. */
async function refusals(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path });
  assert.ok(result, `no lint result for ${path}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const imports = (name: string) => `import { thing } from '${name}';\nexport const used = thing;\n`;

test('a package other than cli and testing may not import a service, in its src or its tests', async () => {
  for (const service of ['worker', 'beat', 'alerter', 'health-api']) {
    for (const path of ['packages/store/src/new-file.ts', 'packages/core/test/new-file.test.ts', 'packages/beat-state/src/keys-extra.ts', 'packages/client/src/new-file.ts']) {
      const found = await refusals(path, imports(`@nightshift/${service}`));
      assert.equal(found.length, 1, `${path} importing @nightshift/${service}`);
      assert.match(found[0] ?? '', /A package never imports a service/);
    }
  }
  const reexport = await refusals('packages/store/src/new-file.ts', `export { thing } from '@nightshift/worker/src/start.ts';\n`);
  assert.ok(reexport.some((message) => /A package never imports a service/.test(message)), 're-exports and subpaths count too');
});

test('the composition roots cli and testing may import a service', async () => {
  assert.deepEqual(await refusals('packages/cli/src/commands/new-command.ts', imports('@nightshift/worker')), []);
  assert.deepEqual(await refusals('packages/testing/src/new-file.ts', imports('@nightshift/beat')), []);
});

test('a service may not import another service, but its tests may start one', async () => {
  const [found] = await refusals('services/health-api/src/live/new-file.ts', imports('@nightshift/beat'));
  assert.match(found ?? '', /A service never imports another service/);
  assert.deepEqual(await refusals('services/health-api/test/new-file.test.ts', imports('@nightshift/worker')), []);
});

test('no shipped src imports the internal test helpers; tests, benches and the e2e harness may', async () => {
  for (const path of ['packages/testing/src/new-file.ts', 'packages/cli/src/new-file.ts', 'packages/store/src/new-file.ts', 'services/worker/src/new-file.ts']) {
    const found = await refusals(path, imports('@nightshift/test-helpers'));
    assert.ok(found.some((message) => /@nightshift\/test-helpers is the repo's own test code/.test(message)), path);
  }
  for (const path of ['services/worker/test/new-file.test.ts', 'bench/new.bench.ts', 'test/e2e/src/new-file.ts']) {
    assert.deepEqual(await refusals(path, imports('@nightshift/test-helpers')), [], path);
  }
});

test('the rule every file had before still holds everywhere: another package by its name, not its src/', async () => {
  const [found] = await refusals('services/beat/src/new-file.ts', imports('@nightshift/core/src/errors.ts'));
  assert.match(found ?? '', /not its src/);
});
