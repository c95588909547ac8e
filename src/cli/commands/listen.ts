/**
 * `herald listen`: a local receiver for developers integrating with Herald. With `--tenant` it
 * registers its own endpoint through the API (taking the signing secret from the answer) and
 * removes it when it stops; without, it receives for an existing endpoint whose `--secret` is given.
 * Each request is verified with herald/verify and printed; a verified one is answered 200, the
 * `--status` chosen, or — with `--forward-to` — whatever the developer's app answers, so Herald
 * records what the app did (and retries a failure). One that does not verify gets 400 and its code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Command, Option } from 'commander';
import type { HeraldClient } from '../../client/client.ts';
import { readRawBody } from '../../verify/node-http.ts';
import { VERIFY_PROFILES } from '../../verify/schemes.ts';
import { WebhookVerificationError } from '../../verify/verification-error.ts';
import { createVerifier } from '../../verify/verify-webhook.ts';
import { forward } from '../listen/forward.ts';
import { checkListenOptions, type ListenFlags, type ListenPlan } from '../listen/listen-options.ts';
import { apiFailure, type Registered, registerEndpoint } from '../listen/registration.ts';
import { report, type Verification } from '../listen/report.ts';
import { printError } from '../usage.ts';
import { type ApiOptions, clientFor, DEFAULT_URL, UsageError, usageExits } from './api-command.ts';

type Verifier = ReturnType<typeof createVerifier>;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function verify(verifier: Verifier, body: Buffer, req: IncomingMessage): Verification {
  try {
    return { ok: true, v: verifier.verifyDetailed(body, req.headers) };
  } catch (err) {
    const code = err instanceof WebhookVerificationError ? err.code : 'ERROR';
    return { ok: false, code, message: (err as Error).message };
  }
}

/** Answers one request as the plan says, and prints it. */
async function receive(
  plan: ListenPlan,
  verifier: Verifier | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readRawBody(req);
  } catch (err) {
    json(res, 400, { error: { code: 'INVALID_BODY', message: (err as Error).message } });
    return;
  }
  if (!verifier) {
    // Only before the endpoint exists: nothing Herald sends can be here yet.
    json(res, 503, { error: { code: 'NOT_READY', message: 'herald listen is still registering' } });
    return;
  }
  const print = (result: Verification, outcome: string) =>
    process.stdout.write(report(req, plan.profile, body, result, outcome, new Date()));
  const result = verify(verifier, body, req);
  if (!result.ok) {
    print(result, '400');
    json(res, 400, { error: { code: result.code, message: result.message } });
    return;
  }
  if (plan.forwardTo) {
    const abandoned = new AbortController();
    // Herald gave up waiting (its timeout): stop waiting for the app too.
    res.once('close', () => {
      if (!res.writableEnded) abandoned.abort();
    });
    const answer = await forward(plan.forwardTo, req.method ?? 'POST', req.headers, body, abandoned.signal);
    if (answer.ok) {
      print(result, `${answer.status} from ${plan.forwardTo.href}`);
      res.writeHead(answer.status, answer.contentType ? { 'content-type': answer.contentType } : {});
      res.end(answer.body);
    } else {
      print(result, `502 (${answer.message})`);
      json(res, 502, { error: { code: 'FORWARD_FAILED', message: answer.message } });
    }
    return;
  }
  const status = plan.status ?? 200;
  print(result, plan.status !== undefined ? `${status} (--status)` : String(status));
  if (status < 300) json(res, status, { ok: true });
  else
    json(res, status, { error: { code: 'LISTEN_STATUS', message: `answered ${status} as --status asked` } });
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function run(plan: ListenPlan, client: HeraldClient | undefined): Promise<void> {
  let verifier: Verifier | undefined;
  const server = createServer((req, res) => {
    receive(plan, verifier, req, res).catch((err: unknown) => {
      printError((err as Error)?.stack ?? String(err));
      if (!res.headersSent) json(res, 500, { error: { code: 'ERROR', message: String(err) } });
    });
  });
  let port: number;
  try {
    port = await listenOn(server, plan.port);
  } catch (err) {
    printError(`cannot listen on 127.0.0.1:${plan.port}: ${(err as Error).message}`);
    process.exit(1);
  }
  const url = `http://127.0.0.1:${port}/`;

  let registered: Registered | undefined;
  let registering = false;
  let stopping = false;
  const stop = async () => {
    server.close();
    server.closeAllConnections();
    if (!registered || !client) process.exit(0);
    const { tenant, endpointId } = registered;
    try {
      await client.endpoints.delete(tenant, endpointId);
      process.stdout.write(`Removed endpoint ${endpointId}\n`);
      process.exit(0);
    } catch (err) {
      printError(
        `could not remove endpoint ${endpointId} (${apiFailure(err)}); remove it with: herald endpoints delete ${endpointId} --tenant ${tenant}`,
      );
      process.exit(1);
    }
  };
  const onSignal = () => {
    if (stopping) process.exit(1); // a second Ctrl-C: leave without waiting for the API
    stopping = true;
    if (!registering) void stop(); // else once the endpoint exists, so it is removed too
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (plan.register && client) {
    registering = true;
    try {
      registered = await registerEndpoint(client, { ...plan, register: plan.register }, url);
    } catch (err) {
      printError(apiFailure(err));
      server.close();
      process.exit(1);
    }
    registering = false;
    if (stopping) return stop();
  }
  const accountNumber = plan.profileOptions['accountNumber'];
  verifier = createVerifier({
    profile: plan.profile,
    secret: registered?.secret ?? (plan.secret as string),
    ...(typeof accountNumber === 'string' ? { accountNumber } : {}),
    ...(plan.tolerance !== undefined ? { tolerance: plan.tolerance } : {}),
  });

  const lines = [`Listening on ${url} (profile ${plan.profile})`];
  if (registered) {
    const events = plan.register?.eventTypes ?? 'every event type';
    lines[0] += `, registered as endpoint ${registered.endpointId} of tenant ${registered.tenant} for ${events}`;
    const label =
      plan.profile === 'corrigopro'
        ? 'Bearer token'
        : registered.secret.startsWith('whpk_')
          ? 'Public key (Ed25519)'
          : 'Signing secret';
    lines.push(`${label} ${registered.secret}`);
  }
  if (plan.forwardTo)
    lines.push(`Forwarding each verified delivery to ${plan.forwardTo.href}; Herald gets the app's status`);
  else if (plan.status !== undefined) lines.push(`Answering each verified delivery ${plan.status}`);
  lines.push(registered ? 'Ctrl-C stops and removes the endpoint' : 'Ctrl-C stops');
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

export function registerListen(program: Command): void {
  usageExits(
    program
      .command('listen')
      .description(
        'a local receiver on 127.0.0.1: registers an endpoint for --tenant (removed on exit), verifies and prints each delivery',
      )
      .addOption(new Option('--tenant <id>', 'register an endpoint of this tenant').env('HERALD_TENANT'))
      .option('--events <types>', 'event types it subscribes to, comma-separated (invoice.*; default all)')
      .option('--forward-to <url>', "forward each verified delivery there; Herald gets the app's status")
      .option('--status <code>', 'answer each verified delivery with this status (100…599), e.g. 500')
      .option('--port <port>', 'port on 127.0.0.1 (default: any free one with --tenant, else 3000)')
      .addOption(
        new Option('--profile <profile>', `the endpoint's profile: ${VERIFY_PROFILES.join(', ')}`).default(
          'standard',
        ),
      )
      .addOption(
        new Option(
          '--secret <secret>',
          "an existing endpoint's secret, whpk_ public key or bearer token; with --tenant, the new one's secret",
        ).env('HERALD_SECRET'),
      )
      .option(
        '--signature-scheme <scheme>',
        'with --tenant: hmac-sha256 (v1, default) or ed25519 (v1a) for the endpoint it registers',
      )
      .option('--account-number <n>', 'Courier Invoice account number')
      .option('--options <json>', 'profileOptions as a JSON object')
      .option('--tolerance <seconds>', 'timestamp tolerance (default 300)')
      .addOption(new Option('--url <url>', 'Herald API base URL').env('HERALD_URL').default(DEFAULT_URL))
      .addOption(
        new Option('--api-key <key>', 'API key (default: ./herald-data/admin-key when present)').env(
          'HERALD_API_KEY',
        ),
      ),
  ).action(async (flags: ListenFlags & ApiOptions) => {
    let plan: ListenPlan;
    let client: HeraldClient | undefined;
    try {
      plan = checkListenOptions(flags);
      // Without a key there is nothing to register with: said now, as a usage error.
      if (plan.register) client = clientFor(flags);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      printError(err.message);
      process.exit(2);
    }
    await run(plan, client);
  });
}
