#!/usr/bin/env node
// The `herald` command. An installed package runs the compiled CLI (dist/, built on `npm pack`).
// A source checkout runs dist/ only while it is newer than every file of src/ (`npm run build`
// stamps it), and otherwise the TypeScript itself through tsx, so an edit never hides behind an
// old build: a checkout needs no build step, and a stale one is never run.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/main.js', root);
const stamp = new URL('dist/.built', root);
const sources = new URL('src/', root);

/**
 * True when nothing under src/ changed after the build stamp: no file written, and no folder with a
 * file added, removed or renamed in it (git checkouts touch what they change).
 */
function buildIsCurrent() {
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  if (statSync(sources).mtimeMs > builtAt) return false;
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > builtAt) return false;
  }
  return true;
}

if (existsSync(compiled) && (!existsSync(sources) || buildIsCurrent())) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
}
