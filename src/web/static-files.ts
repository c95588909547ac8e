/**
 * The UI's files, read into memory once at start: Herald's own pages (src/web/static/) and the two
 * browser libraries they import (preact, htm) straight from node_modules. There is no build step —
 * the pages are plain ES modules and an import map resolves `preact` and `htm` (docs/decisions.md).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function load(path: string): StaticFile {
  const body = readFileSync(path);
  const contentType = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  return {
    body,
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/** Every file under `dir` by its URL path (`pages/health.js`); only known file types are served. */
export function loadStaticDir(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !(extname(entry.name) in CONTENT_TYPES)) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(dir, full).split(sep).join('/'), load(full));
  }
  return files;
}

export interface Vendor {
  /** URL path under /ui/vendor/ → file; the version is in the path, so these are cached for good. */
  files: Map<string, StaticFile>;
  /** The import map the pages load with. */
  importMap: { imports: Record<string, string> };
}

const require = createRequire(import.meta.url);

/** A package's folder and version, found from its entry point (htm does not export package.json). */
function packageDir(name: string): { dir: string; version: string } {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const pkgPath = join(dir, 'package.json');
    if (existsSync(pkgPath)) {
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { name?: string; version: string };
      if (pkg.name === name) return { dir, version: pkg.version };
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${name} package`);
    dir = up;
  }
}

/** @example const { files, importMap } = loadVendor('/ui/vendor') */
export function loadVendor(prefix: string): Vendor {
  const preact = packageDir('preact');
  const htm = packageDir('htm');
  const entries: Array<[specifier: string, urlPath: string, file: string]> = [
    ['preact', `preact@${preact.version}/preact.module.js`, join(preact.dir, 'dist/preact.module.js')],
    [
      'preact/hooks',
      `preact@${preact.version}/hooks.module.js`,
      join(preact.dir, 'hooks/dist/hooks.module.js'),
    ],
    ['htm', `htm@${htm.version}/htm.module.js`, join(htm.dir, 'dist/htm.module.js')],
    ['htm/preact', `htm@${htm.version}/preact.module.js`, join(htm.dir, 'preact/index.module.js')],
  ];
  const files = new Map<string, StaticFile>();
  const imports: Record<string, string> = {};
  for (const [specifier, urlPath, file] of entries) {
    const f = load(file);
    // The source map comment would make devtools ask for a file that is not served.
    f.body = Buffer.from(f.body.toString('utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    files.set(urlPath, f);
    imports[specifier] = `${prefix}/${urlPath}`;
  }
  return { files, importMap: { imports } };
}
