/**
 * A publish call of one bare event (`{type, data}`, not `{events: [...]}`) names its fields in
 * refusals as it sent them — `data`, not `events.0.data`. Publishing (src/publish/) always
 * answers in the batch's terms; the API, which knows the call's shape, rewords them.
 */
import { HeraldError } from '../core/errors.ts';

const PREFIX = 'events.0.';
function unprefixed<T extends string | undefined>(s: T): T {
  return (s?.startsWith(PREFIX) ? s.slice(PREFIX.length) : s) as T;
}

/** `err` with its paths in a one-event call's terms; any other error unchanged. */
export function asSingleEvent(err: unknown): unknown {
  if (!(err instanceof HeraldError)) return err;
  if (!err.message.startsWith(PREFIX) && !err.details.some((d) => d.path?.startsWith(PREFIX))) return err;
  return new HeraldError(
    err.code,
    unprefixed(err.message),
    err.details.map((d) => ({ ...d, path: unprefixed(d.path) })),
    { cause: err.cause },
  );
}
