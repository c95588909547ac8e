/**
 * Serves the operator dashboard (/ui) and the tenant portal (/portal). Both are static pages that
 * talk to the public HTTP API with a key the browser holds (the admin key, or a portal session
 * token), so the routes themselves are public. Documents get a strict Content-Security-Policy:
 * scripts only from Herald itself plus the one inline import map, pinned by its hash. The portal is
 * made to be embedded in the operator's product: the origins in HERALD_PORTAL_FRAME_ANCESTORS may
 * frame it (nobody may frame the dashboard), it shows https:// logos, and it carries the configured
 * branding in a meta element (src/config/portal-branding.ts) — data, not script, so the CSP holds.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadStaticDir, loadVendor, type StaticFile } from './static-files.ts';

const STATIC_PREFIX = '/ui/static';
const VENDOR_PREFIX = '/ui/vendor';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function shell(title: string, entry: string, importMap: string, meta = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${meta}<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STATIC_PREFIX}/app.css">
<script type="importmap">${importMap}</script>
<script type="module" src="${STATIC_PREFIX}/${entry}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading…</p></div>
<noscript><p class="boot">${escapeHtml(title)}: this page needs JavaScript.</p></noscript>
</body>
</html>
`;
}

function csp(
  importMapHash: string,
  opts: { frameAncestors?: readonly string[]; images?: string } = {},
): string {
  const ancestors = opts.frameAncestors?.length ? opts.frameAncestors.join(' ') : "'none'";
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    `img-src 'self' data:${opts.images ? ` ${opts.images}` : ''}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
}

/** The portal's configured branding, for the page to read (portal.js; a session's own wins). */
function brandingMeta(branding: PortalPage['branding']): string {
  return `<meta name="herald-portal-branding" content="${escapeHtml(JSON.stringify(branding))}">\n`;
}

function sendFile(req: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string) {
  void reply.header('cache-control', cacheControl).header('etag', file.etag);
  void reply.header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

/** How the portal is embedded and branded: the configuration's values, already checked (src/config). */
export interface PortalPage {
  frameAncestors: readonly string[];
  branding: { name: string; logoUrl?: string; accentColor?: string };
}

/** Registers /ui, /portal and their files. Called once from buildApp. */
export function webRoutes(app: FastifyInstance, portal: PortalPage): void {
  const files = loadStaticDir(join(import.meta.dirname, 'static'));
  const vendor = loadVendor(VENDOR_PREFIX);
  // Inline JSON: `<` is escaped so the map can never close its script element.
  const importMap = JSON.stringify(vendor.importMap).replace(/</g, '\\u003c');
  const hash = createHash('sha256').update(importMap).digest('base64');
  const config = { access: 'public' as const };
  const schema = { hide: true };

  const pages: Array<[path: string, html: string, policy: string]> = [
    ['/ui', shell('Herald dashboard', 'dashboard.js', importMap), csp(hash)],
    [
      '/portal',
      shell(portal.branding.name, 'portal.js', importMap, brandingMeta(portal.branding)),
      csp(hash, { frameAncestors: portal.frameAncestors, images: 'https:' }),
    ],
  ];
  for (const [path, html, policy] of pages) {
    app.get(path, { config, schema }, async (_req, reply) =>
      reply
        .header('content-security-policy', policy)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cross-origin-opener-policy', 'same-origin')
        .type('text/html; charset=utf-8')
        .send(html),
    );
  }

  // The address a new user opens first: the dashboard.
  app.get('/', { config, schema }, async (_req, reply) => reply.redirect('/ui', 302));

  // Herald's own files change with Herald, so they are revalidated (ETag); the libraries carry
  // their version in the URL and are cached for a year.
  app.get(`${STATIC_PREFIX}/*`, { config, schema }, async (req, reply) => {
    const file = files.get((req.params as { '*': string })['*']);
    if (!file) return reply.callNotFound();
    return sendFile(req, reply, file, 'no-cache');
  });
  app.get(`${VENDOR_PREFIX}/*`, { config, schema }, async (req, reply) => {
    const file = vendor.files.get((req.params as { '*': string })['*']);
    if (!file) return reply.callNotFound();
    return sendFile(req, reply, file, 'public, max-age=31536000, immutable');
  });
}
