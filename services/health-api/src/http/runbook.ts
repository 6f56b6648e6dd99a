import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { HTML_PAGE } from './schemas.ts';

// The runbook is the repository README's section: run from the sources, that README; the published package
// carries a copy in dist/ (its build copies it there), beside this compiled module's folder.
const README = import.meta.url.endsWith('.ts')
  ? new URL('../../../../README.md', import.meta.url)
  : new URL('../README.md', import.meta.url);

/**
 * `GET /runbook`: the README's "Runbook" section as a page, one heading per alert with the alert's name as
 * its anchor, so the `runbook_url` of every alert in deploy/prometheus/alerts.yml opens on the entry.
 * Open like the health endpoints: it holds no data, and the person paged at 3 AM may not have logged in.
 */
export function registerRunbook(app: FastifyInstance): void {
  let page: string | undefined;
  app.get('/runbook', { schema: { summary: 'the README\'s runbook: one entry per alert, anchored by its name', tags: ['pages'], security: [], response: { 200: HTML_PAGE } } }, async (_request, reply) => {
    page ??= renderRunbook(readFileSync(README, 'utf8'));
    return reply.type('text/html; charset=utf-8').send(page);
  });
}

/** The section under `## Runbook` as HTML: `####` headings (anchored by their lower-cased text) and paragraphs with inline code. */
export function renderRunbook(readme: string): string {
  const start = readme.search(/^## Runbook\s*$/m);
  if (start < 0) throw new Error('README.md has no "## Runbook" section');
  const rest = readme.slice(start).split('\n').slice(1);
  const end = rest.findIndex((line) => /^## /.test(line));
  const blocks = (end < 0 ? rest : rest.slice(0, end)).join('\n').split(/\n\s*\n/).map((block) => block.trim()).filter(Boolean);
  const body = blocks.map((block) => {
    const heading = /^#{3,6}\s+(.+)$/m.exec(block);
    if (heading && block.startsWith('#')) {
      const title = heading[1]?.trim() ?? '';
      const paragraph = block.slice(heading[0].length).trim();
      return `<h2 id="${escape(title.toLowerCase())}">${escape(title)}</h2>${paragraph ? `<p>${inline(paragraph)}</p>` : ''}`;
    }
    return `<p>${inline(block)}</p>`;
  }).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nightshift runbook</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><header><strong>Nightshift</strong><nav><a href="/">Dashboard</a></nav></header><main class="runbook"><h1>Runbook</h1>
${body}
</main></body></html>`;
}

function inline(text: string): string {
  return escape(text).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\n/g, ' ');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
