/**
 * Running the PHP receivers of test/profiles/php/: once on given bytes through the CLI, or as a
 * loopback HTTP server (`php -S 127.0.0.1:<port>`) that appends each verdict to a log file.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startPhpServer } from '../../../examples/shared/php-server.ts';

export const PHP_DIR = import.meta.dirname;

/** Runs `php <script> ...args` with `stdin`; resolves stdout. */
export function runPhp(
  script: string,
  args: string[],
  stdin: string,
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'php',
      [join(PHP_DIR, script), ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin!.end(stdin);
  });
}

export interface PhpReceiver {
  url: string;
  /** The verdicts the script logged, one per request, in arrival order. */
  verdicts<T = Record<string, unknown>>(): T[];
  close(): Promise<void>;
}

/** Starts `php -S` on a free loopback port with `script` (in this folder) as the router. */
export async function startPhpReceiver(script: string, env: Record<string, string>): Promise<PhpReceiver> {
  const server = await startPhpServer(join(PHP_DIR, script), env);
  return { url: server.url, verdicts: <T>() => server.verdicts<T>(), close: () => server.stop() };
}
