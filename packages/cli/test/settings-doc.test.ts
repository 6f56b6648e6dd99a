// The README's settings table is what the declarations generate, and every variable the sources name is declared.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALERTER_METRICS_PORT } from '@nightshift/alerter';
import { BEAT_METRICS_PORT } from '@nightshift/beat';
import { HEALTH_API_METRICS_PORT } from '@nightshift/health-api';
import { WORKER_METRICS_PORT } from '@nightshift/worker';
import { NIGHTSHIFT_SERVICES } from '../src/nightshift-services.ts';
import { NIGHTSHIFT_SETTINGS } from '../src/settings-catalogue.ts';
import { BEGIN_MARKER, END_MARKER, renderSettingsTable, spliceSettingsTable } from '../src/settings-doc.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

test('the README\'s settings table is what `npm run settings-doc` generates', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.equal(readme, spliceSettingsTable(readme), 'README.md\'s settings table is stale: run npm run settings-doc');
  for (const setting of NIGHTSHIFT_SETTINGS) assert.ok(renderSettingsTable().includes(`| \`${setting.name}\` |`), setting.name);
});

test('splicing replaces only what is between the markers, and refuses a README without them', () => {
  const readme = `# Title\n\n${BEGIN_MARKER}\n| old | table |\n${END_MARKER}\n\nafter\n`;
  assert.equal(spliceSettingsTable(readme, '| new |'), `# Title\n\n${BEGIN_MARKER}\n| new |\n${END_MARKER}\n\nafter\n`);
  assert.throws(() => spliceSettingsTable('no markers here'), /needs the lines/);
});

/** Every `NIGHTSHIFT_*` name the sources of packages/ and services/ mention, with the file that does. */
function namesInSources(): Map<string, string> {
  const names = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'test') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/NIGHTSHIFT_[A-Z0-9_]*[A-Z0-9]/g)) names.set(match[0], path);
    }
  };
  walk(join(REPO_ROOT, 'packages'));
  walk(join(REPO_ROOT, 'services'));
  return names;
}

test('every NIGHTSHIFT_* variable the sources name is declared, so none is reported as a typo by mistake', () => {
  const declared = new Set(NIGHTSHIFT_SETTINGS.map((setting) => setting.name));
  // Names in the code that are not variables: the catalogue itself, the list of services, and the typo the docs show.
  const notVariables = new Set(['NIGHTSHIFT_SETTINGS', 'NIGHTSHIFT_SERVICES', 'NIGHTSHIFT_PREFX']);
  const undeclared = [...namesInSources()].filter(([name]) => !declared.has(name) && !notVariables.has(name));
  assert.deepEqual(undeclared, []);
});

test('the metrics ports up documents are the services\' own', () => {
  assert.deepEqual(Object.fromEntries(NIGHTSHIFT_SERVICES.map((s) => [s.name, s.metricsPort])), {
    worker: WORKER_METRICS_PORT, beat: BEAT_METRICS_PORT, alerter: ALERTER_METRICS_PORT, 'health-api': HEALTH_API_METRICS_PORT,
  });
});
