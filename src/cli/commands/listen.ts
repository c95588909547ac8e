/**
 * `herald listen`: a local receiver for developers integrating with Herald. Verifies each request
 * with herald/verify (the endpoint's profile and secret) and pretty-prints it; answers 200 when it
 * verifies and 400 with the error code when it does not, as a real receiver would.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { readRawBody } from '../../verify/node-http.ts';
import { headerValue } from '../../verify/request-parts.ts';
import { VERIFY_PROFILES } from '../../verify/schemes.ts';
import { WebhookVerificationError } from '../../verify/verification-error.ts';
import { createVerifier, type VerifiedWebhook } from '../../verify/verify-webhook.ts';
import { details, printable } from '../table.ts';
import { usageExits } from './api-command.ts';

interface ListenOptions {
  port: number;
  profile: string;
  secret: string;
  accountNumber?: string;
  tolerance?: number;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('--port must be 0…65535');
  return n;
}

function pretty(body: Buffer): string {
  try {
    return JSON.stringify(JSON.parse(body.toString('utf8')), null, 2);
  } catch {
    return body.toString('utf8');
  }
}

/** What an unverified request claims to be, for display only. */
function claimed(req: IncomingMessage, body: Buffer): { type?: string; id?: string } {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    // Shown as raw text below.
  }
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const type =
    headerValue(req.headers, 'herald-event-type') ??
    headerValue(req.headers, 'event-type') ??
    str(parsed['type']);
  const id = headerValue(req.headers, 'webhook-id') ?? str(parsed['id']);
  return { ...(type ? { type } : {}), ...(id ? { id } : {}) };
}

function report(
  req: IncomingMessage,
  profile: string,
  body: Buffer,
  result: { ok: true; v: VerifiedWebhook } | { ok: false; code: string; message: string },
): string {
  const seen = result.ok ? { type: result.v.eventType, id: result.v.id } : claimed(req, body);
  const lines: Record<string, unknown> = {
    profile,
    event: `${seen.type ?? '?'}${seen.id ? `  (id ${seen.id})` : ''}`,
    verified: result.ok ? '✓' : `✗ ${result.code}: ${result.message}`,
  };
  const seq = headerValue(req.headers, 'herald-sequence');
  if (seq) lines['sequence'] = `${seq} (attempt ${headerValue(req.headers, 'herald-attempt') ?? '?'})`;
  // The request line and body are anyone's (any web page can POST to a local port): escaped.
  return `── ${printable(`${req.method} ${req.url}`)}  ${new Date().toISOString()}\n${details(lines)}\n${printable(pretty(body))}\n\n`;
}

export function registerListen(program: Command): void {
  usageExits(
    program
      .command('listen')
      .description('run a local receiver on 127.0.0.1 that verifies and prints each delivery')
      .addOption(
        new Option('--port <port>', 'port on 127.0.0.1 (0: any free port)').argParser(port).default(3000),
      )
      .addOption(
        new Option('--profile <profile>', "the endpoint's profile")
          .choices(VERIFY_PROFILES)
          .default('standard'),
      )
      .addOption(
        new Option('--secret <secret>', "the endpoint's secret (or bearer token)")
          .env('HERALD_SECRET')
          .makeOptionMandatory(),
      )
      .option('--account-number <n>', 'Courier Invoice account number')
      .option('--tolerance <seconds>', 'timestamp tolerance (default 300)', (v) => {
        if (!/^\d+$/.test(v)) throw new InvalidArgumentError('--tolerance must be whole seconds');
        return Number(v);
      }),
  ).action(async (opts: ListenOptions) => {
    const verifier = createVerifier({
      profile: opts.profile,
      secret: opts.secret,
      ...(opts.accountNumber !== undefined ? { accountNumber: opts.accountNumber } : {}),
      ...(opts.tolerance !== undefined ? { tolerance: opts.tolerance } : {}),
    });
    const server = createServer(async (req, res) => {
      let body: Buffer;
      try {
        body = await readRawBody(req);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'INVALID_BODY', message: (err as Error).message } }));
        return;
      }
      try {
        const v = verifier.verifyDetailed(body, req.headers);
        process.stdout.write(report(req, opts.profile, body, { ok: true, v }));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch (err) {
        const code = err instanceof WebhookVerificationError ? err.code : 'ERROR';
        const message = (err as Error).message;
        process.stdout.write(report(req, opts.profile, body, { ok: false, code, message }));
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code, message } }));
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      process.stderr.write(`herald: cannot listen on 127.0.0.1:${opts.port}: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    const { port: bound } = server.address() as AddressInfo;
    process.stdout.write(
      `Listening on http://127.0.0.1:${bound}/ (profile ${opts.profile}); Ctrl-C stops\n\n`,
    );
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
