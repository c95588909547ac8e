/**
 * `herald listen`'s options, checked all at once before anything listens or is registered: a
 * mistake is one line and exit 2 (docs/cli.md), never an endpoint left behind or a receiver that
 * refuses every delivery it gets.
 */
import { HeraldError } from '../../core/errors.ts';
import {
  type SignatureScheme,
  validateReceiverKey,
  validateSecret,
} from '../../endpoints/endpoint-secret.ts';
import { validateProfileOptions } from '../../endpoints/profile-rules.ts';
import { PROFILES } from '../../profiles/index.ts';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../../profiles/profile-names.ts';
import { jsonObject, UsageError } from '../commands/api-command.ts';

/** The flags as commander hands them over: strings, unchecked. */
export interface ListenFlags {
  port?: string;
  profile: string;
  secret?: string;
  signatureScheme?: string;
  accountNumber?: string;
  options?: string;
  tolerance?: string;
  tenant?: string;
  events?: string;
  forwardTo?: string;
  status?: string;
}

/** What listen will do, every part of it already known to be acceptable. */
export interface ListenPlan {
  port: number;
  profile: ProfileName;
  /**
   * The secret given with --secret: the new endpoint's (a `whsk_` key makes it sign with Ed25519)
   * when registering, else what the existing endpoint's deliveries verify with (`whpk_` for Ed25519).
   * When registering without one, Herald generates it.
   */
  secret: string | undefined;
  /** The scheme of the key Herald generates for the endpoint listen registers (--signature-scheme). */
  signatureScheme: SignatureScheme | undefined;
  profileOptions: Record<string, unknown>;
  tolerance: number | undefined;
  /** Present when listen registers its own endpoint (--tenant). */
  register: { tenant: string; eventTypes: string | undefined } | undefined;
  /** Where verified deliveries are forwarded (--forward-to). */
  forwardTo: URL | undefined;
  /** The status every verified delivery is answered with (--status), when not forwarding. */
  status: number | undefined;
}

/** The port listen uses without --port: a fixed one to point an endpoint at by hand, else any free one. */
const DEFAULT_PORT_BY_HAND = 3000;

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be ${min}…${max}`);
  return n;
}

function seconds(flag: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag} must be whole seconds`);
  return Number(value);
}

/** Runs a check written for the API (HeraldError with a path) and reports it as a usage error. */
function asUsage(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof HeraldError) throw new UsageError(err.message);
    throw err;
  }
}

function forwardUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--forward-to is not an absolute URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--forward-to must be an http or https URL: ${value}`);
  }
  return url;
}

/**
 * Checks every option; throws UsageError naming the first problem.
 * @example checkListenOptions({ profile: 'standard', tenant: 'acme', events: 'invoice.*' }).port // 0
 */
export function checkListenOptions(flags: ListenFlags): ListenPlan {
  if (!isProfileName(flags.profile)) {
    throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}`);
  }
  const profile = flags.profile;
  const register = flags.tenant !== undefined;
  if (!register && flags.secret === undefined) {
    throw new UsageError(
      'give --tenant <id> to register an endpoint for listen, or the --secret of an existing endpoint',
    );
  }
  if (!register && flags.events !== undefined) {
    throw new UsageError('--events needs --tenant: it subscribes the endpoint listen registers');
  }
  if (flags.tenant === '') throw new UsageError('--tenant must not be empty');
  if (flags.secret !== undefined) {
    const secret = flags.secret;
    if (register && secret.startsWith('whpk_')) {
      throw new UsageError(
        '--secret with --tenant is the new endpoint’s signing key: a whpk_ public key cannot sign (give a whsk_ key, or --signature-scheme ed25519)',
      );
    }
    asUsage(() =>
      !register && profile === 'standard'
        ? validateReceiverKey(secret, '--secret')
        : validateSecret(secret, profile, '--secret'),
    );
  }
  const scheme = flags.signatureScheme;
  if (scheme !== undefined) {
    if (scheme !== 'hmac-sha256' && scheme !== 'ed25519') {
      throw new UsageError('--signature-scheme must be hmac-sha256 or ed25519');
    }
    if (!register)
      throw new UsageError('--signature-scheme needs --tenant: it chooses the new endpoint’s key');
    if (profile !== 'standard') throw new UsageError('--signature-scheme is for the standard profile');
    if (flags.secret !== undefined && flags.secret.startsWith('whsk_') !== (scheme === 'ed25519')) {
      throw new UsageError(`--secret is not a key of --signature-scheme ${scheme}`);
    }
  }
  const profileOptions = {
    ...(flags.options !== undefined ? jsonObject('--options', flags.options) : {}),
    ...(flags.accountNumber !== undefined ? { accountNumber: flags.accountNumber } : {}),
  };
  for (const [name, spec] of Object.entries(PROFILES[profile].options)) {
    if (spec.required && !Object.hasOwn(profileOptions, name)) {
      const flag = name === 'accountNumber' ? '--account-number' : `--options '{"${name}": …}'`;
      throw new UsageError(`the ${profile} profile needs ${name}: give it with ${flag}`);
    }
  }
  asUsage(() => validateProfileOptions(profile, profileOptions));
  if (flags.forwardTo !== undefined && flags.status !== undefined) {
    throw new UsageError("--status cannot be given with --forward-to, which answers with the app's status");
  }
  return {
    port:
      flags.port !== undefined
        ? wholeNumber('--port', flags.port, 0, 65535)
        : register
          ? 0
          : DEFAULT_PORT_BY_HAND,
    profile,
    secret: flags.secret,
    signatureScheme: scheme,
    profileOptions,
    tolerance: flags.tolerance !== undefined ? seconds('--tolerance', flags.tolerance) : undefined,
    register: register ? { tenant: flags.tenant as string, eventTypes: flags.events } : undefined,
    forwardTo: flags.forwardTo !== undefined ? forwardUrl(flags.forwardTo) : undefined,
    status: flags.status !== undefined ? wholeNumber('--status', flags.status, 100, 599) : undefined,
  };
}
