/**
 * The dispatcher's webhook requests on a thread of their own (docs/decisions.md, "Webhook requests
 * on a sender thread"): the main thread keeps every decision — what to send, when, the slots, the
 * records — and hands the thread finished requests (URL, headers, body, timeouts); the thread's own
 * SSRF-guarded agents make them and answer each with the same SendResult `send` gives in place.
 * Socket writes, undici's parsing and the response's excerpt then cost the API's event loop nothing.
 *
 * Requests and results cross in batches, one message per event-loop turn each way. A thread that
 * ends unasked answers the requests out and every later one as network errors, and calls `onLost`:
 * `herald serve` then exits for its supervisor, and what was out is sent again after its lease.
 */
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.ts';
import { ABORTED_MESSAGE, type Cancellation, type SendResult } from './sender.ts';
import type { FromSender, SenderThreadData, ToSender, WireSend } from './sender-thread-protocol.ts';

/** What `send` takes, but with the connect timeout instead of an agent (the thread holds those). */
export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** The endpoint's connect timeout, or null for the agents' default. */
  connectTimeoutMs: number | null;
  totalTimeoutMs: number;
  maxExcerptBytes?: number;
  cancellation?: Cancellation;
}

export interface SenderThread {
  send(request: SendRequest): Promise<SendResult>;
  /** Closes the thread's agents and ends it; requests still out are answered `aborted` first by drain. */
  close(): Promise<void>;
}

export interface SenderThreadOptions {
  onLost?: (err: Error) => void;
  /** Tests: how the worker is started. */
  startThread?: (options: WorkerOptions) => Worker;
}

/** The worker (sender-thread-worker.ts) on a thread of its own. */
export function startSenderWorker(options: WorkerOptions): Worker {
  return startModuleWorker(import.meta.url, './sender-thread-worker', options);
}

/** A request's answer when it never reached the thread, or the thread never answered it. */
const unsent = (errorKind: 'network_error' | 'aborted', errorMessage: string): SendResult => ({
  errorKind,
  errorMessage,
  durationMs: 0,
  excerpt: '',
  responseHeaders: {},
});

/** @example const sender = await startSenderThread({ policy, connections: 200, keepAliveTimeoutMs: 30_000 }) */
export async function startSenderThread(
  data: SenderThreadData,
  options: SenderThreadOptions = {},
): Promise<SenderThread> {
  const worker = (options.startThread ?? startSenderWorker)({ workerData: data });
  const waiting = new Map<number, (r: SendResult) => void>();
  let nextId = 1;
  let lost: Error | null = null;
  let closing: Promise<void> | null = null;
  let sends: WireSend[] = [];
  let cancels: number[] = [];
  let closeAsked = false;
  let scheduled = false;
  let closed: (() => void) | null = null;

  const post = () => {
    scheduled = false;
    const batch: ToSender = { sends, cancels, ...(closeAsked ? { close: true as const } : {}) };
    sends = [];
    cancels = [];
    if (!lost) worker.postMessage(batch);
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(post);
    }
  };
  // Held open only while requests are out: an idle thread never keeps the process alive.
  const track = () => {
    if (waiting.size === 0) worker.unref();
    else worker.ref();
  };

  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`sender thread exited (${code}) before it was ready`)));
    worker.once('message', () => resolve());
  });
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  worker.unref();

  const fail = (err: Error) => {
    if (lost) return;
    lost = err;
    for (const done of waiting.values()) done(unsent('network_error', `sender thread ended: ${err.message}`));
    waiting.clear();
    closed?.();
    if (!closing) options.onLost?.(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  worker.on('message', (m: FromSender) => {
    if (m.results) {
      for (const [id, r] of m.results) {
        const done = waiting.get(id);
        if (done) {
          waiting.delete(id);
          done(r);
        }
      }
      track();
    }
    if (m.closed) closed?.();
  });

  return {
    send(request) {
      const c = request.cancellation;
      if (lost) return Promise.resolve(unsent('network_error', `sender thread ended: ${lost.message}`));
      if (c?.cancelled) return Promise.resolve(unsent('aborted', ABORTED_MESSAGE));
      const id = nextId++;
      const wire: WireSend = [
        id,
        request.url,
        request.headers,
        request.body,
        request.connectTimeoutMs,
        request.totalTimeoutMs,
        request.maxExcerptBytes,
      ];
      sends.push(wire);
      schedule();
      const result = new Promise<SendResult>((resolve) => {
        waiting.set(id, (r) => {
          if (c) c.onCancel = null;
          resolve(r);
        });
      });
      if (c)
        c.onCancel = () => {
          cancels.push(id);
          schedule();
        };
      track();
      return result;
    },
    close() {
      closing ??= (async () => {
        if (!lost) {
          // Held open until the thread has closed its agents: otherwise a process with nothing
          // else to do would end while this waits, and its caller's code after the stop never run.
          worker.ref();
          await new Promise<void>((resolve) => {
            closed = resolve;
            closeAsked = true;
            schedule();
          });
        }
        await worker.terminate();
      })();
      return closing;
    },
  };
}
