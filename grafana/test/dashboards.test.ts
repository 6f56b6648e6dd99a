// The committed dashboards are what the TypeScript generates, and they agree with the provisioning.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildDashboards, JAEGER, PROMETHEUS, renderDashboard } from '../src/index.ts';
import { panelQueries } from './queries.ts';

const path = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

test('the committed JSON is what `npm run dashboards` generates', () => {
  const built = buildDashboards();
  assert.deepEqual(readdirSync(path('dashboards')).filter((f) => f.endsWith('.json')).sort(), [...built.keys()].sort(), 'a dashboard file is missing or left over');
  for (const [file, dashboard] of built) {
    assert.equal(readFileSync(path(`dashboards/${file}`), 'utf8'), renderDashboard(dashboard), `grafana/dashboards/${file} is stale: run npm run dashboards`);
  }
});

test('every dashboard has a unique uid, and every panel queries the provisioned Prometheus', () => {
  const uids = new Set<string>();
  for (const [file, dashboard] of buildDashboards()) {
    assert.ok(dashboard.uid !== undefined && !uids.has(dashboard.uid), `${file}: uid missing or repeated`);
    uids.add(dashboard.uid);
    const queries = panelQueries(dashboard);
    assert.ok(queries.length > 0, `${file}: no queries`);
    for (const query of queries) assert.equal(query.datasource, PROMETHEUS.uid, `${file} / ${query.panel}`);
  }
});

test('the data sources have the uids the dashboards use, and the provider reads where compose mounts the JSON', () => {
  const datasources = parse(readFileSync(path('provisioning/datasources/nightshift.yml'), 'utf8')) as { datasources: { uid: string; type: string; url: string }[] };
  assert.deepEqual(datasources.datasources.map((d) => [d.type, d.uid, d.url]), [
    [PROMETHEUS.type, PROMETHEUS.uid, 'http://prometheus:9090'], [JAEGER.type, JAEGER.uid, 'http://jaeger:16686'],
  ]);
  const providers = parse(readFileSync(path('provisioning/dashboards/nightshift.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
  const compose = readFileSync(path('../docker-compose.yml'), 'utf8');
  for (const { options } of providers.providers) assert.ok(compose.includes(`./grafana/dashboards:${options.path}:ro`), `compose does not mount the dashboards at ${options.path}`);
  assert.ok(compose.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
});
