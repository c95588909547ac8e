/**
 * Configuration: one table of options, read from flags or the environment (flags win), validated
 * at start. A bad value is a ConfigError naming the option; the CLI prints it on one line and
 * exits with code 2.
 */
import {
  base64Key,
  base64KeyList,
  boolean,
  branded,
  ConfigError,
  cidrList,
  integer,
  nonEmpty,
  parseDuration,
} from './option-values.ts';
import { accentColorProblem, frameAncestors, logoUrlProblem, portalNameProblem } from './portal-branding.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** `auto`: a readable line per record when stdout is a terminal, JSON lines otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  adminKey: string | undefined;
  allowPrivateNetworks: boolean;
  allowedNetworks: string[];
  encryptionKey: string | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** How long an endpoint may fail continuously before it is disabled, in seconds. */
  disableAfterSeconds: number;
  retentionDays: number;
  maxEndpointsPerTenant: number;
  /** Most unrevoked API keys one tenant may hold. */
  maxApiKeysPerTenant: number;
  /** Deliveries one tenant's publishes may create per second, on average; 0 = no limit. */
  deliveryRateLimit: number;
  /** Old encryption keys: they still decrypt, never encrypt (during a key rotation). */
  encryptionKeyPrevious: string[];
  /** Requests per second per tenant and per tenant key (and per client IP without a key); 0 = no limit. */
  apiRateLimit: number;
  /** Requests a key may make at once before the per-second rate applies; 0 = twice the rate. */
  apiRateLimitBurst: number;
  /** Requests per second for the admin key; 0 = no limit (the operator's own publishers). */
  adminRateLimit: number;
  /** Most request headers one request may carry. */
  maxHeaderCount: number;
  /** Most bytes of request headers (names and values) one request may carry. */
  maxHeaderBytes: number;
  /** Most delivery requests in flight at once to one endpoint, across all workers. */
  maxInFlightPerEndpoint: number;
  /** Most delivery requests in flight at once for one tenant, across all workers. */
  maxInFlightPerTenant: number;
  /** Limits' worth of one endpoint's deliveries a worker may hold claimed (docs/isolation.md). */
  claimAhead: number;
  /** Most delivery requests one worker process has in flight at once. */
  concurrency: number;
  /** Whether webhook requests are made on a thread of their own (src/delivery/sender-thread.ts). */
  senderThread: boolean;
  /** Consecutive failed attempts that open an endpoint's circuit. */
  circuitFailureThreshold: number;
  /** How long an endpoint's circuit first stays open, in seconds (doubled on each failed probe). */
  circuitCooldownSeconds: number;
  /** The longest an endpoint's circuit stays open before its next probe, in seconds. */
  circuitMaxCooldownSeconds: number;
  /** A claim's lease on top of the endpoint's total timeout, in seconds. */
  leaseSeconds: number;
  /** Origins that may frame the tenant portal (CSP frame-ancestors); none by default. */
  portalFrameAncestors: string[];
  /** The portal's default branding (src/config/portal-branding.ts); a portal session may override it. */
  portalName: string;
  portalLogoUrl: string | undefined;
  portalAccentColor: string | undefined;
}

interface OptionSpec<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  description: string;
  default: Config[K];
  parse: (raw: string, name: string) => Config[K];
  /** A duration in seconds: accepted as `5d`, `12h`, `30m`, `90s` or seconds, shown as formatDuration writes it. */
  duration?: true;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

