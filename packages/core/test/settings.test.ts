import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeUnknownSettings, NIGHTSHIFT_SETTINGS, unknownSettings } from '@nightshift/core';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** Every `NIGHTSHIFT_*` name the sources of packages/ and services/ mention. */
function namesInSources(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'test') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('core/src/settings.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/NIGHTSHIFT_[A-Z0-9_]*[A-Z0-9]/g)) names.add(match[0]);
    }
  };
  walk(join(REPO_ROOT, 'packages'));
  walk(join(REPO_ROOT, 'services'));
  return names;
}

test('the list of settings holds every NIGHTSHIFT_* variable the sources read, so none is reported by mistake', () => {
  const missing = [...namesInSources()].filter((name) => !NIGHTSHIFT_SETTINGS.includes(name) && name !== 'NIGHTSHIFT_SETTINGS');
  assert.deepEqual(missing, []);
});

test('a misspelled setting is reported with the one it most likely meant; known ones and other variables are not', () => {
  const env = { NIGHTSHIFT_PREFX: 'dev', NIGHTSHIFT_PREFIX: 'dev', NIGHTSHIFT_WORKER_CONCURENCY: '4', NIGHTSHIFT_SOMETHING_ELSE_ENTIRELY: '1', PATH: '/bin' };
  assert.deepEqual(unknownSettings(env), [
    { name: 'NIGHTSHIFT_PREFX', didYouMean: 'NIGHTSHIFT_PREFIX' },
    { name: 'NIGHTSHIFT_SOMETHING_ELSE_ENTIRELY', didYouMean: undefined },
    { name: 'NIGHTSHIFT_WORKER_CONCURENCY', didYouMean: 'NIGHTSHIFT_WORKER_CONCURRENCY' },
  ]);
  assert.equal(describeUnknownSettings({ NIGHTSHIFT_PREFX: 'dev' })[0], 'NIGHTSHIFT_PREFX is not a Nightshift setting and is ignored (did you mean NIGHTSHIFT_PREFIX?)');
});
