// `npm run build` in a published package (and so `npm pack`, through prepack): compiles its src/ to a fresh
// dist/ with the repo's TypeScript (tsconfig.build.json), and puts the repository's LICENSE beside its
// package.json, where npm packs it. `--copy <from>:<to>` also copies a file of the repository (path from the
// repository root) into the package (path from the package folder), e.g. what dist/ reads at run time.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO_ROOT = join(import.meta.dirname, '..');
const packageDir = process.cwd();
const { values } = parseArgs({ options: { copy: { type: 'string', multiple: true, default: [] } } });

rmSync(join(packageDir, 'dist'), { recursive: true, force: true });
const tsc = createRequire(join(REPO_ROOT, 'package.json')).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

for (const pair of ['LICENSE:LICENSE', ...values.copy]) {
  const [from, to] = pair.split(':');
  if (!from || !to) throw new Error(`--copy ${pair}: expected <from>:<to>`);
  mkdirSync(dirname(join(packageDir, to)), { recursive: true });
  copyFileSync(join(REPO_ROOT, from), join(packageDir, to));
}
