/**
 * Long-running commands in tests (`herald listen`, a shell running the README's quickstart): each
 * spawned in a process group of its own, so a signal reaches it the way Ctrl-C in a terminal would
 * (`npm run` and the node under it alike), with its output captured and waited on by condition.
 *
 * `stopSpawnedGroups()` (call it from an `after` hook) SIGKILLs, by process-group id, every group
 * spawned here that still runs, so a failing test leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './poll.ts';

/** `node` arguments that run the CLI from the sources, as `npm run herald` does. */
export const HERALD_CLI = [
  '--import',
  import.meta.resolve('tsx'),
  fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)),
];

/**
 * Variables of the test runner's environment that must not reach a child: Herald's, and the
 * runner's own (FORCE_COLOR: on a terminal the runner sets it, and output is compared as plain text).
 */
const SCRUBBED_ENV =
  /^(PORT|HOST|DATABASE_URL|HERALD_.*|LOG_LEVEL|NODE_TEST_CONTEXT|NODE_OPTIONS|FORCE_COLOR)$/;

/** This process's environment without Herald's variables or the test runner's, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUBBED_ENV.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GroupProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<ExitStatus>;
  /** Writes to its stdin. */
  write(text: string): void;
  /** Waits until its stdout matches `re`; fails at once if it exits first. */
  printed(re: RegExp, what?: string, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` to its whole process group (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void;
}

const groups = new Set<GroupProcess>();

/** Spawns `command` as the leader of a new process group, stdin/stdout/stderr piped. */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): GroupProcess {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const proc: GroupProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    write: (text) => child.stdin!.write(text),
    printed: (re, what = String(re), timeoutMs = 60_000) =>
      waitFor(
        `${what} from ${command} ${args.join(' ')}`,
        () => {
          const m = re.exec(out);
          if (!m && done) throw new Error(`it exited before printing ${what}:\n${out}\n${err}`);
          return m;
        },
        { timeoutMs, intervalMs: 20, detail: () => `${out}\n${err}` },
      ),
    signal(signal) {
      if (done) return;
      try {
        process.kill(-pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    },
  };
  groups.add(proc);
  // Children of the leader (npm's node) may outlive it: the group is only dropped by stopSpawnedGroups.
  return proc;
}

/** SIGKILLs every process group spawned here, by its id, and waits for the leaders to be gone. */
export async function stopSpawnedGroups(): Promise<void> {
  for (const g of groups) {
    try {
      process.kill(-(g.child.pid as number), 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  await Promise.all([...groups].map((g) => g.exited));
  groups.clear();
}
