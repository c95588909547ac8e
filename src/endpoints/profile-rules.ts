/**
 * What each profile needs from an endpoint beyond the common fields, as the profile declares it
 * (src/profiles/profile.ts): its `profileOptions` (e.g. Courier Invoice signs with the receiver's
 * account number) and, for CorrigoPro, an `auth` whose bearer token is the request's credential. Checked on every write, against the endpoint as it will
 * be stored, so a PATCH that changes only the profile cannot leave an endpoint its profile cannot
 * send.
 */
import { HeraldError, invalid } from '../core/errors.ts';
import { PROFILES } from '../profiles/index.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { validateHeaders } from './endpoint-headers.ts';

/** @example validateProfileOptions('courier-invoice', { accountNumber: 'A-1001' }) */
export function validateProfileOptions(
  profile: ProfileName,
  options: Readonly<Record<string, unknown>>,
): void {
  const specs = PROFILES[profile].options;
  for (const [key, value] of Object.entries(options)) {
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) {
      const known = Object.keys(specs);
      throw invalid(
        `profileOptions.${key}`,
        `is not an option of the ${profile} profile${known.length ? ` (known: ${known.join(', ')})` : ' (it has none)'}`,
      );
    }
    const problem = spec.check(value);
    if (problem) throw invalid(`profileOptions.${key}`, problem);
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.required && !Object.hasOwn(options, key)) {
      throw invalid(`profileOptions.${key}`, `is required by the ${profile} profile`);
    }
  }
}

/** The parts of an endpoint whose validity depends on each other. */
export interface EndpointRulesInput {
  profile: ProfileName;
  profileOptions: Readonly<Record<string, unknown>>;
  headers: Readonly<Record<string, string>>;
  /** The stored auth's type, or null without auth. */
  authType: string | null;
  /** Whether attempts carry `traceparent` and `tracestate` (absent: false). */
  forwardTraceparent?: boolean;
}

/** The headers `forwardTraceparent` sends (src/delivery/attempt-trace.ts). */
export const TRACE_HEADERS: readonly string[] = ['traceparent', 'tracestate'];

/**
 * With forwarding on, the endpoint's own headers may not set what forwarding sends: one of the two
 * would be dropped without a word. Every profile takes extra headers and none signs these, so
 * forwarding is open to every profile — a receiver reproducing a product's bytes sees the same body
 * and signature, and one more header.
 */
function checkTraceForwarding(headers: Readonly<Record<string, string>>): void {
  const taken = Object.keys(headers).filter((name) => TRACE_HEADERS.includes(name.toLowerCase()));
  const first = taken[0];
  if (first === undefined) return;
  throw new HeraldError(
    'INVALID_HEADERS',
    `headers.${first}: is sent by forwardTraceparent; remove the header or turn forwarding off`,
    taken.map((name) => ({ path: `headers.${name}`, message: 'is sent by forwardTraceparent' })),
  );
}

/**
 * Checks the combination of profile, options, headers, auth and trace forwarding; throws the first
 * problem found (INVALID_HEADERS or VALIDATION_FAILED).
 */
export function checkEndpointRules(e: EndpointRulesInput): void {
  validateProfileOptions(e.profile, e.profileOptions);
  const needed = PROFILES[e.profile].requiredAuth;
  if (needed && (e.authType === null || !needed.includes(e.authType))) {
    throw invalid('auth', `the ${e.profile} profile needs auth of type ${needed.join(' or ')}`);
  }
  validateHeaders(e.headers, e.profile, e.authType);
  if (e.forwardTraceparent === true) checkTraceForwarding(e.headers);
}
