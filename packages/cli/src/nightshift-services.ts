import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The services `nightshift up` runs, in start order, with the issue that brings each and the port of its
 * `/metrics` when nothing says otherwise (each service's own constant; a test keeps them equal).
 */
export const NIGHTSHIFT_SERVICES: readonly { readonly name: string; readonly issue: number; readonly metricsPort: number }[] = Object.freeze([
  { name: 'worker', issue: 3, metricsPort: 9464 },
  { name: 'beat', issue: 4, metricsPort: 9465 },
  { name: 'alerter', issue: 5, metricsPort: 9466 },
  { name: 'health-api', issue: 7, metricsPort: 9467 },
]);

export interface LocatedService {
  readonly name: string;
  readonly issue: number;
  /** `services/<name>`, the service's folder in the Nightshift repo. */
  readonly folder: string;
  /** The absolute path of the service's entry point: `@nightshift/<name>/main`, or `services/<name>/src/main.ts` of a given repo. */
  readonly main: string;
  readonly exists: boolean;
}

/**
 * Where each Nightshift service's entry point is, and whether it is there: the `main` export of the
 * installed `@nightshift/<name>` package, resolved as this process resolves it (the TypeScript sources under
 * the repo's `nightshift:source` condition, the compiled JavaScript when installed from the registry), or,
 * given `repoRoot`, `services/<name>/src/main.ts` of that repo (a test's stand-in services).
 */
export function locateServices(repoRoot?: string): LocatedService[] {
  return NIGHTSHIFT_SERVICES.map(({ name, issue }) => {
    const folder = `services/${name}`;
    const main = repoRoot === undefined ? resolveServiceMain(name) : join(repoRoot, folder, 'src', 'main.ts');
    return { name, issue, folder, main: main ?? join(folder, 'src', 'main.ts'), exists: main !== undefined && existsSync(main) };
  });
}

function resolveServiceMain(name: string): string | undefined {
  try {
    return fileURLToPath(import.meta.resolve(`@nightshift/${name}/main`));
  } catch {
    return undefined;
  }
}

/**
 * The root of the Nightshift repo this CLI belongs to: the closest folder above `from` whose
 * package.json declares workspaces. Falls back to three levels above the cli's `src/`.
 */
export function findRepoRoot(from: string = import.meta.dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces !== undefined) return dir;
      } catch {
        // Not ours to judge; keep looking.
      }
    }
    if (dirname(dir) === dir) return resolve(import.meta.dirname, '..', '..', '..');
  }
}
