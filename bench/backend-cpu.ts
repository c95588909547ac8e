/**
 * CPU time of processes from Linux /proc, in µs: every PostgreSQL process together (the database's
 * share of the machine), or one backend (the connection a measurement runs on, so that autovacuum
 * and other sessions do not count). 0 where /proc is missing. Resolution: one clock tick (10 ms).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type Db, prepared } from '../src/db/db.ts';

const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux

/** utime + stime (and, with `children`, cutime + cstime) of one process, in ticks. */
function ticksOf(pid: string, children: boolean): { name: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    let ticks = Number(fields[11]) + Number(fields[12]);
    if (children) ticks += Number(fields[13]) + Number(fields[14]);
    return { name: stat.slice(stat.indexOf('(') + 1, close), ticks };
  } catch {
    return undefined; // the process ended meanwhile, or no /proc
  }
}

/**
 * CPU used so far by every process named `name` on this machine (`postgres`, `redis-server`). A
 * PostgreSQL backend that exited meanwhile counts in the postmaster's children's time, so the sum
 * never goes down.
 */
export function processCpuMicros(name: string): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const t = ticksOf(pid, true);
      if (t?.name === name) ticks += t.ticks;
    }
  } catch {
    return 0;
  }
  return ticks * TICK_MICROS;
}

/**
 * CPU used so far by this process's main thread alone (its event loop: the API, publishing and the
 * dispatcher in `herald serve`); the rest of the process's CPU is its other threads — the sender
 * thread, PGlite's, V8's helpers (garbage collection, compilation) and libuv's pool. 0 without /proc.
 */
export function mainThreadCpuMicros(): number {
  // The main thread's task has the process's id: /proc/<pid>/task/<pid>/stat.
  const t = ticksOf(`${process.pid}/task/${process.pid}`, false);
  return t === undefined ? 0 : t.ticks * TICK_MICROS;
}

/** CPU used so far by every PostgreSQL process on this machine. */
export const postgresCpuMicros = (): number => processCpuMicros('postgres');

const PID = 'SELECT pg_backend_pid() AS pid';
/**
 * The backend of the main connection, and of the connection of each plan and commit mode the queue's
 * statements use (src/db/db.ts: recording is `scan-free` with `async` commit, the claim `custom`).
 */
const PIDS = [
  PID,
  prepared('bench_backend_pid_scan_free_async', PID, { plan: 'scan-free', commit: 'async' }),
  prepared('bench_backend_pid_custom', PID, { plan: 'custom' }),
];

/**
 * A reader of the CPU used so far by the backends serving `db` (a pool of one connection, used one
 * statement at a time): its main connection and those its plan and commit modes' statements run on
 * (src/db/db.ts). Take it right before measuring: the pool closes a connection idle for 10 s and
 * opens a new backend. The reader answers NaN once a backend is gone, so a reading across two
 * backends is never a number.
 */
export async function backendCpu(db: Db): Promise<() => number> {
  const pids = new Set<string>();
  for (const sql of PIDS) {
    const [row] = await db.query<{ pid: number }>(sql);
    pids.add(String(row!.pid));
  }
  return () => {
    let ticks = 0;
    for (const pid of pids) {
      const t = ticksOf(pid, false);
      if (t === undefined) return Number.NaN;
      ticks += t.ticks;
    }
    return ticks * TICK_MICROS;
  };
}
