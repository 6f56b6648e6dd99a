import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

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
  /** `services/<name>`, relative to the repo root. */
  readonly folder: string;
  /** The absolute path of `services/<name>/src/main.ts`. */
  readonly main: string;
  readonly exists: boolean;
}

/** Where each Nightshift service's entry point is in the repo at `repoRoot`, and whether it is there yet. */
export function locateServices(repoRoot: string): LocatedService[] {
  return NIGHTSHIFT_SERVICES.map(({ name, issue }) => {
    const folder = `services/${name}`;
    const main = join(repoRoot, folder, 'src', 'main.ts');
    return { name, issue, folder, main, exists: existsSync(main) };
  });
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
