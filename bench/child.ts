/**
 * A child process of the bench spoken to over IPC (the receiver, the publisher, a queue system of
 * the comparison): a message out, the first answer holding `key` back; an answer holding `error`
 * rejects.
 */
import { type ChildProcess, fork } from 'node:child_process';

export interface Child {
  ask<T>(msg: object, key: string): Promise<T>;
  close(): void;
}

/** Forks the TypeScript file at `path` (with `args` and `env`) and waits for its first message. */
export async function forkBenchChild(
  path: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: Child; hello: Record<string, unknown> }> {
  const proc: ChildProcess = fork(path, args, {
    execArgv: ['--import', 'tsx'],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as Record<string, unknown>));
    proc.once('exit', (code) => reject(new Error(`${path} exited with ${code} before it was ready`)));
  });
  const ask = <T>(msg: object, key: string) =>
    new Promise<T>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if ('error' in m) {
          proc.off('message', on);
          reject(new Error(String(m['error'])));
        } else if (key in m) {
          proc.off('message', on);
          resolve(m as T);
        }
      };
      proc.on('message', on);
      proc.send(msg);
    });
  return { child: { ask, close: () => proc.kill() }, hello };
}
