/**
 * The flags of an endpoint's fields, shared by `herald endpoints` and `herald operational-endpoints`
 * (the two take the same body, src/api/schemas/endpoint.ts), and how they become that body. Its own
 * module so neither command loads the other.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { EndpointCreate, EndpointPatch } from '../../client/types.ts';
import { ConfigError, parseDuration } from '../../config/option-values.ts';
import { PROFILE_NAMES } from '../../profiles/profile-names.ts';
import { jsonObject } from './api-command.ts';

export type Scheme = 'hmac-sha256' | 'ed25519';

/** What the field flags parse to (commander's camel-cased option names). */
export interface FieldFlags {
  name?: string;
  description?: string;
  types?: string;
  profile?: string;
  accountNumber?: string;
  options?: string;
  bearer?: string;
  header?: Record<string, string>;
  retrySchedule?: number[] | 'default';
  forwardTraceparent?: boolean;
}

/** What `create` adds to them. */
export interface CreateFlags extends FieldFlags {
  secret?: string;
  signatureScheme?: Scheme;
  inactive?: boolean;
}

function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon < 1) throw new InvalidArgumentError('--header must look like "Name: value"');
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

/** `--signature-scheme`: the API's own words for the two schemes. */
export function signatureScheme(value: string): Scheme {
  if (value !== 'hmac-sha256' && value !== 'ed25519') {
    throw new InvalidArgumentError('--signature-scheme must be hmac-sha256 or ed25519');
  }
  return value;
}

/** `--active true|false`. */
export function activeFlag(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new InvalidArgumentError('--active must be true or false');
  return value === 'true';
}

/**
 * `5s,5m,2h` as seconds (`[5, 300, 7200]`); `none` is no retries, `default` the profile's schedule
 * (sent as null — commander turns a parser's null into '', hence the word until then).
 */
export function retrySchedule(value: string): number[] | 'default' {
  if (value === 'default') return 'default';
  if (value === 'none') return [];
  try {
    return value.split(',').map((d) => parseDuration(d, '--retry-schedule'));
  } catch (err) {
    if (err instanceof ConfigError)
      throw new InvalidArgumentError(err.message.replace(/^invalid [^:]+: /, ''));
    throw err;
  }
}

/**
 * Adds the field flags. `profiles: false` leaves out the profile and its options, for endpoints
 * that have one profile only (operational webhooks: `standard`); `types` describes `--types`.
 */
export function withFieldFlags(
  cmd: Command,
  { profiles = true, types = 'event types, comma-separated (invoice.* wildcards; default all)' } = {},
): Command {
  cmd
    .option('--name <name>', 'display name')
    .option('--description <text>', 'description')
    .option('--types <list>', types);
  if (profiles) {
    cmd
      .option(
        '--profile <profile>',
        `wire format: ${PROFILE_NAMES.join(', ')} (herald profiles: their options)`,
      )
      .option('--account-number <n>', "Courier Invoice's account number (profileOptions.accountNumber)")
      .option('--options <json>', 'profileOptions as a JSON object');
  }
  return cmd
    .option('--bearer <token>', 'send Authorization: Bearer <token> (auth)')
    .option('--header <name: value>', 'an extra request header (repeatable)', header)
    .option(
      '--retry-schedule <delays>',
      'waits before each retry after the first attempt, e.g. 5s,5m,2h (default: the profile\'s); "default" resets',
      retrySchedule,
    )
    .option(
      '--forward-traceparent',
      "send each attempt the W3C traceparent and tracestate of its publish's trace (forwardTraceparent)",
    )
    .option('--no-forward-traceparent', 'stop sending them');
}

/** Adds what only `create` takes: the secret, its scheme, and starting inactive. */
export function withCreateFlags(cmd: Command): Command {
  return cmd
    .option('--secret <secret>', 'signing secret (default: generated whsec_…, or whsk_… for ed25519)')
    .option(
      '--signature-scheme <scheme>',
      'hmac-sha256 (v1, the default) or ed25519 (v1a; prints the whpk_ public key)',
      signatureScheme,
    )
    .option('--inactive', 'create it inactive');
}

/** Adds rotate-secret's flags. */
export function withRotateFlags(cmd: Command): Command {
  return cmd
    .option('--secret <secret>', 'the new secret (default: generated)')
    .option(
      '--signature-scheme <scheme>',
      "the new key's scheme: hmac-sha256 or ed25519 (default: the endpoint's current one)",
      signatureScheme,
    );
}

/** The body the field flags given make: only what was given. */
export function fieldsOf(opts: FieldFlags): EndpointPatch {
  const profileOptions = {
    ...(opts.options !== undefined ? jsonObject('--options', opts.options) : {}),
    ...(opts.accountNumber !== undefined ? { accountNumber: opts.accountNumber } : {}),
  };
  return {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.types !== undefined ? { eventTypes: opts.types } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(Object.keys(profileOptions).length ? { profileOptions } : {}),
    ...(opts.bearer !== undefined ? { auth: { type: 'bearer' as const, token: opts.bearer } } : {}),
    ...(opts.header !== undefined ? { headers: opts.header } : {}),
    ...(opts.retrySchedule !== undefined
      ? { retrySchedule: opts.retrySchedule === 'default' ? null : opts.retrySchedule }
      : {}),
    ...(opts.forwardTraceparent !== undefined ? { forwardTraceparent: opts.forwardTraceparent } : {}),
  };
}

/** A create's body: the URL, the fields given, and the create-only flags. */
export function createBody(url: string, opts: CreateFlags): EndpointCreate {
  return {
    url,
    ...fieldsOf(opts),
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    ...(opts.signatureScheme !== undefined ? { signatureScheme: opts.signatureScheme } : {}),
    ...(opts.inactive ? { active: false } : {}),
  };
}

/** rotate-secret's body: only what was given. */
export function rotateBody(opts: { secret?: string; signatureScheme?: Scheme }): {
  secret?: string;
  signatureScheme?: Scheme;
} {
  return {
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    ...(opts.signatureScheme !== undefined ? { signatureScheme: opts.signatureScheme } : {}),
  };
}
