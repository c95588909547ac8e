/**
 * Turns anything thrown in a route into Herald's JSON error body. Known refusals keep their stable
 * code; Fastify's own 4xx (bad JSON, too large, wrong media type, schema validation) are mapped to
 * registry codes; a database that is not there (restart, failover) is 503 DATABASE_UNAVAILABLE with
 * Retry-After; anything else is logged and answered as INTERNAL without internals leaking.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, type ErrorDetail, HeraldError } from '../core/errors.ts';
import { isDatabaseUnavailable } from '../db/database-unavailable.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationDetails(issues: AjvIssue[], part: string | undefined): ErrorDetail[] {
  return issues.slice(0, 20).map((issue) => {
    let path = `${part ?? 'body'}${(issue.instancePath ?? '').replaceAll('/', '.')}`;
    const extra = issue.params?.['additionalProperty'] ?? issue.params?.['missingProperty'];
    if (typeof extra === 'string') path += `.${extra}`;
    return { path, message: issue.message ?? 'is invalid' };
  });
}

/**
 * PostgreSQL's class 22 "data exception" (NUL in text, \u0000 in jsonb, out-of-range numbers) is
 * raised by input the schemas let through; it is the caller's fault, so a 400, and the failed
 * statement has written nothing. Both drivers expose the SQLSTATE as `code` next to `severity`.
 */
function isDataException(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown };
  return typeof e?.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code) && typeof e.severity === 'string';
}

export function toHeraldError(err: unknown): HeraldError {
  if (err instanceof HeraldError) return err;
  const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (e?.validation) {
    const details = validationDetails(e.validation, e.validationContext);
    const first = details[0];
    return new HeraldError(
      'VALIDATION_FAILED',
      first ? `${first.path}: ${first.message}` : undefined,
      details,
    );
  }
  // A restart or failover, not a bug: the caller should come back in a moment.
  if (isDatabaseUnavailable(err))
    return new HeraldError('DATABASE_UNAVAILABLE', undefined, [], { cause: err });
  if (isDataException(err)) {
    return new HeraldError(
      'VALIDATION_FAILED',
      'The input holds a value that cannot be stored (for example a NUL character)',
    );
  }
  const mapped = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new HeraldError(mapped);
  if (e instanceof SyntaxError || (typeof e?.statusCode === 'number' && e.statusCode === 400)) {
    return new HeraldError('INVALID_JSON');
  }
  if (typeof e?.statusCode === 'number' && e.statusCode === 413) return new HeraldError('PAYLOAD_TOO_LARGE');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HeraldError('VALIDATION_FAILED', e.message);
  }
  return new HeraldError('INTERNAL', undefined, [], { cause: err });
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const he = toHeraldError(err);
  if (he.code === 'DATABASE_UNAVAILABLE') {
    request.log.warn({ err }, 'database unavailable');
    void reply.header('retry-after', '1');
  } else if (he.status >= 500) request.log.error({ err }, 'request failed');
  if (he.retryAfterSeconds !== undefined) void reply.header('retry-after', String(he.retryAfterSeconds));
  void reply.code(he.status).type('application/json; charset=utf-8').send(JSON.stringify(he.toJSON()));
}
