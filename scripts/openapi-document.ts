/**
 * Writes Herald's OpenAPI document (what `GET /openapi.json` serves) to the file named by the first
 * argument, without listening on a port: the app is built with the default configuration, made
 * ready, and asked for its document. The document comes from the routes' schemas alone, so the app
 * gets no database — one that refuses every statement, so a build that ever needed one would fail
 * here loudly (starting PGlite would cost seconds for nothing). scripts/check-openapi.sh lints the
 * document and generates types from it.
 *
 * @example node --import tsx scripts/openapi-document.ts /tmp/openapi.json
 */
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/api/app.ts';
import { loadConfig } from '../src/config/config.ts';
import type { Db } from '../src/db/db.ts';
import { ADMIN_KEY_PREFIX, generateKey, hashKey } from '../src/security/api-keys.ts';
import { createSecretBox, generateEncryptionKey } from '../src/security/secret-box.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: node --import tsx scripts/openapi-document.ts <output.json>');
  process.exit(2);
}
const refuse = async (): Promise<never> => {
  throw new Error('scripts/openapi-document.ts has no database: building the document must not need one');
};
const noDatabase: Db = {
  kind: 'pglite',
  query: refuse,
  exec: refuse,
  transaction: refuse,
  listen: refuse,
  close: async () => {},
};

const app = await buildApp({
  db: noDatabase,
  // Defaults only, not this shell's environment: the document is the same on every machine.
  config: { ...loadConfig({}, {}), logLevel: 'silent' },
  adminKeyHash: hashKey(generateKey(ADMIN_KEY_PREFIX)),
  secretBox: createSecretBox(generateEncryptionKey()),
  clock: { now: () => new Date() },
});
const res = await app.inject({ method: 'GET', url: '/openapi.json' });
if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}: ${res.body}`);
writeFileSync(out, `${JSON.stringify(res.json(), null, 2)}\n`);
await app.close();
