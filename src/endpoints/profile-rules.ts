/**
 * What each profile needs from an endpoint beyond the common fields: its `profileOptions` (e.g.
 * Courier Invoice signs with the receiver's account number) and, for CorrigoPro, an `auth` whose
 * bearer token is the request's credential. Checked on every write, against the endpoint as it will
 * be stored, so a PATCH that changes only the profile cannot leave an endpoint its profile cannot
 * send.
 */
import { invalid } from '../core/errors.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import { validateHeaders } from './endpoint-headers.ts';

interface OptionSpec {
  required: boolean;
  /** A problem with the value, or null when it is fine. */
  check(value: unknown): string | null;
}

const shortPrintable = (max: number) => (value: unknown) =>
  typeof value !== 'string'
    ? 'must be a string'
    : value.length === 0 || value.length > max || !/^[\u0020-\u007e]+$/.test(value)
      ? `must be 1 to ${max} printable ASCII characters`
      : null;

/** The options each profile understands; any other key is refused, so a typo is not silently ignored. */
export const PROFILE_OPTIONS: Record<ProfileName, Record<string, OptionSpec>> = {
  standard: {},
  'courier-invoice': { accountNumber: { required: true, check: shortPrintable(128) } },
  invoiceahoy: {},
  shipstream: {},
  // The `ApiVersion` of the message header (default "1.1", the version CorrigoPro documents).
  corrigopro: { apiVersion: { required: false, check: shortPrintable(16) } },
  altoviz: {},
};

/** Auth types a profile insists on (its wire format carries the credential), if any. */
const REQUIRED_AUTH: Partial<Record<ProfileName, readonly string[]>> = {
  corrigopro: ['bearer', 'oauth2'],
};

/** @example validateProfileOptions('courier-invoice', { accountNumber: 'A-1001' }) */
export function validateProfileOptions(
  profile: ProfileName,
  options: Readonly<Record<string, unknown>>,
): void {
  const specs = PROFILE_OPTIONS[profile];
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
}

/**
 * Checks the combination of profile, options, headers and auth; throws the first problem found
 * (INVALID_HEADERS or VALIDATION_FAILED).
 */
export function checkEndpointRules(e: EndpointRulesInput): void {
  validateProfileOptions(e.profile, e.profileOptions);
  const needed = REQUIRED_AUTH[e.profile];
  if (needed && (e.authType === null || !needed.includes(e.authType))) {
    throw invalid('auth', `the ${e.profile} profile needs auth of type ${needed.join(' or ')}`);
  }
  validateHeaders(e.headers, e.profile, e.authType);
}
