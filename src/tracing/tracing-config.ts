/**
 * Tracing's settings, from the standard OpenTelemetry environment variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/). Read here,
 * from the environment given, rather than left to the SDK: the SDK reads only `process.env`, and on
 * a bad value it logs through a diagnostic logger nobody registered and carries on with a default.
 * Herald's rule for a bad setting is one line naming it and exit code 2 (ConfigError), and these
 * are checked before the SDK is loaded at all.
 *
 * Tracing is off — nothing loaded, nothing exported — unless an OTLP endpoint is set, and off again
 * when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
import { ConfigError } from '../config/option-values.ts';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface TracingConfig {
  /** Where spans are sent: OTLP/HTTP, JSON encoded. */
  url: string;
  /** Sent with every export (credentials of a hosted backend, say). */
  headers: Record<string, string>;
  timeoutMillis?: number;
  compression?: 'gzip' | 'none';
  sampler: SamplerName;
  /** The ratio of the `traceidratio` samplers, 0–1. */
  samplerRatio: number;
  /** The batch span processor's settings; absent ones keep the SDK's defaults. */
  batch: {
    scheduledDelayMillis?: number;
    exportTimeoutMillis?: number;
    maxQueueSize?: number;
    maxExportBatchSize?: number;
  };
  /** Resource attributes: OTEL_RESOURCE_ATTRIBUTES, with `service.name` (default `herald`). */
  resource: Record<string, string>;
  /** What is honoured differently than asked, for the log. */
  notes: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** An environment variable's value; the spec treats an empty value as unset. */
function get(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The first of `names` that is set, with its name. */
function first(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = get(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, 'must be an http:// or https:// URL (Herald exports OTLP over HTTP)');
  }
  return url;
}

/** The traces URL: the signal's own endpoint as given, else the general one plus `v1/traces`. */
function tracesUrl(env: Env): string | undefined {
  const own = get(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (own !== undefined) return httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', own).href;
  const general = get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (general === undefined) return undefined;
  const base = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', general).href;
  return `${base}${base.endsWith('/') ? '' : '/'}v1/traces`;
}

/**
 * `key=value,key2=value2` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES are written.
 */
function keyValues(env: Env, name: string): Record<string, string> {
  const raw = get(env, name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const item of raw.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (key === '') throw new ConfigError(name, `"${item.trim()}" is not key=value`);
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `the value of ${key} is not valid percent-encoding`);
    }
  }
  return out;
}

function headersOf(env: Env): Record<string, string> {
  const headers = {
    ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...keyValues(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  for (const [key, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\r\n\0]/.test(value)) {
      throw new ConfigError('OTEL_EXPORTER_OTLP_HEADERS', `"${key}" cannot be sent as a header`);
    }
  }
  return headers;
}

/** A whole number within bounds, or undefined when unset. */
function integer(env: Env, name: string, min: number): number | undefined {
  const raw = get(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(name, `must be a whole number ≥ ${min} (got "${raw}")`);
  }
  return n;
}

function samplerOf(env: Env): { sampler: SamplerName; ratio: number } {
  const raw = get(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on';
  if (!SAMPLERS.includes(raw as SamplerName)) {
    throw new ConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')} (got "${raw}")`);
  }
  const sampler = raw as SamplerName;
  const arg = get(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (!sampler.endsWith('traceidratio') || arg === undefined) return { sampler, ratio: 1 };
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1 (got "${arg}")`);
  }
  return { sampler, ratio };
}

/** Whether tracing is on in this environment (see the module comment). */
export function tracingWanted(env: Env): boolean {
  if (get(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return false;
  const exporters = get(env, 'OTEL_TRACES_EXPORTER')?.split(',');
  if (exporters?.some((e) => e.trim().toLowerCase() === 'none')) return false;
  return (
    get(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined ||
    get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined
  );
}

/**
 * Tracing's settings, or null when tracing is off. Throws ConfigError naming the variable on a bad
 * value — only when tracing is on: a leftover variable cannot stop a Herald that does not trace.
 *
 * @example readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })?.url // 'http://127.0.0.1:4318/v1/traces'
 */
export function readTracingConfig(env: Env): TracingConfig | null {
  if (!tracingWanted(env)) return null;
  const notes: string[] = [];
  const exporters = get(env, 'OTEL_TRACES_EXPORTER');
  for (const e of exporters?.split(',') ?? []) {
    if (e.trim().toLowerCase() !== 'otlp') {
      throw new ConfigError(
        'OTEL_TRACES_EXPORTER',
        `Herald exports traces with otlp only (or none to turn them off); got "${e.trim()}"`,
      );
    }
  }
  const protocol = first(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol && protocol.value !== 'http/json') {
    // Every OTLP/HTTP receiver takes JSON on the same URL as protobuf; gRPC is another protocol
    // on another port, which this exporter cannot speak.
    if (protocol.value !== 'http/protobuf') {
      throw new ConfigError(
        protocol.name,
        `Herald exports OTLP over HTTP as JSON (http/json); got "${protocol.value}"`,
      );
    }
    notes.push(
      `${protocol.name}=http/protobuf: spans are sent as http/json, which OTLP/HTTP receivers also accept`,
    );
  }
  const url = tracesUrl(env)!;
  const timeout = first(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT');
  const compression = first(env, 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (compression && compression.value !== 'gzip' && compression.value !== 'none') {
    throw new ConfigError(compression.name, `must be gzip or none (got "${compression.value}")`);
  }
  const { sampler, ratio } = samplerOf(env);
  const batch = {
    scheduledDelayMillis: integer(env, 'OTEL_BSP_SCHEDULE_DELAY', 0),
    exportTimeoutMillis: integer(env, 'OTEL_BSP_EXPORT_TIMEOUT', 1),
    maxQueueSize: integer(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1),
    maxExportBatchSize: integer(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1),
  };
  if ((batch.maxExportBatchSize ?? 512) > (batch.maxQueueSize ?? 2048)) {
    throw new ConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'must not be more than OTEL_BSP_MAX_QUEUE_SIZE');
  }
  const resource = keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES');
  // OTEL_SERVICE_NAME wins over a service.name in the attributes (the spec's order).
  resource['service.name'] = get(env, 'OTEL_SERVICE_NAME') ?? resource['service.name'] ?? 'herald';
  return {
    url,
    headers: headersOf(env),
    ...(timeout ? { timeoutMillis: integer(env, timeout.name, 1)! } : {}),
    ...(compression ? { compression: compression.value as 'gzip' | 'none' } : {}),
    sampler,
    samplerRatio: ratio,
    batch: Object.fromEntries(Object.entries(batch).filter(([, v]) => v !== undefined)),
    resource,
    notes,
  };
}
