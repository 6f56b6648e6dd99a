import { existsSync, readdirSync, readFileSync } from 'node:fs';

const ROOT = new URL('../../../', import.meta.url);
const WORKSPACE_FOLDERS = ['packages', 'services'];

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Every error class exported by the entry point of a library or service of the repo (each folder of `packages/`
 * and `services/`), with the packages that export it. Found, not listed: what the tests of the table of error
 * outcomes walk, so that a class added anywhere is walked too.
 */
export async function exportedErrorClasses(): Promise<Map<ErrorClass, string[]>> {
  const found = new Map<ErrorClass, string[]>();
  for (const name of workspacePackages()) {
    const exports = await import(name) as Record<string, unknown>;
    for (const [key, value] of Object.entries(exports)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
      const cls = value as ErrorClass;
      found.set(cls, [...found.get(cls) ?? [], `${name}.${key}`]);
    }
  }
  return found;
}

function workspacePackages(): string[] {
  return WORKSPACE_FOLDERS.flatMap((folder) => readdirSync(new URL(`${folder}/`, ROOT))
    .map((entry) => new URL(`${folder}/${entry}/package.json`, ROOT))
    .filter((manifest) => existsSync(manifest))
    .map((manifest) => (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name));
}
