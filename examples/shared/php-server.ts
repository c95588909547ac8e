/**
 * For the examples whose products document a PHP receiver: `php -S 127.0.0.1:<port> receiver.php`,
 * with each verdict the script writes appended to a log file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export interface PhpServer {
  url: string;
  /** The verdicts the script logged, one per request, in arrival order. */
  verdicts<T = Record<string, unknown>>(): T[];
  stop(): Promise<void>;
}

/** Starts `php -S` on a free loopback port with `script` as the router for every request. */
export async function startPhpServer(script: string, env: Record<string, string>): Promise<PhpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-php-'));
  const log = join(dir, 'verdicts.log');
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, script], {
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
      throw new Error('php -S did not start (is php-cli installed?)');
    }
    return {
      url: `http://127.0.0.1:${port}/webhook`,
      verdicts<T = Record<string, unknown>>() {
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
      async stop() {
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
