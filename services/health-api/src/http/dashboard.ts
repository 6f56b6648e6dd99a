import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { notFound } from './api-error.ts';
import { apiResponses, HTML_PAGE, Text } from './schemas.ts';

const require = createRequire(import.meta.url);
const PUBLIC = new URL('../../public/', import.meta.url);

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Of the body: a browser revalidating its copy gets a 304 without the body. */
  readonly etag: string;
}

const js = 'text/javascript; charset=utf-8';

/**
 * The dashboard's files, all served from here (no CDN): the page and its script and styles, and the
 * front-end libraries read from the installed packages. Preact's hooks import `preact` by its bare name;
 * that import is pointed at the served copy, so the browser needs no import map.
 */
function loadAssets(): Map<string, Asset> {
  const read = (path: string | URL) => readFileSync(path);
  // Packages export only their entry points; their files are read from the package folder.
  const packageFile = (specifier: string) => {
    const [name = '', ...rest] = specifier.split('/');
    const entry = require.resolve(name);
    const marker = `/node_modules/${name}/`;
    return `${entry.slice(0, entry.lastIndexOf(marker) + marker.length)}${rest.join('/')}`;
  };
  const assets = new Map<string, Asset>([
    ['/assets/preact.mjs', asset(js, read(packageFile('preact/dist/preact.mjs')))],
    ['/assets/hooks.mjs', asset(js, Buffer.from(read(packageFile('preact/hooks/dist/hooks.mjs')).toString('utf8').replace(/from\s*"preact"/g, 'from"/assets/preact.mjs"')))],
    ['/assets/htm.mjs', asset(js, read(packageFile('htm/dist/htm.mjs')))],
    ['/assets/uplot.mjs', asset(js, read(packageFile('uplot/dist/uPlot.esm.js')))],
    ['/assets/uplot.css', asset('text/css; charset=utf-8', read(packageFile('uplot/dist/uPlot.min.css')))],
  ]);
  // Every script and style sheet of public/ (one module per page), so a new page needs no line here.
  for (const file of readdirSync(PUBLIC)) {
    const type = file.endsWith('.js') ? js : file.endsWith('.css') ? 'text/css; charset=utf-8' : undefined;
    if (type !== undefined) assets.set(`/assets/${file}`, asset(type, read(new URL(file, PUBLIC))));
  }
  return assets;
}

const asset = (type: string, body: Buffer): Asset => ({ type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });

/**
 * The assets with every `/assets/…` reference of a script or the page versioned (`?v=`, one version for the
 * whole set: a hash of every file), so that a browser keeps them for good and asks again only after an upgrade.
 */
function versioned(assets: ReadonlyMap<string, Asset>): { version: string; assets: Map<string, Asset> } {
  const hash = createHash('sha256');
  for (const [path, { body }] of [...assets].sort(([a], [b]) => a.localeCompare(b))) hash.update(path).update(body);
  const version = hash.digest('base64url').slice(0, 12);
  const out = new Map<string, Asset>();
  for (const [path, found] of assets) {
    out.set(path, found.type === js ? asset(found.type, Buffer.from(withVersion(found.body.toString('utf8'), version))) : found);
  }
  return { version, assets: out };
}

/** Every quoted `/assets/<file>` in a module's imports or the page, with `?v=<version>`. */
const withVersion = (text: string, version: string): string => text.replace(/(["'])\/assets\/([\w.-]+)\1/g, `$1/assets/$2?v=${version}$1`);

/**
 * The page with a `modulepreload` link for every script: the browser fetches the whole module graph at once
 * instead of discovering it an import at a time (five round trips before a page could ask for its data).
 */
function withPreloads(page: Buffer, assets: ReadonlyMap<string, Asset>, version: string): Buffer {
  const links = [...assets.keys()].filter((path) => /\.m?js$/.test(path)).sort().map((path) => `<link rel="modulepreload" href="${path}?v=${version}">`).join('\n');
  return Buffer.from(withVersion(page.toString('utf8'), version).replace('</head>', `${links}\n</head>`));
}

export function registerDashboard(app: FastifyInstance): void {
  const { version, assets } = versioned(loadAssets());
  const page = withPreloads(readFileSync(new URL('index.html', PUBLIC)), assets, version);
  const sendPage = async (_request: unknown, reply: { type(t: string): unknown; header(k: string, v: string): unknown; send(b: Buffer): unknown }) => {
    reply.type('text/html; charset=utf-8');
    reply.header('cache-control', 'no-store');
    return reply.send(page);
  };
  const pageSchema = { schema: { summary: 'the dashboard', tags: ['pages'], response: apiResponses({ 200: HTML_PAGE }, []) } };
  for (const route of ['/', '/workers', '/workers/:name', '/tasks', '/tasks/:id', '/queues', '/queues/:name', '/schedules', '/schedules/:name', '/dead-letters', '/dead-letters/:id', '/monitor']) app.get(route, pageSchema, sendPage);
  const assetSchema = {
    summary: 'the dashboard\'s scripts and styles (style.css is open, for the runbook)', tags: ['pages'],
    params: { type: 'object', properties: { file: Text('the file') }, required: ['file'] },
    querystring: { type: 'object', properties: { v: Text('the version of the set of files, as the page names it: kept for a year when it is the current one') } },
    response: apiResponses({ 200: { description: 'the file', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } }, 304: { description: 'not modified (`if-none-match` names its `etag`)' } }, [404]),
  };
  app.get<{ Params: { file: string }; Querystring: { v?: string } }>('/assets/:file', { schema: assetSchema }, async (request, reply) => {
    const found = assets.get(`/assets/${request.params.file}`);
    if (found === undefined) throw notFound('asset');
    void reply.header('cache-control', request.query.v === version ? 'private, max-age=31536000, immutable' : 'no-cache').header('etag', found.etag);
    if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
    return reply.type(found.type).send(found.body);
  });
}
