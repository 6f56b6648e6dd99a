// `npm run settings-doc`: rewrites the settings table of the repo's README.md from the declarations.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './nightshift-services.ts';
import { spliceSettingsTable } from './settings-doc.ts';

const readme = join(findRepoRoot(), 'README.md');
writeFileSync(readme, spliceSettingsTable(readFileSync(readme, 'utf8')));
process.stdout.write(`wrote the settings table of ${readme}\n`);
