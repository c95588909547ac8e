/**
 * Tracing's settings from the standard OTEL_* variables (src/tracing/tracing-config.ts): off unless
 * an endpoint is set, the spec's precedence, and a bad value is a ConfigError naming it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/option-values.ts';
import { readTracingConfig, tracingWanted } from '../../src/tracing/tracing-config.ts';

const ON = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

test('off when no endpoint is set, when the SDK is disabled, or with the exporter none', () => {
  assert.equal(readTracingConfig({}), null);
  assert.equal(readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), null);
  assert.equal(readTracingConfig({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'nonsense' }), null);
  assert.equal(readTracingConfig({ ...ON, OTEL_SDK_DISABLED: 'TRUE' }), null);
  assert.equal(readTracingConfig({ ...ON, OTEL_TRACES_EXPORTER: 'none' }), null);
  assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/x' }), true);
  assert.equal(tracingWanted({ ...ON, OTEL_SDK_DISABLED: 'false' }), true);
});

test('the endpoint: the signal’s own as given, else the general one plus v1/traces', () => {
  assert.equal(readTracingConfig(ON)?.url, 'http://127.0.0.1:4318/v1/traces');
  assert.equal(
    readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' })?.url,
    'https://otel.example/base/v1/traces',
  );
  assert.equal(
    readTracingConfig({ ...ON, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:9999/custom' })?.url,
    'http://collector:9999/custom',
  );
});

test('defaults: service herald, parentbased_always_on, the SDK’s batch settings', () => {
  const c = readTracingConfig(ON)!;
  assert.deepEqual(c.resource, { 'service.name': 'herald' });
  assert.equal(c.sampler, 'parentbased_always_on');
  assert.equal(c.samplerRatio, 1);
  assert.deepEqual(c.batch, {});
  assert.deepEqual(c.headers, {});
  assert.deepEqual(c.notes, []);
});

test('headers, resource attributes, service name, sampler, batch settings, timeout, compression', () => {
  const c = readTracingConfig({
    ...ON,
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-a=1',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2',
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod%2Feu',
    OTEL_SERVICE_NAME: 'herald-eu',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_EXPORT_TIMEOUT: '1000',
    OTEL_BSP_MAX_QUEUE_SIZE: '100',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  })!;
  assert.deepEqual(c.headers, { authorization: 'Bearer abc', 'x-a': '2' });
  assert.deepEqual(c.resource, { 'service.name': 'herald-eu', 'deployment.environment': 'prod/eu' });
  assert.equal(c.sampler, 'parentbased_traceidratio');
  assert.equal(c.samplerRatio, 0.25);
  assert.deepEqual(c.batch, {
    scheduledDelayMillis: 200,
    exportTimeoutMillis: 1000,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
  });
  assert.equal(c.timeoutMillis, 3000);
  assert.equal(c.compression, 'gzip');
  assert.equal(c.notes.length, 1);
  assert.match(c.notes[0]!, /http\/json/);
  // The service name from the attributes when OTEL_SERVICE_NAME is unset.
  assert.equal(
    readTracingConfig({ ...ON, OTEL_RESOURCE_ATTRIBUTES: 'service.name=a' })!.resource['service.name'],
    'a',
  );
  for (const sampler of ['always_on', 'always_off', 'traceidratio', 'parentbased_always_off']) {
    assert.equal(readTracingConfig({ ...ON, OTEL_TRACES_SAMPLER: sampler })!.sampler, sampler);
  }
});

test('a bad value, with tracing on, is a ConfigError naming the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://127.0.0.1:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ ...ON, OTEL_TRACES_EXPORTER: 'console' }, 'OTEL_TRACES_EXPORTER'],
    [{ ...ON, OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER'],
    [{ ...ON, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ ...ON, OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY'],
    [{ ...ON, OTEL_BSP_MAX_QUEUE_SIZE: '0' }, 'OTEL_BSP_MAX_QUEUE_SIZE'],
    [
      { ...ON, OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' },
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
    ],
    [{ ...ON, OTEL_EXPORTER_OTLP_TIMEOUT: '-1' }, 'OTEL_EXPORTER_OTLP_TIMEOUT'],
    [{ ...ON, OTEL_EXPORTER_OTLP_COMPRESSION: 'br' }, 'OTEL_EXPORTER_OTLP_COMPRESSION'],
    [{ ...ON, OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ ...ON, OTEL_EXPORTER_OTLP_HEADERS: 'a=%E0%A4%A' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ ...ON, OTEL_RESOURCE_ATTRIBUTES: '=x' }, 'OTEL_RESOURCE_ATTRIBUTES'],
  ];
  for (const [env, name] of cases) {
    assert.throws(
      () => readTracingConfig(env),
      (err: unknown) =>
        err instanceof ConfigError && err.option === name && err.message.startsWith(`invalid ${name}:`),
      JSON.stringify(env),
    );
  }
});
