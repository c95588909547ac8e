/** The error every client method throws when the API refuses a request (or cannot be reached). */
import type { ApiErrorDetail } from './types.ts';

/**
 * Carries the API's stable `code` (branch on it), the HTTP `status`, the message and `details`.
 * A network failure has status 0 and code `NETWORK_ERROR`; an answer that is not Herald's error
 * JSON keeps its status with code `HTTP_<status>`.
 *
 * @example
 * try { await herald.tenants.get('acme') } catch (err) {
 *   if (err instanceof HeraldApiError && err.code === 'TENANT_NOT_FOUND') …
 * }
 */
export class HeraldApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorDetail[];

  constructor(
    status: number,
    code: string,
    message: string,
    details: ApiErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HeraldApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Builds the error from a non-2xx answer's text. */
export function errorFromResponse(status: number, text: string): HeraldApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = body?.error;
    if (e && typeof e.code === 'string') {
      return new HeraldApiError(
        status,
        e.code,
        typeof e.message === 'string' ? e.message : e.code,
        Array.isArray(e.details) ? (e.details as ApiErrorDetail[]) : [],
      );
    }
  } catch {
    // Not JSON: a proxy's error page, say. Fall through with the status.
  }
  return new HeraldApiError(status, `HTTP_${status}`, text.slice(0, 200) || `HTTP ${status}`);
}
