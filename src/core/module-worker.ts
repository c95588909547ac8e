/**
 * A worker thread running one of Herald's modules, from the built dist/ or the source checkout.
 * Built, the module is a .js file a worker loads directly. From the source checkout it is .ts,
 * which a worker cannot load by itself (Node 20 does not run `--import tsx` in workers): a two-line
 * bootstrap registers tsx in the worker first.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts `name` (no extension) beside `from` (the caller's `import.meta.url`) on a thread.
 * @example startModuleWorker(import.meta.url, './pglite-thread', { workerData })
 */
export function startModuleWorker(from: string, name: string, options: WorkerOptions): Worker {
  const ext = extname(fileURLToPath(from));
  const file = new URL(`${name}${ext}`, from);
  if (ext !== '.ts') return new Worker(file, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
