/**
 * The dashboard and the portal in a real browser: Herald runs as a child process (embedded storage,
 * temp data dir), a loopback receiver takes its webhooks, and playwright-core drives Debian's
 * Chromium. Screenshots of the main pages go to test-results/.
 *
 * Run with `npm run e2e` (not part of `npm test`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from '../support/poll.ts';
import { api, type HeraldProcess, killSpawned, startHeraldProcess } from '../support/processes.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');
const adminKey = `hk_admin_e2e${'x'.repeat(32)}`;

let herald: HeraldProcess;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
// A page of the operator's product that embeds the portal (HERALD_PORTAL_FRAME_ANCESTORS allows it).
let embedder: Server;
let embedderPort: number;
let dataDir: string;
const received: string[] = [];
const pageErrors: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  return api(herald.url!, adminKey, method, path, body);
}

async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 4xx the page shows on purpose (validation, 404) is logged by Chromium as a failed resource.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
  return page;
}

/** What page functions use of the browser's globals (this project's TypeScript has no DOM types; casts vanish when the function is sent to the page). */
interface BrowserGlobals {
  getComputedStyle(e: unknown): { getPropertyValue(name: string): string };
  document: { documentElement: { scrollWidth: number } };
  innerWidth: number;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  receiver = createServer((req, res) => {
    // /flaky fails everything, until its endpoint's circuit opens; /hooks takes what it gets.
    if (req.url === '/flaky') {
      req.resume();
      res.writeHead(503).end();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  embedder = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    const attr = src.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><title>Ledgerly</title><h1>Ledgerly settings</h1><iframe src="${attr}" width="1000" height="700"></iframe>`,
    );
  });
  await new Promise<void>((resolve) => embedder.listen(0, '127.0.0.1', resolve));
  embedderPort = (embedder.address() as AddressInfo).port;
  herald = await startHeraldProcess('serve', {
    PORT: '0',
    LOG_LEVEL: 'warn',
    HERALD_DATA_DIR: dataDir,
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ALLOW_PRIVATE_NETWORKS: 'true',
    HERALD_PORTAL_FRAME_ANCESTORS: `http://127.0.0.1:${embedderPort}`,
  });
  for (const [id, name] of [
    ['acme', 'Acme Invoicing'],
    ['globex', 'Globex Shipping'],
  ]) {
    assert.equal((await call('POST', '/v1/tenants', { id, name })).status, 201);
  }
  await call('POST', '/v1/event-types', {
    name: 'invoice.created',
    description: 'An invoice was issued',
    example: { invoiceId: 'inv_1', amount: 4200, currency: 'EUR' },
  });
  await call('POST', '/v1/event-types', { name: 'invoice.paid', example: { invoiceId: 'inv_1' } });
  const globex = await call('POST', '/v1/tenants/globex/endpoints', {
    url: 'http://127.0.0.1:9/globex-private-hook',
    name: 'Globex warehouse',
  });
  assert.equal(globex.status, 201);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
});

