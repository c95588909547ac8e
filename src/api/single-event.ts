/**
 * A publish call of one bare event (`{type, data}`, not `{events: [...]}`) names its fields in
 * refusals as it sent them — `data`, not `events.0.data`. Publishing (src/publish/) always
 * answers in the batch's terms; the API, which knows the call's shape, rewords them.
 *
 * Validation works the same way: the body is checked against the one alternative its shape picks
 * (an object with `events` is a batch; anything else is one event), so a refusal names that
 * shape's problems only — not the other alternative's, nor anyOf's "must match a schema".
 */
import type { FastifySchemaCompiler } from 'fastify';
import { HeraldError } from '../core/errors.ts';
import { EventBatchIn, EventIn } from './schemas/event.ts';
import { compileBody, validatorCompiler } from './validator.ts';

const isBatch = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;

/**
 * The publish route's validator compiler: its body by shape (above), anything else as every route's.
 *
 * @example app.post('/v1/tenants/:tenantId/events', { validatorCompiler: publishValidatorCompiler, … })
 */
export const publishValidatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  if (route.httpPart !== 'body') return validatorCompiler(route);
  const one = compileBody(EventIn);
  const batch = compileBody(EventBatchIn);
  const validate = (body: unknown): boolean => {
    const chosen = isBatch(body) ? batch : one;
    const ok = chosen(body);
    validate.errors = chosen.errors;
    return ok;
  };
  validate.errors = null as typeof one.errors;
  return validate as ReturnType<FastifySchemaCompiler<unknown>>;
};

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
