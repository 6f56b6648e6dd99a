import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

export interface Tarball {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the .tgz. */
  readonly path: string;
  readonly files: readonly string[];
}

/** The workspaces that are published: every one whose package.json is not private. */
export function publishedWorkspaces(): { name: string; dir: string }[] {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found = spawnSync('npm', ['query', '.workspace', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`npm query: ${found.stderr}`);
  const workspaces = JSON.parse(found.stdout) as { name: string; path: string; private?: boolean }[];
  if (workspaces.length < root.workspaces.length) throw new Error('npm query found fewer workspaces than package.json names');
  return workspaces.filter((w) => w.private !== true).map((w) => ({ name: w.name, dir: w.path }));
}

/** `npm run build` (turbo, in dependency order, cached), then `npm pack` of every published workspace into `destination`. */
export function buildAndPack(destination: string): Tarball[] {
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  // The build just ran; prepack would run it again, package by package.
  const workspaces = publishedWorkspaces().flatMap((w) => ['--workspace', w.name]);
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination, ...workspaces], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  return (JSON.parse(packed.stdout) as { name: string; version: string; filename: string; files: { path: string }[] }[]).map((p) => ({
    name: p.name, version: p.version, path: join(destination, p.filename), files: p.files.map((f) => f.path),
  }));
}

/** What a published package may hold: its manifest, licence and READMEs, compiled JavaScript and its types, and the files its code reads at run time. */
const ALLOWED: readonly RegExp[] = [
  /^package\.json$/, /^LICENSE$/, /^README\.md$/,
  /^dist\/(?:[\w.-]+\/)*[\w.-]+(?<!\.test)\.(?:js|d\.ts)$/,
];
/** Per package: the files its code reads at run time. */
const RUNTIME_FILES: Readonly<Record<string, readonly RegExp[]>> = {
  '@nightshift/cli': [/^bin\/nightshift\.js$/],
  '@nightshift/store': [/^migrations\/\d{3}-[\w-]+\.sql$/],
  '@nightshift/health-api': [/^public\/[\w-]+\.(?:html|js|css)$/, /^dist\/README\.md$/],
};

/** The files of a tarball nothing allows: tests, fixtures, TypeScript sources, configs. */
export function unexpectedFiles(tarball: Tarball): string[] {
  const allowed = [...ALLOWED, ...(RUNTIME_FILES[tarball.name] ?? [])];
  return tarball.files.filter((file) => !allowed.some((pattern) => pattern.test(file)) || /(?:^|\/)(?:test|tests|fixtures|__tests__)\//.test(file));
}

interface Manifest {
  name: string; version: string; private?: boolean; license?: string; engines?: { node?: string };
  exports?: unknown; files?: string[]; publishConfig?: { access?: string };
  dependencies?: Record<string, string>; devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>; optionalDependencies?: Record<string, string>;
}

/**
 * What is wrong with a packed package.json for a user: private, no licence or Node engine, an export the tarball
 * does not hold, or a dependency on a workspace (an @nightshift package not published at this very version, or
 * any `workspace:`, `file:`, `link:` specifier).
 */
export function manifestProblems(manifest: Manifest, tarball: Tarball, published: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  if (manifest.private === true) problems.push('is private');
  if (!manifest.license) problems.push('has no licence');
  if (manifest.name.startsWith('@') && manifest.publishConfig?.access !== 'public') problems.push('is scoped but not published with access public');
  if (!/^>=\s*24(\.|$)/.test(manifest.engines?.node ?? '')) problems.push(`engines.node is ${manifest.engines?.node}, not >=24`);
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const) {
    for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
      if (/^(?:workspace|file|link|portal):/.test(spec)) problems.push(`${field}.${name} is ${spec}`);
      if (name.startsWith('@nightshift/') && published.get(name) !== spec) {
        problems.push(`${field}.${name}@${spec}: ${published.has(name) ? `published at ${published.get(name)}` : 'a workspace that is not published'}`);
      }
    }
  }
  for (const [condition, target] of exportTargets(manifest.exports)) {
    // The repository's own condition points at sources, which are not published (and no user sets it).
    if (condition !== 'nightshift:source' && !tarball.files.includes(target.replace(/^\.\//, ''))) {
      problems.push(`exports ${target} (${condition}), which the tarball does not hold`);
    }
  }
  return problems;
}

/** Every file an `exports` map points at, with the condition (or subpath) that leads to it. */
function exportTargets(exports: unknown, condition = '.'): [string, string][] {
  if (typeof exports === 'string') return [[condition, exports]];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) => exportTargets(value, key));
}
