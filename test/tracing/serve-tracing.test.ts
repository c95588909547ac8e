/**
 * Tracing in a running Herald (src/server/start.ts): configured by the OTEL_* environment, the spans
 * of the publish and its attempts exported when the process stops (a flush on shutdown, not a
 * timer), and — run as the CLI runs it — no OpenTelemetry module loaded at all when tracing is off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { generateEncryptionKey } from '../../src/security/secret-box.ts';
import { startHerald } from '../../src/server/start.ts';
import { activeTracing } from '../../src/tracing/tracing.ts';
import { cleanEnv, HERALD_CLI, spawnGroup, stopSpawnedGroups } from '../support/cli-process.ts';
import { startReceiver, waitFor } from '../support/delivery-fixtures.ts';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, startOtlpReceiver } from '../support/otlp-receiver.ts';
import { forEachStorage, TEST_DATABASE_URL } from '../support/storage.ts';

const MODULE_LOG_HOOK = fileURLToPath(new URL('../support/module-log.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'herald-tracing-'));
after(async () => {
  await stopSpawnedGroups();
  rmSync(root, { recursive: true, force: true });
});

const TRACE = '5bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '10f067aa0ba902b7';

forEachStorage('herald serve, traced', (kind) => {
  test('the spans of a publish and its attempt are exported when Herald stops', async () => {
    const otlp = await startOtlpReceiver();
    const receiver = await startReceiver();
    const adminKey = 'hk_admin_tracing_test_key_0123456789';
    const env: Record<string, string> = {
      PORT: '0',
      LOG_LEVEL: 'silent',
      HERALD_ADMIN_KEY: adminKey,
      HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    let schema: string | undefined;
    if (kind === 'pglite') {
      env['HERALD_DATA_DIR'] = join(root, 'data');
    } else {
      schema = `tracing_${process.pid}`;
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      await c.end();
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      env['DATABASE_URL'] = url.toString();
      env['HERALD_ENCRYPTION_KEY'] = generateEncryptionKey();
    }
    const herald = await startHerald(
      loadConfig({}, env),
      { api: true, worker: true },
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token',
          OTEL_SERVICE_NAME: 'herald-test',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
          // Longer than the test: only the flush on stop can export these spans.
          OTEL_BSP_SCHEDULE_DELAY: '600000',
        },
      },
    );
    try {
      assert.ok(activeTracing(), 'tracing runs');
      const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
      const call = (path: string, body: unknown, extra: Record<string, string> = {}) =>
        fetch(`${herald.url}${path}`, {
          method: 'POST',
          headers: { ...headers, ...extra },
          body: JSON.stringify(body),
        });
      assert.equal((await call('/v1/tenants', { id: 'acme', name: 'Acme' })).status, 201);
      assert.equal((await call('/v1/tenants/acme/endpoints', { url: receiver.url })).status, 201);
      const published = await call(
        '/v1/tenants/acme/events',
        { type: 'invoice.paid', data: { n: 1 } },
        { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
      );
      assert.equal(published.status, 202);
      await waitFor('the delivery', () => receiver.requests.length === 1);
      assert.equal(otlp.spans.length, 0, 'nothing exported before the stop');
    } finally {
      await herald.stop();
      await receiver.close();
      if (schema) {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`DROP SCHEMA ${schema} CASCADE`);
        await c.end();
      }
    }
    assert.equal(activeTracing(), null, 'stopped with Herald');
    const spans = otlp.spans.filter((s) => s.traceId === TRACE);
    const server = spans.find((s) => s.kind === SPAN_KIND_SERVER);
    const attempt = spans.find((s) => s.kind === SPAN_KIND_CLIENT);
    assert.ok(server && attempt, `a publish span and an attempt span: ${JSON.stringify(spans)}`);
    assert.equal(server.parentSpanId, CALLER_SPAN);
    assert.equal(attempt.parentSpanId, server.spanId);
    assert.equal(attempt.attributes['herald.outcome'], 'succeeded');
    assert.equal(server.resource['service.name'], 'herald-test');
    assert.equal(server.resource['deployment.environment'], 'test');
    assert.equal(typeof server.resource['service.version'], 'string');
    assert.equal(otlp.requests[0]?.path, '/v1/traces');
    assert.equal(otlp.requests[0]?.headers['authorization'], 'Bearer collector-token');
    assert.match(String(otlp.requests[0]?.headers['content-type']), /^application\/json/);
    await otlp.close();
  });
});

/** `herald serve` as the CLI runs it, logging every module it loads; answers those URLs. */
async function serveAndStop(name: string, extra: Record<string, string>): Promise<string[]> {
  const log = join(root, `${name}.modules`);
  writeFileSync(log, '');
  const herald = spawnGroup(process.execPath, ['--import', MODULE_LOG_HOOK, ...HERALD_CLI, 'serve'], {
    cwd: root,
    env: cleanEnv({
      MODULE_LOG: log,
      PORT: '0',
      LOG_LEVEL: 'silent',
      HERALD_DATA_DIR: join(root, `${name}-data`),
      ...extra,
    }),
  });
  await herald.printed(/running on http:\/\/127\.0\.0\.1:\d+/, 'its running line');
  herald.signal('SIGTERM');
  const status = await herald.exited;
  assert.deepEqual(status, { code: 0, signal: null }, herald.stderr());
  return readFileSync(log, 'utf8').split('\n');
}

test('herald serve without OTEL_* loads no OpenTelemetry module; with an endpoint it does', async () => {
  // OTEL_ variables of this machine must not decide the test.
  const unset = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('OTEL_'))
      .map((k) => [k, '']),
  );
  const off = await serveAndStop('off', unset);
  assert.ok(
    off.some((url) => url.includes('/src/server/start.ts')),
    'the server ran',
  );
  assert.deepEqual(
    off.filter((url) => url.includes('@opentelemetry')),
    [],
    'no OpenTelemetry module resolved',
  );

  const otlp = await startOtlpReceiver();
  try {
    const on = await serveAndStop('on', { ...unset, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    assert.ok(
      on.some((url) => url.includes('@opentelemetry/sdk-trace-base')),
      'the SDK was loaded',
    );
  } finally {
    await otlp.close();
  }
});

test('a bad OTEL_* value stops the start with one line naming it, exit code 2', async () => {
  const herald = spawnGroup(process.execPath, [...HERALD_CLI, 'serve'], {
    cwd: root,
    env: cleanEnv({
      PORT: '0',
      HERALD_DATA_DIR: join(root, 'bad-data'),
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_TRACES_SAMPLER: 'sometimes',
    }),
  });
  const status = await herald.exited;
  assert.equal(status.code, 2, herald.stderr());
  assert.match(herald.stderr(), /^herald: invalid OTEL_TRACES_SAMPLER: must be one of always_on, /);
  assert.equal(herald.stderr().trim().split('\n').length, 1);
});
