/**
 * The one registry of error codes. Every refusal Herald makes carries one of these stable codes;
 * the SDK and the CLI branch on `code`, never on the message.
 */
export const ErrorCodes = {
  // 400 — the request itself is malformed or invalid
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid' },
  INVALID_CURSOR: { status: 400, message: 'The pagination cursor is invalid' },
  INVALID_URL: { status: 400, message: 'The URL is not an acceptable http(s) URL' },
  INVALID_HEADERS: { status: 400, message: 'The endpoint headers are not acceptable' },
  UNKNOWN_PROFILE: { status: 400, message: 'No such profile' },
  UNKNOWN_EVENT_TYPE: { status: 400, message: 'No such event type' },
  INVALID_SCHEMA: { status: 400, message: 'The JSON Schema is not valid' },
  DATA_SCHEMA_MISMATCH: { status: 400, message: 'The event data does not match the event type schema' },
  INVALID_FILTER: { status: 400, message: 'The filter is not valid' },
  BLOCKED_ADDRESS: { status: 400, message: 'The URL points to an address Herald may not deliver to' },
  TENANT_ID_RESERVED: { status: 400, message: 'This tenant id is reserved for Herald itself' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not well-formed HTTP' },
  // 401/403 — who you are and what you may do
  UNAUTHORIZED: { status: 401, message: 'A valid API key is required' },
  FORBIDDEN: { status: 403, message: 'This key may not use this route' },
  // 404
  NOT_FOUND: { status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  TENANT_NOT_FOUND: { status: 404, message: 'No such tenant' },
  API_KEY_NOT_FOUND: { status: 404, message: 'No such API key' },
  EVENT_TYPE_NOT_FOUND: { status: 404, message: 'No such event type' },
  ENDPOINT_NOT_FOUND: { status: 404, message: 'No such endpoint' },
  EVENT_NOT_FOUND: { status: 404, message: 'No such event' },
  DELIVERY_NOT_FOUND: { status: 404, message: 'No such delivery' },
  // 405/408/409/413/415/429/431
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time' },
  TENANT_EXISTS: { status: 409, message: 'A tenant with this id already exists' },
  EVENT_TYPE_EXISTS: { status: 409, message: 'An event type with this name already exists' },
  ENDPOINT_EXISTS: { status: 409, message: 'An endpoint with this id already exists' },
  IDEMPOTENCY_CONFLICT: { status: 409, message: 'This id was already used for a different event' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json' },
  LIMIT_EXCEEDED: { status: 422, message: 'A configured limit was reached' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too many or too large' },
  // 5xx — only for faults that are not the caller's
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is not ready' },
  DATABASE_UNAVAILABLE: {
    status: 503,
    message:
      'The database is unavailable; try again shortly (a publish may or may not have been stored: retry it with the same Idempotency-Key)',
  },
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** One detail of a refusal: which field and what is wrong with it. */
export interface ErrorDetail {
  path?: string;
  message: string;
}

/**
 * The error every layer throws. The API's error handler turns it into
 * `{"error": {"code", "message", "details"}}` with the registry's status.
 *
 * @example throw new HeraldError('ENDPOINT_NOT_FOUND')
 */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[];
  /** When the caller may try again (a 429 or 503): the answer's `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    details: ErrorDetail[] = [],
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message ?? ErrorCodes[code].message, options);
    this.name = 'HeraldError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = details;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** Shorthand for a 400 naming one field. */
export function invalid(path: string, message: string, code: ErrorCode = 'VALIDATION_FAILED'): HeraldError {
  return new HeraldError(code, `${path}: ${message}`, [{ path, message }]);
}
