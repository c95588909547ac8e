/**
 * The isolation benchmarks' webhook receivers (bench/isolation.ts), run as a child process so they do
 * not share an event loop with Herald. It listens on `argv[2]` ports (default 1), all answering by
 * the request's path, `/<run>/<behaviour>/<endpoint>`:
 *
 * - `ok`: 200 at once;
 * - `d<ms>` (e.g. `d200`): 200 after that many milliseconds;
 * - `hang`: never answers — the socket stays open until the client gives up or `drop` is asked;
 * - `flaky`: per request (seeded, so every run draws the same sequence) 500 to 20 %, hangs on 5 %,
 *   resets the connection (TCP RST) on 5 %, else 200 at once.
 *
 * Every request is counted once its body has arrived (the receipt), under its whole path (one
 * endpoint); the first receipt of each `webhook-id` is a delivery, and when its body's `data`
 * carries `sentAt` (epoch ms with fractions) and `n`, the pair [n, receipt − sentAt] is kept. Requests
 * open (received, not yet answered or given up) are counted per path, with the peak since `reset`.
 *
 * IPC: the parent sends {id, cmd: 'stats', prefix, latencies?} | {id, cmd: 'reset'} | {id, cmd: 'drop'};
 * the child answers {id, …}, and {ports} once listening.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface PathStats {
  receipts: number;
  ids: Set<string>;
  firstAt: number;
  lastAt: number;
  open: number;
  latencies: Array<[number, number]>;
}

export interface ReceiverStats {
  /** Distinct webhook-ids received (deliveries). */
  received: number;
  /** Requests received, retries included. */
  receipts: number;
  /** Epoch ms of the first and last delivery (0 when none). */
  firstAt: number;
  lastAt: number;
  /** Requests open now under the prefix. */
  open: number;
  /** Most requests open at once, all paths, since the last reset. */
  peakOpen: number;
  /** Delivered per endpoint (path): the fewest and the most. */
  perEndpoint: { min: number; max: number; endpoints: number };
  /** [n, publish → receipt ms] per delivery whose payload carried them, when asked for. */
  latencies?: Array<[number, number]>;
}

const byPath = new Map<string, PathStats>();
const servers: Server[] = [];
let open = 0;
let peakOpen = 0;
const now = () => performance.timeOrigin + performance.now();

// mulberry32: a fixed seed, so the flaky receiver's choices are the same in every run.
let seed = 0x9e3779b9;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function statsFor(path: string): PathStats {
  let s = byPath.get(path);
  if (!s) {
    s = { receipts: 0, ids: new Set(), firstAt: 0, lastAt: 0, open: 0, latencies: [] };
    byPath.set(path, s);
  }
  return s;
}

function record(s: PathStats, req: IncomingMessage, body: Buffer): void {
  const at = now();
  s.receipts++;
  const id = req.headers['webhook-id'];
  const key = typeof id === 'string' ? id : `#${s.receipts}`;
  if (s.ids.has(key)) return;
  s.ids.add(key);
  if (s.firstAt === 0) s.firstAt = at;
  s.lastAt = at;
  if (!body.includes('"sentAt"')) return;
  try {
    const data = (JSON.parse(body.toString('utf8')) as { data?: { sentAt?: unknown; n?: unknown } }).data;
    if (typeof data?.sentAt === 'number' && typeof data.n === 'number') {
      s.latencies.push([data.n, at - data.sentAt]);
    }
  } catch {}
}

function answer(res: ServerResponse, status: number): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(status === 200 ? 'ok' : 'error');
}

function behave(req: IncomingMessage, res: ServerResponse, behaviour: string): void {
  if (behaviour === 'hang') return;
  if (behaviour === 'flaky') {
    const r = random();
    if (r < 0.2) answer(res, 500);
    else if (r < 0.25) return;
    else if (r < 0.3) req.socket.resetAndDestroy();
    else answer(res, 200);
    return;
  }
  const delay = /^d(\d+)$/.exec(behaviour);
  if (delay) setTimeout(() => answer(res, 200), Number(delay[1]));
  else answer(res, 200);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const behaviour = path.split('/')[2] ?? 'ok';
  const s = statsFor(path);
  open++;
  s.open++;
  if (open > peakOpen) peakOpen = open;
  let closed = false;
  res.on('close', () => {
    if (closed) return;
    closed = true;
    open--;
    s.open--;
  });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    record(s, req, Buffer.concat(chunks));
    behave(req, res, behaviour);
  });
  req.on('error', () => {});
}

function stats(prefix: string, withLatencies: boolean): ReceiverStats {
  const out: ReceiverStats = {
    received: 0,
    receipts: 0,
    firstAt: 0,
    lastAt: 0,
    open: 0,
    peakOpen,
    perEndpoint: { min: 0, max: 0, endpoints: 0 },
  };
  const latencies: Array<[number, number]> = [];
  let min = Number.POSITIVE_INFINITY;
  for (const [path, s] of byPath) {
    if (!path.startsWith(prefix)) continue;
    out.received += s.ids.size;
    out.receipts += s.receipts;
    out.open += s.open;
    if (s.firstAt > 0 && (out.firstAt === 0 || s.firstAt < out.firstAt)) out.firstAt = s.firstAt;
    if (s.lastAt > out.lastAt) out.lastAt = s.lastAt;
    out.perEndpoint.endpoints++;
    min = Math.min(min, s.ids.size);
    out.perEndpoint.max = Math.max(out.perEndpoint.max, s.ids.size);
    if (withLatencies) for (const l of s.latencies) latencies.push(l);
  }
  out.perEndpoint.min = out.perEndpoint.endpoints > 0 ? min : 0;
  if (withLatencies) out.latencies = latencies;
  return out;
}

interface Command {
  id: number;
  cmd: 'stats' | 'reset' | 'drop';
  prefix?: string;
  latencies?: boolean;
}

process.on('message', (msg: Command) => {
  if (msg.cmd === 'stats') {
    process.send?.({ id: msg.id, stats: stats(msg.prefix ?? '/', msg.latencies === true) });
  } else if (msg.cmd === 'reset') {
    // Counters only: requests still open keep their socket (drop closes them).
    for (const [path, s] of byPath) if (s.open === 0) byPath.delete(path);
    for (const s of byPath.values()) {
      s.receipts = 0;
      s.ids.clear();
      s.firstAt = 0;
      s.lastAt = 0;
      s.latencies = [];
    }
    peakOpen = open;
    process.send?.({ id: msg.id, ok: true });
  } else if (msg.cmd === 'drop') {
    // Every connection, idle or with a request open (the hanging ones): their sockets destroyed.
    const before = open;
    for (const server of servers) server.closeAllConnections();
    process.send?.({ id: msg.id, dropped: before });
  }
});
process.on('disconnect', () => process.exit(0));

const count = Math.max(1, Number(process.argv[2] ?? 1));
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  // A request that never gets an answer must stay open as long as the client waits.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  servers.push(server);
  // A deep accept backlog: a thousand connections opened at once must not wait for SYN retries.
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const addr = server.address();
    ports.push(typeof addr === 'object' && addr ? addr.port : 0);
    if (ports.length === count) process.send?.({ ports });
  });
}
