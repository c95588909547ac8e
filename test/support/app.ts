/**
 * A Herald API over a fresh database, driven with `app.inject()` (no socket).
 */

import type { LightMyRequestResponse } from 'fastify';
import { type BuildAppOptions, buildApp } from '../../src/api/app.ts';
import type { ClientLimits } from '../../src/api/client-limits.ts';
import type { App, AppContext } from '../../src/api/context.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/core/clock.ts';
import {
  ADMIN_KEY_PREFIX,
  displayPrefix,
  generateKey,
  hashKey,
  TENANT_KEY_PREFIX,
} from '../../src/security/api-keys.ts';
import { createSecretBox, generateEncryptionKey } from '../../src/security/secret-box.ts';
import { freshDb, type StorageKind, type TestDb } from './storage.ts';

export interface TestApp {
  app: App;
  ctx: AppContext;
  testDb: TestDb;
  adminKey: string;
  /** Sends a request as `key` (default: the admin key); `body` is sent as JSON. */
  request(method: string, url: string, body?: unknown, key?: string | null): Promise<LightMyRequestResponse>;
  /** Inserts an API key for `tenantId` (id `key_<tenantId>`) and returns the key. */
  tenantKey(tenantId: string): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, {}), allowPrivateNetworks: true, logLevel: 'silent', ...overrides };
}

export async function makeTestApp(
  kind: StorageKind,
  options: {
    config?: Partial<Config>;
    clock?: Clock;
    clientLimits?: Partial<ClientLimits>;
    logger?: BuildAppOptions['logger'];
  } = {},
): Promise<TestApp> {
  const testDb = await freshDb(kind);
  const adminKey = generateKey(ADMIN_KEY_PREFIX);
  const ctx: AppContext = {
    db: testDb.db,
    config: testConfig(options.config),
    adminKeyHash: hashKey(adminKey),
    secretBox: createSecretBox(generateEncryptionKey()),
    clock: options.clock ?? { now: () => new Date() },
  };
  const app = await buildApp(ctx, {
    ...(options.clientLimits ? { clientLimits: options.clientLimits } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await app.ready();
  return {
    app,
    ctx,
    testDb,
    adminKey,
    request(method, url, body, key = adminKey) {
      return app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    },
    async tenantKey(tenantId) {
      const key = generateKey(TENANT_KEY_PREFIX);
      await testDb.db.query(
        'INSERT INTO api_keys (id, tenant_id, prefix, key_hash) VALUES ($1, $2, $3, $4)',
        [`key_${tenantId}`, tenantId, displayPrefix(key), hashKey(key)],
      );
      return key;
    },
    async close() {
      await app.close();
      await testDb.close();
    },
  };
}