export const OPTIONS = [
  {
    key: 'port',
    env: 'PORT',
    flag: 'port',
    description: 'port the API listens on (herald worker: /healthz, /readyz and /metrics)',
    default: 8080,
    parse: integer(0, 65535),
  } satisfies OptionSpec<'port'>,
  {
    key: 'host',
    env: 'HOST',
    flag: 'host',
    description: 'address the API listens on (herald worker: its /healthz, /readyz and /metrics)',
    default: '127.0.0.1',
    parse: nonEmpty,
  } satisfies OptionSpec<'host'>,
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    flag: 'database-url',
    description: 'PostgreSQL connection string; unset = embedded PGlite',
    default: undefined,
    parse: (raw, name) => {
      if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(name, 'must start with postgres://');
      return raw;
    },
  } satisfies OptionSpec<'databaseUrl'>,
  {
    key: 'dataDir',
    env: 'HERALD_DATA_DIR',
    flag: 'data-dir',
    description: 'embedded data directory',
    default: './herald-data',
    parse: nonEmpty,
  } satisfies OptionSpec<'dataDir'>,
  {
    key: 'adminKey',
    env: 'HERALD_ADMIN_KEY',
    flag: 'admin-key',
    description: 'operator key; generated once in embedded mode, required with DATABASE_URL',
    default: undefined,
    parse: (raw, name) => {
      if (raw.length < 16) throw new ConfigError(name, 'must be at least 16 characters');
      return raw;
    },
  } satisfies OptionSpec<'adminKey'>,
  {
    key: 'allowPrivateNetworks',
    env: 'HERALD_ALLOW_PRIVATE_NETWORKS',
    flag: 'allow-private-networks',
    description: 'allow delivery to loopback/private addresses (development, tests)',
    default: false,
    parse: boolean,
  } satisfies OptionSpec<'allowPrivateNetworks'>,
  {
    key: 'allowedNetworks',
    env: 'HERALD_ALLOWED_NETWORKS',
    flag: 'allowed-networks',
    description: 'comma-separated CIDRs that may be delivered to even though they are not public',
    default: [],
    parse: cidrList,
  } satisfies OptionSpec<'allowedNetworks'>,
  {
    key: 'encryptionKey',
    env: 'HERALD_ENCRYPTION_KEY',
    flag: 'encryption-key',
    description: 'base64 32-byte key that encrypts secrets at rest; generated once in embedded mode',
    default: undefined,
    parse: base64Key,
  } satisfies OptionSpec<'encryptionKey'>,
  {
    key: 'encryptionKeyPrevious',
    env: 'HERALD_ENCRYPTION_KEY_PREVIOUS',
    flag: 'encryption-key-previous',
    description: 'comma-separated old encryption keys that still decrypt (while rotating the key)',
    default: [],
    parse: base64KeyList,
  } satisfies OptionSpec<'encryptionKeyPrevious'>,
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    flag: 'log-level',
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: (raw, name) => {
      if (!LOG_LEVELS.includes(raw as LogLevel)) throw new ConfigError(name, `"${raw}" is not a log level`);
      return raw as LogLevel;
    },
  } satisfies OptionSpec<'logLevel'>,
  {
    key: 'logFormat',
    env: 'HERALD_LOG_FORMAT',
    flag: 'log-format',
    description: 'auto (readable lines on a terminal, JSON lines otherwise), json or pretty',
    default: 'auto',
    parse: (raw, name) => {
      if (!LOG_FORMATS.includes(raw as LogFormat))
        throw new ConfigError(name, `"${raw}" is not one of ${LOG_FORMATS.join(', ')}`);
      return raw as LogFormat;
    },
  } satisfies OptionSpec<'logFormat'>,
  {
    key: 'disableAfterSeconds',
    env: 'HERALD_DISABLE_AFTER',
    flag: 'disable-after',
    description: 'disable an endpoint after failing continuously this long',
    default: 5 * 86400,
    parse: parseDuration,
    duration: true,
  } satisfies OptionSpec<'disableAfterSeconds'>,
  {
    key: 'retentionDays',
    env: 'HERALD_RETENTION_DAYS',
    flag: 'retention-days',
    description: 'days to keep event payloads and attempts',
    default: 30,
    parse: integer(1, 36500),
  } satisfies OptionSpec<'retentionDays'>,
  {
    key: 'maxEndpointsPerTenant',
    env: 'HERALD_MAX_ENDPOINTS_PER_TENANT',
    flag: 'max-endpoints-per-tenant',
    description: 'most endpoints one tenant may have',
    default: 1000,
    parse: integer(1, 1_000_000),
  } satisfies OptionSpec<'maxEndpointsPerTenant'>,
  {
    key: 'maxApiKeysPerTenant',
    env: 'HERALD_MAX_API_KEYS_PER_TENANT',
    flag: 'max-api-keys-per-tenant',
    description: 'most unrevoked API keys one tenant may hold',
    default: 100,
    parse: integer(1, 100_000),
  } satisfies OptionSpec<'maxApiKeysPerTenant'>,
  {
    key: 'deliveryRateLimit',
    env: 'HERALD_DELIVERY_RATE_LIMIT',
    flag: 'delivery-rate-limit',
    description:
      "deliveries one tenant's publishes may create per second on average (bursts up to 5 seconds' worth); 0 = off",
    default: 20000,
    parse: integer(0, 10_000_000),
  } satisfies OptionSpec<'deliveryRateLimit'>,
  {
    key: 'apiRateLimit',
    env: 'HERALD_API_RATE_LIMIT',
    flag: 'api-rate-limit',
    description:
      'API requests per second per tenant (all its keys together, and each key alone), and per client IP without a key; 0 = off',
    default: 100,
    parse: integer(0, 1_000_000),
  } satisfies OptionSpec<'apiRateLimit'>,
  {
    key: 'apiRateLimitBurst',
    env: 'HERALD_API_RATE_LIMIT_BURST',
    flag: 'api-rate-limit-burst',
    description: 'requests a key may make at once on top of the rate; 0 = twice the rate',
    default: 0,
    parse: integer(0, 10_000_000),
  } satisfies OptionSpec<'apiRateLimitBurst'>,
  {
    key: 'adminRateLimit',
    env: 'HERALD_ADMIN_RATE_LIMIT',
    flag: 'admin-rate-limit',
    description: 'API requests per second for the admin key; 0 = off',
    default: 0,
    parse: integer(0, 1_000_000),
  } satisfies OptionSpec<'adminRateLimit'>,
  {
    key: 'maxHeaderCount',
    env: 'HERALD_MAX_HEADERS',
    flag: 'max-headers',
    description: 'most request headers one API request may carry',
    default: 100,
    parse: integer(10, 1000),
  } satisfies OptionSpec<'maxHeaderCount'>,
  {
    key: 'maxHeaderBytes',
    env: 'HERALD_MAX_HEADER_BYTES',
    flag: 'max-header-bytes',
    description: 'most bytes of request headers one API request may carry',
    default: 16384,
    parse: integer(1024, 1_048_576),
  } satisfies OptionSpec<'maxHeaderBytes'>,
  {
    key: 'maxInFlightPerEndpoint',
    env: 'HERALD_MAX_IN_FLIGHT_PER_ENDPOINT',
    flag: 'max-in-flight-per-endpoint',
    description: 'most delivery requests out at once to one endpoint, across all workers',
    default: 64,
    parse: integer(1, 10_000),
  } satisfies OptionSpec<'maxInFlightPerEndpoint'>,
  {
    key: 'maxInFlightPerTenant',
    env: 'HERALD_MAX_IN_FLIGHT_PER_TENANT',
    flag: 'max-in-flight-per-tenant',
    description: "most delivery requests out at once for one tenant's endpoints, across all workers",
    default: 500,
    parse: integer(1, 1_000_000),
  } satisfies OptionSpec<'maxInFlightPerTenant'>,
  {
    key: 'claimAhead',
    env: 'HERALD_CLAIM_AHEAD',
    flag: 'claim-ahead',
    description:
      "how many limits' worth of one endpoint's deliveries a worker may hold claimed when it alone sends to it, fewer where its requests are slow (1: only what can start)",
    default: 8,
    parse: integer(1, 16),
  } satisfies OptionSpec<'claimAhead'>,
  {
    key: 'concurrency',
    env: 'HERALD_CONCURRENCY',
    flag: 'concurrency',
    description: 'most delivery requests one worker process has out at once',
    default: 2000,
    parse: integer(1, 100_000),
  } satisfies OptionSpec<'concurrency'>,
  {
    key: 'senderThread',
    env: 'HERALD_SENDER_THREAD',
    flag: 'sender-thread',
    description: "make webhook requests on a thread of their own, off the API's event loop",
    default: true,
    parse: boolean,
  } satisfies OptionSpec<'senderThread'>,
  {
    key: 'circuitFailureThreshold',
    env: 'HERALD_CIRCUIT_FAILURES',
    flag: 'circuit-failures',
    description: "consecutive failed attempts that open an endpoint's circuit (its deliveries then wait)",
    default: 20,
    parse: integer(1, 1_000_000),
  } satisfies OptionSpec<'circuitFailureThreshold'>,
  {
    key: 'circuitCooldownSeconds',
    env: 'HERALD_CIRCUIT_COOLDOWN',
    flag: 'circuit-cooldown',
    description:
      'how long an open circuit first waits before one probe request (doubled after each failed probe)',
    default: 30,
    parse: parseDuration,
    duration: true,
  } satisfies OptionSpec<'circuitCooldownSeconds'>,
  {
    key: 'circuitMaxCooldownSeconds',
    env: 'HERALD_CIRCUIT_MAX_COOLDOWN',
    flag: 'circuit-max-cooldown',
    description: 'the longest an open circuit waits between probes',
    default: 600,
    parse: parseDuration,
    duration: true,
  } satisfies OptionSpec<'circuitMaxCooldownSeconds'>,
  {
    key: 'leaseSeconds',
    env: 'HERALD_LEASE',
    flag: 'lease',
    description:
      "how long a claimed delivery stays a worker's, on top of the endpoint's total timeout; a crashed worker's deliveries are sent again after it",
    default: 30,
    parse: parseDuration,
    duration: true,
  } satisfies OptionSpec<'leaseSeconds'>,
  {
    key: 'portalFrameAncestors',
    env: 'HERALD_PORTAL_FRAME_ANCESTORS',
    flag: 'portal-frame-ancestors',
    description: 'space-separated origins that may embed the tenant portal in a frame (default: none)',
    default: [],
    parse: (raw, name) => {
      const r = frameAncestors(raw);
      if ('problem' in r) throw new ConfigError(name, r.problem);
      return r.origins;
    },
  } satisfies OptionSpec<'portalFrameAncestors'>,
  {
    key: 'portalName',
    env: 'HERALD_PORTAL_NAME',
    flag: 'portal-name',
    description: "the tenant portal's title: your product's name",
    default: 'Webhooks',
    parse: branded(portalNameProblem),
  } satisfies OptionSpec<'portalName'>,
  {
    key: 'portalLogoUrl',
    env: 'HERALD_PORTAL_LOGO_URL',
    flag: 'portal-logo-url',
    description: "an https:// image shown beside the portal's title",
    default: undefined,
    parse: branded(logoUrlProblem),
  } satisfies OptionSpec<'portalLogoUrl'>,
  {
    key: 'portalAccentColor',
    env: 'HERALD_PORTAL_ACCENT_COLOR',
    flag: 'portal-accent-color',
    description: "the portal's accent colour, like #2450c9",
    default: undefined,
    parse: branded(accentColorProblem),
  } satisfies OptionSpec<'portalAccentColor'>,
] as const;

/**
 * Builds the configuration from flags (already parsed by the CLI, as strings) and the environment.
 *
 * @example loadConfig({ port: '9000' }, process.env)
 */
export function loadConfig(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Config {
  const config: Record<string, unknown> = {};
  for (const opt of OPTIONS) {
    const fromFlag = flags[opt.key];
    const fromEnv = env[opt.env];
    let value: unknown = opt.default;
    if (fromFlag !== undefined) {
      value = (opt.parse as (raw: string, name: string) => unknown)(String(fromFlag), `--${opt.flag}`);
    } else if (fromEnv !== undefined && fromEnv !== '') {
      value = (opt.parse as (raw: string, name: string) => unknown)(fromEnv, opt.env);
    }
    config[opt.key] = value;
  }
  const result = config as unknown as Config;
  if (result.databaseUrl && !result.adminKey) {
    throw new ConfigError('HERALD_ADMIN_KEY', 'is required when DATABASE_URL is set');
  }
  if (result.databaseUrl && !result.encryptionKey) {
    throw new ConfigError('HERALD_ENCRYPTION_KEY', 'is required when DATABASE_URL is set');
  }
  return result;
}
