import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isApp, type AnyApp } from './app.ts';
import { ConfigError } from './errors.ts';

/**
 * Imports the app module at `path` (relative to `cwd`) and returns its default export.
 * Errors say what to fix: a missing file, a module that throws, or a default export that is not `defineApp(...)`.
 */
export async function loadApp(path: string, cwd: string = process.cwd()): Promise<AnyApp> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new ConfigError(`--app ${path}: no such file (looked for ${file})`, { field: 'app' });
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`--app ${path}: the module failed to load: ${reason}`, { field: 'app', cause: error });
  }
  if (!isApp(module.default)) {
    throw new ConfigError(`--app ${path}: the module's default export is not an app; end it with \`export default defineApp({ name, tasks })\``, { field: 'app' });
  }
  return module.default;
}
