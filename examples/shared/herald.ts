/**
 * For the examples: Herald embedded in a temporary data directory (PGlite), API and dispatcher in
 * this process, delivery to loopback allowed (HERALD_ALLOW_PRIVATE_NETWORKS=true), and a tiny
 * `fetch` helper for its HTTP API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { startHerald } from '../../src/server/start.ts';

export interface ExampleHerald {
  url: string;
  /** Calls the API as the operator; throws on a non-2xx answer. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startExampleHerald(): Promise<ExampleHerald> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-example-'));
  const adminKey = `hk_admin_${randomBytes(24).toString('hex')}`;
  const config = loadConfig(
    {},
    {
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_KEY: adminKey,
      HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
      PORT: '0',
      LOG_LEVEL: 'silent',
    },
  );
  const herald = await startHerald(
    config,
    { api: true, worker: true },
    { dispatcher: { pollIntervalMs: 100 }, drainMs: 0 },
  );
  const url = herald.url!;
  return {
    url,
    async api(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return (text ? JSON.parse(text) : {}) as never;
    },
    async stop() {
      await herald.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until true; false after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Runs an example: exit 0 when it resolves true, 1 otherwise (or on an error). */
export function runExample(name: string, main: () => Promise<boolean>): void {
  main().then(
    (ok) => {
      console.log(ok ? `${name}: every delivery verified` : `${name}: NOT verified`);
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      console.error(`${name}: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
