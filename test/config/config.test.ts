import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/option-values.ts';

test('defaults match the README and docs/design.md', () => {
  const c = loadConfig({}, {});
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.dataDir, './herald-data');
  assert.equal(c.allowPrivateNetworks, false);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.disableAfterSeconds, 5 * 86400);
  assert.equal(c.retentionDays, 30);
});

test('flags win over the environment', () => {
  const c = loadConfig({ port: '9000' }, { PORT: '7000', HERALD_DISABLE_AFTER: '12h' });
  assert.equal(c.port, 9000);
  assert.equal(c.disableAfterSeconds, 12 * 3600);
});

test('bad values name the option', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ HERALD_ALLOW_PRIVATE_NETWORKS: 'maybe' }, /HERALD_ALLOW_PRIVATE_NETWORKS/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ HERALD_ENCRYPTION_KEY: 'short' }, /HERALD_ENCRYPTION_KEY/],
    [{ HERALD_ALLOWED_NETWORKS: '10.0.0.0/33' }, /HERALD_ALLOWED_NETWORKS/],
    [{ HERALD_DISABLE_AFTER: '5 weeks' }, /HERALD_DISABLE_AFTER/],
    [{ DATABASE_URL: 'postgres://localhost/x' }, /HERALD_ADMIN_KEY/],
  ];
  for (const [env, re] of cases) {
    assert.throws(
      () => loadConfig({}, env),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
    );
  }
});

test('the CLI prints one line and exits 2 on a bad value', () => {
  const res = spawnSync(process.execPath, ['bin/herald.js', 'serve'], {
    env: { ...process.env, PORT: 'not-a-port' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(res.status, 2, res.stderr);
  assert.equal(res.stderr.trim().split('\n').length, 1);
  assert.match(res.stderr, /PORT/);
});

test('rate limit, header limit and previous-key options', () => {
  const d = loadConfig({}, {});
  assert.deepEqual(
    [d.apiRateLimit, d.apiRateLimitBurst, d.adminRateLimit, d.maxHeaderCount, d.maxHeaderBytes],
    [100, 0, 0, 100, 16384],
  );
  assert.deepEqual(d.encryptionKeyPrevious, []);
  const k1 = Buffer.alloc(32, 1).toString('base64');
  const k2 = Buffer.alloc(32, 2).toString('base64');
  const c = loadConfig(
    { apiRateLimit: '0' },
    {
      HERALD_API_RATE_LIMIT: '5',
      HERALD_API_RATE_LIMIT_BURST: '7',
      HERALD_ADMIN_RATE_LIMIT: '1000',
      HERALD_MAX_HEADERS: '50',
      HERALD_MAX_HEADER_BYTES: '8192',
      HERALD_ENCRYPTION_KEY_PREVIOUS: `${k1}, ${k2}`,
    },
  );
  assert.deepEqual(
    [c.apiRateLimit, c.apiRateLimitBurst, c.adminRateLimit, c.maxHeaderCount, c.maxHeaderBytes],
    [0, 7, 1000, 50, 8192],
  );
  assert.deepEqual(c.encryptionKeyPrevious, [k1, k2]);
  for (const [env, re] of [
    [{ HERALD_API_RATE_LIMIT: '-1' }, /HERALD_API_RATE_LIMIT/],
    [{ HERALD_ADMIN_RATE_LIMIT: 'fast' }, /HERALD_ADMIN_RATE_LIMIT/],
    [{ HERALD_MAX_HEADERS: '5' }, /HERALD_MAX_HEADERS/],
    [{ HERALD_MAX_HEADER_BYTES: '100' }, /HERALD_MAX_HEADER_BYTES/],
    [{ HERALD_ENCRYPTION_KEY_PREVIOUS: `${k1},short` }, /HERALD_ENCRYPTION_KEY_PREVIOUS/],
  ] as Array<[Record<string, string>, RegExp]>) {
    assert.throws(
      () => loadConfig({}, env),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
    );
  }
});

test('dispatcher options: the lease and the per-endpoint cap', () => {
  const d = loadConfig({}, {});
  assert.equal(d.leaseSeconds, 30);
  assert.equal(d.maxInFlightPerEndpoint, 64);
  assert.equal(d.maxInFlightPerTenant, 500);
  assert.equal(d.claimAhead, 8);
  assert.equal(d.concurrency, 2000);
  assert.equal(d.circuitFailureThreshold, 20);
  assert.equal(d.circuitCooldownSeconds, 30);
  assert.equal(d.circuitMaxCooldownSeconds, 600);
  const c = loadConfig(
    { leaseSeconds: '2m' },
    { HERALD_LEASE: '5s', HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '8' },
  );
  assert.equal(c.leaseSeconds, 120);
  assert.equal(c.maxInFlightPerEndpoint, 8);
  assert.throws(() => loadConfig({}, { HERALD_LEASE: 'soon' }), ConfigError);
  const circuit = loadConfig({ circuitCooldownSeconds: '1m' }, { HERALD_CIRCUIT_FAILURES: '5' });
  assert.equal(circuit.circuitFailureThreshold, 5);
  assert.equal(circuit.circuitCooldownSeconds, 60);
  assert.throws(() => loadConfig({}, { HERALD_CIRCUIT_FAILURES: '0' }), ConfigError);
  assert.throws(() => loadConfig({}, { HERALD_MAX_IN_FLIGHT_PER_ENDPOINT: '0' }), ConfigError);
});

test('portal options: frame ancestors become exact origins, branding is checked as the API checks it', () => {
  const c = loadConfig(
    {},
    {
      HERALD_PORTAL_FRAME_ANCESTORS:
        'https://app.example.com  https://admin.example.com:8443,http://127.0.0.1:3000',
      HERALD_PORTAL_NAME: 'Ledgerly',
      HERALD_PORTAL_ACCENT_COLOR: '#0A7D5A',
      HERALD_PORTAL_LOGO_URL: 'https://cdn.example.com/logo.svg',
    },
  );
  assert.deepEqual(c.portalFrameAncestors, [
    'https://app.example.com',
    'https://admin.example.com:8443',
    'http://127.0.0.1:3000',
  ]);
  assert.equal(c.portalName, 'Ledgerly');
  const d = loadConfig({}, {});
  assert.deepEqual(d.portalFrameAncestors, []);
  assert.equal(d.portalName, 'Webhooks');
  for (const [env, value, re] of [
    [
      'HERALD_PORTAL_FRAME_ANCESTORS',
      'https://app.example.com/embed',
      /HERALD_PORTAL_FRAME_ANCESTORS.*scheme, host, port only/,
    ],
    ['HERALD_PORTAL_FRAME_ANCESTORS', "'self'", /not an origin/],
    ['HERALD_PORTAL_FRAME_ANCESTORS', 'ftp://files.example.com', /not an origin/],
    ['HERALD_PORTAL_FRAME_ANCESTORS', 'https://*.example.com', /not an origin/],
    ['HERALD_PORTAL_ACCENT_COLOR', 'blue', /HERALD_PORTAL_ACCENT_COLOR/],
    ['HERALD_PORTAL_LOGO_URL', 'http://cdn.example.com/logo.svg', /https/],
    ['HERALD_PORTAL_NAME', 'x'.repeat(65), /at most 64/],
  ] as const) {
    assert.throws(
      () => loadConfig({}, { [env]: value }),
      (err: unknown) => err instanceof ConfigError && re.test(err.message),
      `${env}=${value}`,
    );
  }
});
