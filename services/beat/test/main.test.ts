// services/beat/src/main.ts as a process: what stops start-up, and what it says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { spawnBeat, testConfig } from './support.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

test('an invalid schedule entry stops beat at start-up (exit 2), naming the entry', async () => {
  const beat = spawnBeat(fixture('bad-entry-app.ts'), await testConfig('beat-main'));
  assert.equal(await beat.exited, 2);
  const fatal = beat.lines.find((l) => l.level === 'fatal');
  assert.match(String(fatal?.msg), /^beat cannot start: schedule\[1\] "nightly" "0 25 \* \* \*": hour "25" has 25, outside 0-23$/);
});

test('an unknown time zone stops beat at start-up (exit 2), naming the zone', async () => {
  const beat = spawnBeat(fixture('bad-zone-app.ts'), await testConfig('beat-main'));
  assert.equal(await beat.exited, 2);
  const fatal = beat.lines.find((l) => l.level === 'fatal');
  assert.match(String(fatal?.msg), /unknown time zone "Mars\/Olympus_Mons"/);
});

test('without --app, main says how to run it', async () => {
  const result = spawnSync(process.execPath, [new URL('../src/main.ts', import.meta.url).pathname], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /usage: node services\/beat\/src\/main.ts --app <path>/);
});
