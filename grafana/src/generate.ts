// `npm run dashboards`: writes every dashboard's JSON under grafana/dashboards/ (committed; a test fails when stale).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard } from './index.ts';

const out = (file: string) => fileURLToPath(new URL(`../dashboards/${file}`, import.meta.url));
for (const [file, dashboard] of buildDashboards()) {
  writeFileSync(out(file), renderDashboard(dashboard));
  process.stdout.write(`wrote grafana/dashboards/${file}\n`);
}
