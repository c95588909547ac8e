/**
 * Running the PHP receivers of test/profiles/php/: once on given bytes through the CLI, or as a
 * loopback HTTP server (`php -S 127.0.0.1:<port>`) that appends each verdict to a log file.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface PhpReceiver {
  url: string;
  /** The verdicts the script logged, one per request, in arrival order. */
  verdicts<T = Record<string, unknown>>(): T[];
  close(): Promise<void>;
}

/** Starts `php -S` on a free loopback port with `script` as the router for every request. */
export async function startPhpReceiver(script: string, env: Record<string, string>): Promise<PhpReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-php-'));
  const log = join(dir, 'received.log');
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, join(PHP_DIR, script)], {
      env: { ...process.env, ...env, RECEIVED_LOG: log },
      stdio: 'ignore',
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await accepts(port))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (exited || Date.now() >= deadline) {
      child.kill();
      if (tries < 3) continue; // the port was taken between probing and binding: try another
      throw new Error('php -S did not start');
    }
    return {
      url: `http://127.0.0.1:${port}/webhook`,
      verdicts<T>() {
        let text = '';
        try {
          text = readFileSync(log, 'utf8');
        } catch {
          return [];
        }
        return text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as T);
      },
      async close() {
        if (!exited) {
          const done = new Promise((r) => child.once('exit', r));
          child.kill();
          await done;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
