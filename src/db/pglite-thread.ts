/**
 * The embedded database's own thread: a worker that opens PGlite (src/db/pglite-driver.ts) and runs
 * what the main thread's {@link openPgliteThread} (src/db/pglite-thread-driver.ts) asks of it, so
 * PostgreSQL's work in WASM takes no turns on the event loop that serves the API and sends webhooks.
 *
 * Messages in: `{ id, op, … }` (see {@link Request}); out: `{ id, ok }` or `{ id, err }` for each,
 * `{ notify, payload }` for a NOTIFY heard, and one `{ ready: true }` or `{ failed }` at start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Queryable, Sql } from './db.ts';
import { openPglite, type PgliteOptions } from './pglite-driver.ts';

export type Request =
  | { id: number; op: 'query'; sql: Sql; params: readonly unknown[] | undefined; tx: number | null }
  | { id: number; op: 'exec'; sql: string; tx: number | null }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; listener: number }
  | { id: number; op: 'dump' }
  | { id: number; op: 'close' };

/** How the thread is started: PGlite's options, a data directory to load as bytes. */
export interface ThreadData {
  dataDir?: string;
  loadDataDir?: ArrayBuffer;
}

/** An error as it crosses threads: its message, name and own fields (`code`, `detail`, …). */
export interface SentError {
  message: string;
  name: string;
  stack: string | undefined;
  fields: Record<string, unknown>;
}

export function sendableError(err: unknown): SentError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', stack: undefined, fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)) fields[k] = v;
  }
  return { message: err.message, name: err.name, stack: err.stack, fields };
}

/** The end of a transaction that must roll back: thrown inside PGlite's transaction callback. */
const ROLLBACK = Symbol('rollback');

interface OpenTransaction {
  q: Queryable;
  decide(commit: boolean): void;
  done: Promise<unknown>;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as ThreadData;
  const options: PgliteOptions = {
    ...(data.dataDir ? { dataDir: data.dataDir } : {}),
    ...(data.loadDataDir ? { loadDataDir: new Blob([data.loadDataDir]) } : {}),
  };
  const db = await openPglite(options).catch((err: unknown) => {
    port.postMessage({ failed: sendableError(err) });
    throw err;
  });
  const transactions = new Map<number, OpenTransaction>();
  const listeners = new Map<number, () => Promise<void>>();
  let nextTx = 1;

  async function begin(): Promise<number> {
    let decide!: (commit: boolean) => void;
    const decided = new Promise<boolean>((resolve) => {
      decide = resolve;
    });
    let opened!: (q: Queryable) => void;
    const open = new Promise<Queryable>((resolve) => {
      opened = resolve;
    });
    const done = db.transaction(async (q) => {
      opened(q);
      if (!(await decided)) throw ROLLBACK;
    });
    // BEGIN itself may fail; then the callback never runs.
    const q = await Promise.race([open, done.then(() => open)]);
    const tx = nextTx++;
    transactions.set(tx, { q, decide, done });
    return tx;
  }

  async function end(tx: number, commit: boolean): Promise<void> {
    const t = transactions.get(tx);
    if (!t) throw new Error(`no open transaction ${tx}`);
    transactions.delete(tx);
    t.decide(commit);
    try {
      await t.done;
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    }
  }

  const target = (tx: number | null): Queryable => {
    if (tx === null) return db;
    const t = transactions.get(tx);
    if (!t) throw new Error(`no open transaction ${tx}`);
    return t.q;
  };

  async function handle(r: Request): Promise<unknown> {
    switch (r.op) {
      case 'query':
        return target(r.tx).query(r.sql, r.params);
      case 'exec':
        return target(r.tx).exec(r.sql);
      case 'begin':
        return begin();
      case 'end':
        return end(r.tx, r.commit);
      case 'listen': {
        const listener = r.id;
        listeners.set(
          listener,
          await db.listen(r.channel, (payload) => port.postMessage({ notify: listener, payload })),
        );
        return listener;
      }
      case 'unlisten': {
        const stop = listeners.get(r.listener);
        listeners.delete(r.listener);
        await stop?.();
        return undefined;
      }
      case 'dump': {
        const blob = await db.pglite.dumpDataDir('gzip');
        return await blob.arrayBuffer();
      }
      case 'close':
        await db.close();
        return undefined;
    }
  }

  port.on('message', (r: Request) => {
    handle(r).then(
      (ok) => port.postMessage({ id: r.id, ok }),
      (err: unknown) => port.postMessage({ id: r.id, err: sendableError(err) }),
    );
  });
  port.postMessage({ ready: true });
}

await main();
