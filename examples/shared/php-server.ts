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
  verdicts(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startPhpServer(script: string, env: Record<string, string>): Promise<PhpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-example-php-'));
  const log = join(dir, 'verdicts.log');
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
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) throw new Error('php -S did not start (is php-cli installed?)');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    verdicts() {
      try {
        return readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
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
