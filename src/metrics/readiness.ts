/**
 * Readiness, as `/readyz` answers it in every role (the API's route and a worker's ops server): the
 * database answers, and where the process runs a dispatcher, it is running — not yet started, or
 * draining after a SIGTERM, is not ready. One check, so `herald serve`, `herald api` and
 * `herald worker` cannot disagree about what ready means.
 */
import { HeraldError } from '../core/errors.ts';
import type { Queryable } from '../db/db.ts';

export interface ReadinessSources {
  db: Queryable;
  /** This process's dispatcher, when it runs one. */
  dispatcher?: { readonly running: boolean } | undefined;
}

/**
 * Resolves when the process is ready; otherwise throws a 503 `SERVICE_UNAVAILABLE` HeraldError
 * saying why (the database error as its cause).
 *
 * @example await assertReady({ db, dispatcher }) // throws HeraldError('SERVICE_UNAVAILABLE', …)
 */
export async function assertReady({ db, dispatcher }: ReadinessSources): Promise<void> {
  if (dispatcher && !dispatcher.running) {
    throw new HeraldError('SERVICE_UNAVAILABLE', 'The dispatcher is not running (starting or stopping)');
  }
  try {
    await db.query('SELECT 1');
  } catch (err) {
    throw new HeraldError('SERVICE_UNAVAILABLE', 'The database is not reachable', [], { cause: err });
  }
}
