/**
 * The process's tracer: started from the environment (tracing-config.ts) when tracing is on, else
 * nothing at all. The OpenTelemetry SDK is imported dynamically, only when on, so `herald --help`,
 * the CLI's client commands and an untraced `serve` never load it; the type imports below vanish
 * when compiled.
 *
 * Hot paths ask {@link activeTracing} and do nothing more when it answers null: no span objects,
 * no contexts. Spans are created with explicit parents (spans.ts), so no context manager and no
 * global provider is registered: nothing here changes how the rest of the process runs.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './tracing-config.ts';

/** What spans.ts needs of a running tracer. */
export interface Tracing {
  readonly tracer: OtelApi.Tracer;
  /** @opentelemetry/api, loaded: its enums and context functions. */
  readonly api: typeof OtelApi;
  /** A TraceState from `tracestate` header text (the SDK's parser). */
  traceState(text: string): OtelApi.TraceState;
  /** Exports every span ended so far; resolves when the exporter has answered. */
  forceFlush(): Promise<void>;
}

export interface TracingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silent: TracingLogger = { info() {}, warn() {} };

/** Longest a stop waits for the last spans to be exported: a drain must not hang on a dead collector. */
const STOP_TIMEOUT_MS = 5_000;
/** Export failures are logged at most once per this long (the collector may be down for hours). */
const EXPORT_WARNING_INTERVAL_MS = 60_000;

let active: Tracing | null = null;

/** The running tracer, or null when tracing is off: all a hot path checks. */
export function activeTracing(): Tracing | null {
  return active;
}

function samplerOf(config: TracingConfig, sdk: typeof import('@opentelemetry/sdk-trace-base')): Sampler {
  const ratio = () => new sdk.TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: ratio() });
  }
}

/** The exporter, with failures logged (the SDK reports them only to a diagnostic logger). */
function watched(exporter: SpanExporter, log: TracingLogger, url: string): SpanExporter {
  let lastWarning = -Infinity;
  let failed = 0;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          failed += spans.length;
          const now = performance.now();
          if (now - lastWarning >= EXPORT_WARNING_INTERVAL_MS) {
            lastWarning = now;
            log.warn(
              { err: result.error, url, spansLost: failed },
              'trace export failed; spans were dropped',
            );
            failed = 0;
          }
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * Starts tracing with `config` (from readTracingConfig; null: off) and answers how to stop it:
 * stopping exports what is left, waiting at most 5 s. While one tracer runs, another start does
 * nothing (and its stop neither).
 *
 * @example const stop = await startTracing(readTracingConfig(process.env), log); … await stop()
 */
export async function startTracing(
  config: TracingConfig | null,
  log: TracingLogger = silent,
): Promise<() => Promise<void>> {
  if (config === null || active !== null) return async () => {};
  const [api, core, sdk, otlp, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  type ExporterOptions = ConstructorParameters<typeof otlp.OTLPTraceExporter>[0];
  const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  const exporter = new otlp.OTLPTraceExporter({
    url: config.url,
    headers: config.headers,
    ...(config.timeoutMillis !== undefined ? { timeoutMillis: config.timeoutMillis } : {}),
    ...(config.compression !== undefined
      ? { compression: config.compression as NonNullable<ExporterOptions>['compression'] }
      : {}),
  });
  const provider = new sdk.BasicTracerProvider({
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ 'service.version': version, ...config.resource })),
    sampler: samplerOf(config, sdk),
    spanProcessors: [new sdk.BatchSpanProcessor(watched(exporter, log, config.url), config.batch)],
  });
  const tracing: Tracing = {
    tracer: provider.getTracer('herald', version),
    api,
    traceState: (text) => new core.TraceState(text),
    forceFlush: () => provider.forceFlush(),
  };
  active = tracing;
  for (const note of config.notes) log.warn({}, note);
  log.info(
    { url: config.url, sampler: config.sampler, serviceName: config.resource['service.name'] },
    'tracing on: exporting spans over OTLP/HTTP',
  );
  return async () => {
    if (active !== tracing) return;
    active = null;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const done = await Promise.race([provider.shutdown().then(() => 'done' as const), timedOut]).catch(
      (err: unknown) => {
        log.warn({ err }, 'tracing did not shut down cleanly');
        return 'done' as const;
      },
    );
    clearTimeout(timer);
    if (done === 'timeout') log.warn({ url: config.url }, 'the last spans were not exported in time');
  };
}
