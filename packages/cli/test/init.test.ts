import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const FILES = ['package.json', 'app.ts', 'app.test.ts', 'tsconfig.json', 'Dockerfile', 'docker-compose.yml', '.dockerignore', '.gitignore', 'README.md'];
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-init-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('init writes the starter project into a new folder, on this Nightshift\'s version', async (t) => {
  const cwd = tempDir(t);
  const io = testIo({ cwd });
  assert.equal(await main(['init', 'my-app'], io), 0, io.stderr.text);
  for (const file of FILES) assert.ok(existsSync(join(cwd, 'my-app', file)), file);
  const manifest = JSON.parse(readFileSync(join(cwd, 'my-app', 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'my-app');
  assert.deepEqual(manifest.dependencies, {
    '@nightshift/broker': VERSION, '@nightshift/cli': VERSION, '@nightshift/core': VERSION, '@nightshift/schedule': VERSION,
  });
  assert.equal(manifest.devDependencies['@nightshift/testing'], VERSION);
  assert.match(readFileSync(join(cwd, 'my-app', 'Dockerfile'), 'utf8'), new RegExp(`^ARG BASE_IMAGE=nightshift:${VERSION.replaceAll('.', '\\.')}$`, 'm'));
  assert.match(io.stdout.text, /next: cd my-app && npm install && npm test/);
});

test('init writes nothing where any of its files is there already', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'app.ts'), '// mine\n');
  const io = testIo({ cwd });
  assert.equal(await main(['init'], io), 1);
  assert.equal(io.stderr.text, `error: ${cwd} already has app.ts; nothing was written\nname a new folder: nightshift init my-app\n`);
  assert.equal(readFileSync(join(cwd, 'app.ts'), 'utf8'), '// mine\n');
  assert.ok(!existsSync(join(cwd, 'package.json')));
});