after(async () => {
  await browser?.close();
  await killSpawned();
  await new Promise((resolve) => receiver?.close(resolve));
  await new Promise((resolve) => embedder?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the pages are served with a strict CSP and the right content types', async () => {
  const res = await fetch(`${herald.url}/ui`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const js = await fetch(`${herald.url}/ui/static/dashboard.js`);
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  const etag = js.headers.get('etag')!;
  assert.equal(
    (await fetch(`${herald.url}/ui/static/dashboard.js`, { headers: { 'if-none-match': etag } })).status,
    304,
  );
  assert.equal((await fetch(`${herald.url}/ui/static/../../api/app.ts`)).status, 404);
});

test('operator: sign in, create an endpoint, watch a delivery, retry it, rotate the secret', async () => {
  const page = await newPage();
  await page.goto(`${herald.url}/ui`);
  await page.getByLabel('Admin key').fill('hk_admin_wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This key is not valid.').waitFor();
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  await page.getByRole('cell', { name: 'Acme Invoicing' }).waitFor();
  assert.equal(await page.evaluate("sessionStorage.getItem('herald.adminKey')"), adminKey);
  await shot(page, 'tenants');

  // The form shows the API's validation error at the URL field, then creates the endpoint.
  await page.goto(`${herald.url}/ui#/t/acme/endpoints/new`);
  await page.getByLabel('Name').fill('Acme ledger');
  await page.getByLabel('URL').fill('ftp://example.com/x');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  const urlError = page.locator('[data-field-error="ep-url"]');
  await urlError.waitFor();
  assert.match((await urlError.textContent()) ?? '', /http/);
  assert.equal(await page.getByLabel('URL').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('URL').fill(receiverUrl);
  await page.getByLabel('All event types').uncheck();
  await page.getByLabel('invoice.created').check();
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('X-Team');
  await page.getByLabel('Header 1 value').fill('billing');
  await shot(page, 'endpoint-form');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await page.getByRole('heading', { name: 'Acme ledger' }).waitFor();
  const endpointId = decodeURIComponent(/endpoints\/([^/]+)$/.exec(page.url())![1]!);
  const stored = (await call('GET', `/v1/tenants/acme/endpoints/${endpointId}`)).body as {
    eventTypes: string[];
    headers: Record<string, string>;
  };
  assert.deepEqual(stored.eventTypes, ['invoice.created']);
  assert.deepEqual(stored.headers, { 'X-Team': 'billing' });

  // Publish through the API; the live deliveries log shows it without a reload.
  await page.goto(`${herald.url}/ui#/t/acme/deliveries`);
  await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
  await page.getByText('No deliveries match.').waitFor();
  const published = await call('POST', '/v1/tenants/acme/events', {
    type: 'invoice.created',
    data: { invoiceId: 'inv_42', amount: 100 },
  });
  assert.equal(published.status, 202);
  const row = page.locator('tr[data-delivery-id]').first();
  await row.waitFor({ timeout: 20_000 });
  await waitFor('the receiver to get the webhook', () => received.length >= 1, { timeoutMs: 30_000 });
  await page.locator('tr[data-delivery-id] .badge-succeeded').first().waitFor({ timeout: 20_000 });
  await shot(page, 'deliveries');

  // Open it: its attempt, then retry it and watch a second attempt arrive.
  await row.locator('td[data-label="Created"] a').click();
  await page.locator('[data-attempt="1"]').waitFor();
  assert.match((await page.locator('[data-attempt="1"]').textContent()) ?? '', /200/);
  await page.getByRole('button', { name: 'Retry now' }).click();
  await page.locator('[data-attempt="2"]').waitFor({ timeout: 20_000 });
  assert.equal(received.length, 2);
  await page.locator('[data-attempt="2"] summary', { hasText: 'Request headers' }).click();
  await page.locator('[data-attempt="2"]').getByText('webhook-signature').waitFor();
  await shot(page, 'delivery');

  // The endpoint's secret: reveal, rotate (two steps), and the API agrees on the new one.
  await page.goto(`${herald.url}/ui#/t/acme/endpoints/${encodeURIComponent(endpointId)}`);
  await page.getByRole('button', { name: 'Reveal secret' }).click();
  const secret = page.getByTestId('secret');
  await waitFor('the secret', async () => ((await secret.textContent()) ?? '').startsWith('whsec_'), {
    timeoutMs: 30_000,
  });
  const before = (await secret.textContent()) ?? '';
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('button', { name: 'Confirm rotation' }).click();
  await page.getByText('Rotated.').waitFor();
  const afterRotation = (await secret.textContent()) ?? '';
  assert.notEqual(afterRotation, before);
  const apiSecret = (await call('GET', `/v1/tenants/acme/endpoints/${endpointId}/secret`)).body as {
    secret: string;
  };
  assert.equal(apiSecret.secret, afterRotation);
  await page.getByTestId('success-rate').waitFor();
  assert.equal((await page.getByTestId('success-rate').textContent()) ?? '', '100.0 %');

  // The emulator sends the type's example.
  await page.getByRole('button', { name: 'Send test event' }).click();
  await page.getByText('Open its delivery').waitFor();
  await waitFor('the test event', () => received.some((b) => b.includes('inv_1')), { timeoutMs: 30_000 });
  await shot(page, 'endpoint');

  // A receiver that answers 503: after 20 failed attempts in a row its circuit opens, which the
  // endpoints list and the health page show.
  const flaky = (
    await call('POST', '/v1/tenants/acme/endpoints', {
      url: receiverUrl.replace(/\/hooks$/, '/flaky'),
      name: 'Acme flaky',
      eventTypes: ['invoice.paid'],
      retrySchedule: [],
    })
  ).body as { id: string };
  const events = Array.from({ length: 20 }, (_, i) => ({
    type: 'invoice.paid',
    data: { invoiceId: `f${i}` },
  }));
  assert.equal((await call('POST', '/v1/tenants/acme/events', { events })).status, 202);
  await waitFor(
    'the circuit to open',
    async () => {
      const got = await call('GET', `/v1/tenants/acme/endpoints/${flaky.id}`);
      return (got.body as { health: { circuit: string } }).health.circuit !== 'closed';
    },
    { timeoutMs: 30_000 },
  );
  await page.goto(`${herald.url}/ui#/t/acme/endpoints`);
  const circuit = page.locator('tr', { hasText: 'Acme flaky' }).getByTestId('circuit');
  await circuit.waitFor();
  // Open for 30 s, then half-open; nothing is left to probe with, so it stays so.
  assert.match(
    (await circuit.textContent()) ?? '',
    /^circuit open until \d\d:\d\d:\d\d — \S|^half-open \(probing\)$/,
  );
  await page.locator('tr', { hasText: 'Acme flaky' }).getByTestId('throttled').waitFor();

  await page.getByRole('link', { name: 'Health' }).click();
  await page.getByTestId('due').waitFor();
  assert.equal(await page.getByTestId('circuit-open').textContent(), '1');
  await page.locator('[aria-labelledby="circuit-h"]').getByRole('link', { name: 'Acme flaky' }).waitFor();
  await shot(page, 'dashboard');
  await page.getByRole('link', { name: 'Event types' }).click();
  await page.getByRole('heading', { name: 'invoice.created' }).waitFor();
  await page.context().close();
});

test('operator: events searched and filtered on the server, event ↔ delivery links, the body sent, retry a selection and recover a range after a count (issue 18)', async () => {
  const page = await newPage();
  await page.goto(`${herald.url}/ui`);
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();

  const published = await call('POST', '/v1/tenants/acme/events', {
    id: 'evt-e2e-search',
    type: 'invoice.created',
    data: { invoiceId: 'inv_77', amount: 7700 },
  });
  assert.equal(published.status, 202);
  await waitFor('the webhook of inv_77', () => received.some((b) => b.includes('inv_77')), {
    timeoutMs: 30_000,
  });
  const sentBody = received.find((b) => b.includes('inv_77'))!;

  // Filtered by type on the server: only invoice.paid rows (the 20 sent to the flaky endpoint).
  await page.goto(`${herald.url}/ui#/t/acme/events`);
  await page.getByRole('heading', { name: 'Events', exact: true }).waitFor();
  await page.locator('tr[data-event-id="evt-e2e-search"]').waitFor();
  await page.getByLabel('Event type').selectOption('invoice.paid');
  await waitFor('only invoice.paid events', async () => {
    const types = await page.locator('tr[data-event-id] td[data-label="Event type"]').allTextContents();
    return types.length === 20 && types.every((t) => t === 'invoice.paid');
  });
  await shot(page, 'events');
  // A date range in the future holds nothing; cleared, the events are back.
  await page.getByLabel('From', { exact: true }).fill('2099-01-01T00:00');
  await page.getByText('No events match.').waitFor();
  await page.getByLabel('From', { exact: true }).fill('');
  await page.getByLabel('Event type').selectOption('');
  await page.locator('tr[data-event-id="evt-e2e-search"]').waitFor();

  // Search by id: an unknown one says so; a known one opens the event with its payload.
  await page.getByLabel('Event id').fill('evt-nope');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByText('No event has the id “evt-nope”.').waitFor();
  await page.getByLabel('Event id').fill('evt-e2e-search');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('heading', { name: 'Event invoice.created' }).waitFor();
  assert.match((await page.getByTestId('event-payload').textContent()) ?? '', /"invoiceId": "inv_77"/);
  const deliveryRow = page.locator('table[aria-label="Deliveries of this event"] tr[data-delivery-id]');
  await deliveryRow.getByRole('link', { name: 'Acme ledger' }).waitFor();
  assert.equal(await deliveryRow.count(), 1);
  await shot(page, 'event');

  // Event → delivery: the body shown is the bytes the receiver got; delivery → event.
  await deliveryRow.locator('a.mono').click();
  await page.getByRole('heading', { name: 'Delivery of invoice.created' }).waitFor();
  await page.locator('[data-attempt="1"]').waitFor({ timeout: 20_000 });
  await waitFor(
    'the body as sent',
    async () => (await page.getByTestId('request-body').textContent()) === sentBody,
  );
  assert.match(
    (await page.getByTestId('body-exactness').textContent()) ?? '',
    /^Exactly the bytes attempt 1 sent/,
  );
  assert.match((await page.locator('[data-attempt="1"] pre.excerpt').textContent()) ?? '', /thanks/);
  await shot(page, 'delivery-body');
  await page.getByRole('link', { name: 'evt-e2e-search' }).click();
  await page.getByRole('heading', { name: 'Event invoice.created' }).waitFor();

  // Retry a selection: the confirmation counts them, and nothing goes out before it is confirmed.
  await page.goto(`${herald.url}/ui#/t/acme/deliveries`);
  await page.getByLabel('Endpoint').selectOption({ label: 'Acme ledger' });
  const rows = page.locator('tr[data-delivery-id]');
  await waitFor('the ledger deliveries', async () => (await rows.count()) >= 3);
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  const before = received.length;
  await page.getByRole('button', { name: 'Retry selected (2)' }).click();
  await page.getByText('2 deliveries will be sent again now.').waitFor();
  await shot(page, 'retry-selected');
  assert.equal(received.length, before, 'nothing is sent before the confirmation');
  await page.getByRole('button', { name: 'Send 2 deliveries again' }).click();
  await page.getByText('2 deliveries queued to be sent again now.').waitFor();
  await waitFor('the two retried webhooks', () => received.length >= before + 2, { timeoutMs: 30_000 });

  // Recover a range of the flaky endpoint: counted first (a dry run), sent only once confirmed.
  const flaky = (
    (await call('GET', '/v1/tenants/acme/endpoints?limit=250')).body as {
      data: { id: string; name: string }[];
    }
  ).data.find((e) => e.name === 'Acme flaky')!;
  const failedIds = async () =>
    (
      (await call('GET', `/v1/tenants/acme/deliveries?endpointId=${flaky.id}&status=failed&limit=250`))
        .body as {
        data: { id: string }[];
      }
    ).data.map((d) => d.id);
  const failed = await failedIds();
  assert.ok(failed.length > 0);
  await page.goto(`${herald.url}/ui#/t/acme/endpoints/${encodeURIComponent(flaky.id)}`);
  await page.getByLabel('Created from').fill('2020-01-01T00:00');
  await page.getByLabel('To (empty: now)').fill('2020-01-02T00:00');
  await page.getByRole('button', { name: 'Recover…' }).click();
  await page.getByText('No failed deliveries in that range: nothing to send.').waitFor();
  await page.getByLabel('To (empty: now)').fill('');
  await page.getByRole('button', { name: 'Recover…' }).click();
  await page.getByText(`${failed.length} failed deliveries will be sent again now.`).waitFor();
  await shot(page, 'recover-confirm');
  assert.deepEqual(await failedIds(), failed, 'the count changed nothing');
  await page.getByRole('button', { name: `Send ${failed.length} failed deliveries again` }).click();
  await page.getByText(`${failed.length} failed deliveries re-queued.`).waitFor();
  await page.context().close();
});

test("portal: a signed link shows its tenant's pages and nothing of another tenant", async () => {
  const session = await call('POST', '/v1/tenants/acme/portal-sessions', { expiresIn: 600 });
  assert.equal(session.status, 201);
  const { url, token } = session.body as { url: string; token: string };
  for (const viewport of [
    { width: 1280, height: 860 },
    { width: 390, height: 844 },
  ]) {
    const page = await newPage(viewport);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByRole('link', { name: 'Acme ledger' }).waitFor();
    // The token left the address bar for sessionStorage.
    assert.doesNotMatch(page.url(), /token=/);
    assert.equal(await page.evaluate("sessionStorage.getItem('herald.portalToken')"), token);
    const text = (await page.locator('body').textContent()) ?? '';
    assert.doesNotMatch(text, /Globex|globex-private-hook/);
    const phone = viewport.width < 600;
    await shot(page, phone ? 'portal-phone' : 'portal');
    if (phone) {
      // The deliveries list fits a phone: one card per delivery, no sideways scrolling.
      await page.getByRole('link', { name: 'Deliveries' }).click();
      const row = page.locator('tr[data-delivery-id]').first();
      await row.waitFor();
      const wide = await page.locator('.table-wrap').evaluate((e) => {
        const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
        return e.scrollWidth > e.clientWidth || document.documentElement.scrollWidth > innerWidth;
      });
      await shot(page, 'portal-deliveries-phone');
      assert.equal(wide, false, 'the list does not scroll sideways at 390 px');
    }
    if (!phone) {
      await page.getByRole('link', { name: 'Deliveries' }).click();
      await page.locator('tr[data-delivery-id]').first().waitFor();
      assert.doesNotMatch((await page.locator('body').textContent()) ?? '', /globex/i);
      // Even asked directly, the API answers the portal's token as if globex did not exist.
      const statuses = await page.evaluate(async (t) => {
        const h = { authorization: `Bearer ${t}` };
        return Promise.all(
          ['/v1/tenants/globex/endpoints', '/v1/tenants', '/v1/stats'].map(
            async (p) => (await fetch(p, { headers: h })).status,
          ),
        );
      }, token);
      assert.deepEqual(statuses, [404, 403, 403]);
    }
    await page.context().close();
  }
  // A tampered link is refused as no longer valid (not as expired: it has not), showing no data.
  const page = await newPage();
  await page.goto(url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  await page.getByText('This portal link is no longer valid. Ask for a new link').waitFor();
  await page.goto(`${herald.url}/portal#token=hps_garbage`);
  await page.reload();
  await page.getByText('This portal link is not valid.').waitFor();
  await page.context().close();
});

test("portal: embedded in the operator's product, in its branding; refused in a frame elsewhere (issue 18)", async () => {
  const session = await call('POST', '/v1/tenants/acme/portal-sessions', {
    expiresIn: 600,
    branding: { name: 'Ledgerly', accentColor: '#0a7d5a' },
  });
  assert.equal(session.status, 201);
  const { url } = session.body as { url: string };
  const embed = (origin: string) => `${origin}/?src=${encodeURIComponent(url)}`;

  const page = await newPage();
  await page.goto(embed(`http://127.0.0.1:${embedderPort}`));
  const frame = page.frameLocator('iframe');
  await frame.getByRole('heading', { name: 'Endpoints' }).waitFor();
  await frame.getByRole('link', { name: 'Acme ledger' }).waitFor();
  assert.equal(await frame.locator('.brand').evaluate((e) => e.firstChild?.textContent), 'Ledgerly');
  const accent = await frame
    .locator('html')
    .evaluate((e) =>
      (globalThis as unknown as BrowserGlobals).getComputedStyle(e).getPropertyValue('--accent').trim(),
    );
  assert.equal(accent, '#0a7d5a');
  await shot(page, 'portal-embedded');
  await page.context().close();

  // Another origin (localhost is not 127.0.0.1 to the browser): the frame stays empty.
  const context = await browser.newContext();
  const refused = await context.newPage();
  const blocked: string[] = [];
  refused.on('console', (m) => {
    if (/frame-ancestors/.test(m.text())) blocked.push(m.text());
  });
  await refused.goto(embed(`http://localhost:${embedderPort}`));
  await waitFor('a frame-ancestors refusal', () => blocked.length > 0);
  assert.equal(await refused.frameLocator('iframe').getByRole('heading', { name: 'Endpoints' }).count(), 0);
  await context.close();
});

test("operator: an operational webhook, made on its page, gets Herald's own events and shows their deliveries", async () => {
  const page = await newPage();
  await page.goto(`${herald.url}/ui`);
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  await page.getByRole('link', { name: 'Operational webhooks' }).click();
  await page.getByRole('heading', { name: 'Operational webhooks' }).waitFor();
  await page.getByLabel('URL').fill(receiverUrl.replace('/hooks', '/ops'));
  await page.getByLabel('Name (optional)').fill('Ops pager');
  await page.getByLabel('delivery.exhausted').check();
  await page.getByLabel('Ed25519').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('op-secret').waitFor();
  assert.match((await page.getByTestId('op-secret').textContent()) ?? '', /^whpk_/);
  await page.getByText('Its public key (Ed25519').waitFor();
  await page.getByRole('link', { name: 'Ops pager' }).waitFor();
  await shot(page, 'operational-endpoints');

  // A tenant endpoint that fails its only attempt: Herald reports the delivery exhausted.
  const doomed = await call('POST', '/v1/tenants/globex/endpoints', {
    url: receiverUrl.replace('/hooks', '/flaky'),
    name: 'Globex doomed',
    retrySchedule: [],
  });
  assert.equal(doomed.status, 201);
  await call('POST', '/v1/tenants/globex/events', { type: 'invoice.paid', data: { invoiceId: 'inv_gone' } });
  await waitFor('the operational webhook', () => received.some((b) => b.includes('"delivery.exhausted"')), {
    timeoutMs: 30_000,
  });
  await page.locator('tr', { hasText: 'Ops pager' }).getByRole('link', { name: 'Deliveries' }).click();
  await page
    .locator('tr[data-delivery-id]', { hasText: 'delivery.exhausted' })
    .first()
    .waitFor({ timeout: 20_000 });
  await shot(page, 'operational-webhooks');

  await page.getByRole('link', { name: 'Endpoints' }).click();
  await page.getByRole('button', { name: 'Pause Ops pager' }).click();
  await page.getByRole('button', { name: 'Resume Ops pager' }).waitFor();
  await page.getByRole('button', { name: 'Delete Ops pager' }).click();
  await page.getByRole('button', { name: 'Confirm delete' }).click();
  await page.getByText('No operational webhooks yet.').waitFor();
  await page.context().close();
});

test('operator: an Ed25519 endpoint made through the form shows its whpk_ public key; rotating chooses the scheme (issue 20)', async () => {
  const page = await newPage();
  await page.goto(`${herald.url}/ui`);
  await page.getByLabel('Admin key').fill(adminKey);
  await page.getByLabel('Admin key').press('Enter');
  await page.getByRole('heading', { name: 'Tenants' }).waitFor();

  await page.goto(`${herald.url}/ui#/t/acme/endpoints/new`);
  await page.getByLabel('Name').fill('Acme signed');
  await page.getByLabel('URL').fill(receiverUrl.replace('/hooks', '/signed'));
  // The scheme is the standard profile's choice only.
  await page.getByLabel('Ed25519').waitFor();
  await page.getByLabel('Profile (wire format)').selectOption('shipstream');
  assert.equal(await page.getByLabel('Ed25519').count(), 0);
  await page.getByLabel('Profile (wire format)').selectOption('standard');
  await page.getByLabel('Ed25519').check();
  await page.getByLabel('Forward traceparent').check();
  await shot(page, 'endpoint-form-ed25519');
  await page.getByRole('button', { name: 'Create endpoint' }).click();
  await page.getByRole('heading', { name: 'Acme signed' }).waitFor();
  const endpointId = decodeURIComponent(/endpoints\/([^/]+)$/.exec(page.url())![1]!);

  // Where the secret is: the public key, labelled so, shown without revealing anything.
  await page.getByRole('heading', { name: 'Public key (Ed25519)' }).waitFor();
  const key = page.getByTestId('secret');
  await waitFor('the public key', async () => /^whpk_/.test((await key.textContent()) ?? ''));
  const stored = (await call('GET', `/v1/tenants/acme/endpoints/${endpointId}`)).body as {
    signatureScheme: string;
    publicKey: string;
    forwardTraceparent: boolean;
  };
  assert.deepEqual(
    [stored.signatureScheme, stored.forwardTraceparent, await key.textContent()],
    ['ed25519', true, stored.publicKey],
  );
  assert.equal(await page.getByRole('button', { name: 'Reveal secret' }).count(), 0);
  assert.equal(await page.getByTestId('signature-scheme').textContent(), 'Ed25519');
  assert.equal(await page.getByTestId('forward-traceparent').textContent(), 'yes');
  await shot(page, 'endpoint-ed25519');

  // Rotating to HMAC: a whsec_ secret, labelled as the signing secret again.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByLabel('New key').selectOption('hmac-sha256');
  await page.getByRole('button', { name: 'Confirm rotation' }).click();
  await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
  await waitFor('the new secret', async () => /^whsec_/.test((await key.textContent()) ?? ''));
  const apiSecret = (await call('GET', `/v1/tenants/acme/endpoints/${endpointId}/secret`)).body as {
    secret: string;
  };
  assert.equal(await key.textContent(), apiSecret.secret);
  await waitFor(
    'the settings to follow',
    async () => (await page.getByTestId('signature-scheme').textContent()) === 'HMAC-SHA256',
  );

  // The edit form keeps forwarding on and says how the endpoint signs; unticked, it is off.
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByTestId('ep-scheme-now').waitFor();
  assert.match((await page.getByTestId('ep-scheme-now').textContent()) ?? '', /^Signs with HMAC-SHA256/);
  assert.equal(await page.getByLabel('Forward traceparent').isChecked(), true);
  await page.getByLabel('Forward traceparent').uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByTestId('forward-traceparent').waitFor();
  assert.equal(await page.getByTestId('forward-traceparent').textContent(), 'no');
  const after = (await call('GET', `/v1/tenants/acme/endpoints/${endpointId}`)).body as {
    forwardTraceparent: boolean;
  };
  assert.equal(after.forwardTraceparent, false);
  await page.context().close();
});

test('no page logged an error', () => {
  assert.deepEqual(pageErrors, []);
});
