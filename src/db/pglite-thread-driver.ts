/**
 * The embedded database on a thread of its own. PGlite runs PostgreSQL in WASM on whatever thread
 * opens it; opened on the main thread, every statement's execution (about half of an end-to-end
 * delivery's CPU in embedded mode) took turns with the API and the dispatcher on one event loop, and
 * the process used one core. Here a worker thread (src/db/pglite-thread.ts) owns PGlite and this
 * side forwards each call to it: statements, transactions (held open on the worker while the
 * caller's callback runs), LISTEN. Same {@link Db} as the in-thread driver, same rows (dates, parsed
 * JSON): they are structured-cloned across. docs/decisions.md, "The embedded database on its own
 * thread".
 */
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.ts';
import type { Db, Queryable, Sql } from './db.ts';
import type { Request, SentError, ThreadData } from './pglite-thread.ts';

export interface PgliteThreadOptions {
  /** A data directory on disk; omitted = in memory. */
  dataDir?: string;
  /** A tarball from `dumpDataDir()` to start from (tests clone one migrated template). */
  loadDataDir?: Blob;
  /**
   * Called once if the thread ends without close() (a WASM abort, memory exhausted): every call
   * waiting, and every later one, fails with the same error.
   */
  onLost?: (err: Error) => void;
  /** Starts the thread (tests wrap it to end it); default: src/db/pglite-thread.ts's worker. */
  startThread?: (options: WorkerOptions) => Worker;
}

/** Distributes the request union over its members, so each keeps its own fields without `id`. */
type Ask = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

function received(e: SentError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The worker (pglite-thread.ts) on a thread of its own. */
export function startPgliteThread(options: WorkerOptions): Worker {
  return startModuleWorker(import.meta.url, './pglite-thread', options);
}

export async function openPgliteThread(
  options: PgliteThreadOptions = {},
): Promise<Db & { dumpDataDir(): Promise<Blob> }> {
  const data: ThreadData = {
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: await options.loadDataDir.arrayBuffer() } : {}),
  };
  const worker = (options.startThread ?? startPgliteThread)({
    workerData: data,
    ...(data.loadDataDir ? { transferList: [data.loadDataDir] } : {}),
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  const listeners = new Map<number, (payload: string) => void>();
  let nextId = 1;
  let gone: Error | undefined;
  let started = false;

  // The worker keeps the process alive only while a call waits for it, as a socket would: an idle
  // open database (or one only listening) does not hold the process open.
  worker.unref();
  const settle = (id: number) => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return p;
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: Record<string, unknown>) => {
      if ('id' in m) {
        const p = settle(m['id'] as number);
        if ('err' in m) p?.reject(received(m['err'] as SentError));
        else p?.resolve(m['ok']);
      } else if ('notify' in m) {
        listeners.get(m['notify'] as number)?.(m['payload'] as string);
      } else if ('ready' in m) {
        resolve();
      } else if ('failed' in m) {
        reject(received(m['failed'] as SentError));
      }
    });
    // The first reason stands: a thread ended by close() is closed, not lost.
    const fail = (err: Error) => {
      const lost = gone === undefined && started;
      gone ??= err;
      reject(gone);
      for (const id of [...pending.keys()]) settle(id)?.reject(gone);
      if (lost) options.onLost?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the embedded database's thread exited (${code})`)));
  });

  function call<T>(ask: Ask): Promise<T> {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    if (pending.size === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        worker.postMessage({ ...ask, id });
      } catch (err) {
        // A parameter that cannot be cloned across (a function, a symbol): nothing was sent.
        settle(id);
        reject(err);
      }
    });
  }

  try {
    await ready;
    started = true;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  const queryable = (tx: number | null): Queryable => ({
    query<T>(sql: Sql, params?: readonly unknown[]): Promise<T[]> {
      return call<T[]>({ op: 'query', sql, params, tx });
    },
    async exec(sql: string): Promise<void> {
      await call({ op: 'exec', sql, tx });
    },
  });
  const outside = queryable(null);

  return {
    kind: 'pglite',
    query: outside.query,
    exec: outside.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const tx = await call<number>({ op: 'begin' });
      let result: T;
      try {
        result = await fn(queryable(tx));
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => {});
        throw err;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    async listen(channel, onNotify) {
      const listener = await call<number>({ op: 'listen', channel });
      listeners.set(listener, onNotify);
      return async () => {
        listeners.delete(listener);
        await call({ op: 'unlisten', listener });
      };
    },
    async dumpDataDir() {
      return new Blob([await call<ArrayBuffer>({ op: 'dump' })]);
    },
    async close() {
      if (gone) return;
      try {
        await call({ op: 'close' });
      } finally {
        gone = new Error('the embedded database is closed');
        await worker.terminate();
      }
    },
  };
}
