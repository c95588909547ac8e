/**
 * End-to-end helpers: Herald as a real child process (`node bin/herald.js <role>`), a loopback
 * receiver that records which webhook ids it got, and a condition poller.
 *
 * Every process spawned here is remembered; `killSpawned()` (call it from an `after` hook) SIGKILLs
 * the ones still running, by pid, so a failing test never leaves a Herald behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const HERALD_BIN = join(import.meta.dirname, '..', '..', 'bin', 'herald.js');

/** Variables of the test runner's own environment that must not reach a Herald child. */
const SCRUBBED_ENV =
  /^(PORT|HOST|DATABASE_URL|HERALD_.*|LOG_LEVEL|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR|NO_COLOR)$/;

export type HeraldRole = 'serve' | 'api' | 'worker';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HeraldProcess {
  role: HeraldRole;
  child: ChildProcess;
  pid: number;
  /** The API address parsed from the start line (`api` and `serve`). */
  url: string | undefined;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited. */
  exited: Promise<ExitStatus>;
  /** The exit status once it has exited, else undefined. */
  exitStatus(): ExitStatus | undefined;
  /** Sends `signal` to this process's pid (no-op once it has exited). */
  kill(signal: NodeJS.Signals): void;
}

const spawned = new Set<HeraldProcess>();

/**
 * Starts `herald <role>` with exactly `env` on top of a scrubbed copy of this process's environment,
 * and resolves once it printed its "running" line. Fails (with its stderr) if it exits first or does
 * not come up within `startTimeoutMs`.
 */
export async function startHeraldProcess(
  role: HeraldRole,
  env: Record<string, string>,
  { startTimeoutMs = 60_000 } = {},
): Promise<HeraldProcess> {
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !SCRUBBED_ENV.test(k)) baseEnv[k] = v;
  const child = spawn(process.execPath, [HERALD_BIN, role], {
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not spawn herald ${role}`);
  let out = '';
  let err = '';
  let status: ExitStatus | undefined;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });
  const proc: HeraldProcess = {
    role,
    child,
    pid: child.pid,
    url: undefined,
    stdout: () => out,
    stderr: () => err,
    exited,
    exitStatus: () => status,
    kill(signal) {
      if (status || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid!, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    },
  };
  spawned.add(proc);
  void exited.then(() => spawned.delete(proc));

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const line = /^Herald .* running.*$/m.exec(out);
    if (line) {
      proc.url = /running on (http:\/\/\S+)/.exec(line[0])?.[1];
      if ((role === 'serve' || role === 'api') && !proc.url)
        throw new Error(`herald ${role} printed no URL: ${line[0]}`);
      return proc;
    }
    if (status) {
      throw new Error(
        `herald ${role} exited (${status.code ?? status.signal}) before it was running:\n${err || out}`,
      );
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`herald ${role} did not start within ${startTimeoutMs} ms:\n${out}\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for `proc` to exit; fails after `timeoutMs` (the process is left to the `after` hook). */
export async function waitForExit(proc: HeraldProcess, timeoutMs = 30_000): Promise<ExitStatus> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`herald ${proc.role} (pid ${proc.pid}) did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every Herald this file spawned that still runs, and waits for them to be gone. */
export async function killSpawned(): Promise<void> {
  const left = [...spawned];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map((p) => p.exited));
}

export interface IdReceiver {
  url: string;
  /** Requests whose body was read, in total (duplicates included). */
  readonly received: number;
  /** How many times each webhook-id arrived. */
  readonly counts: ReadonlyMap<string, number>;
  /** Delay before answering 200, for requests arriving from now on. */
  setDelay(ms: number): void;
  /** Ids of `expected` that have not arrived yet. */
  missing(expected: Iterable<string>): string[];
  /** Requests that arrived more than once beyond the first, summed over ids. */
  duplicates(): number;
  close(): Promise<void>;
}

/**
 * A loopback HTTP receiver that answers every request 200 after `delayMs`, and records its
 * `webhook-id` header when the request body has been read.
 */
export async function startIdReceiver({ delayMs = 0 } = {}): Promise<IdReceiver> {
  let delay = delayMs;
  let received = 0;
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      received++;
      if (typeof id === 'string') counts.set(id, (counts.get(id) ?? 0) + 1);
      const answer = () => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (delay <= 0) return answer();
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, delay);
      timers.add(t);
    });
    // A sender killed mid-request resets the socket: nothing to answer then.
    req.on('error', () => {});
    res.on('error', () => {});
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get received() {
      return received;
    },
    counts,
    setDelay(ms) {
      delay = ms;
    },
    missing(expected) {
      const out: string[] = [];
      for (const id of expected) if (!counts.has(id)) out.push(id);
      return out;
    },
    duplicates() {
      let n = 0;
      for (const c of counts.values()) n += c - 1;
      return n;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A JSON request to a Herald API as the admin; answers status and parsed body. */
export async function api(
  baseUrl: string,
  adminKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** Publishes `ids` as events of `type` in calls of `perCall` (≤ 100), each answered 202. */
export async function publishIds(
  baseUrl: string,
  adminKey: string,
  tenantId: string,
  ids: readonly string[],
  { type = 'test.event', perCall = 100 } = {},
): Promise<void> {
  for (let i = 0; i < ids.length; i += perCall) {
    const events = ids.slice(i, i + perCall).map((id, n) => ({ id, type, data: { n: i + n } }));
    const res = await api(baseUrl, adminKey, 'POST', `/v1/tenants/${tenantId}/events`, { events });
    if (res.status !== 202) {
      throw new Error(
        `publishing ${events.length} events answered ${res.status}: ${JSON.stringify(res.body)}`,
      );
    }
  }
}
