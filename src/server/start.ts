/**
 * Starts a Herald process: opens storage, migrates, then runs the roles asked for — the HTTP API,
 * the dispatcher (with the maintenance jobs), or both (`herald serve`). Every process listens on
 * `host:port`: the API (with /healthz, /readyz, /metrics), or, in a worker, only those three
 * (ops-server.ts). `stop()` drains: the API stops accepting, the dispatcher stops claiming and
 * finishes or releases what it holds; a worker's /readyz answers 503 while it drains and its port
 * closes last.
 */
import { buildApp } from '../api/app.ts';
import type { AppContext } from '../api/context.ts';
import type { Config } from '../config/config.ts';
import { systemClock } from '../core/clock.ts';
import { migrate } from '../db/migrate.ts';
import { createDispatcher, type DispatcherConfig } from '../delivery/dispatcher.ts';
import { createMaintenance } from '../delivery/maintenance.ts';
import { createOperationalPump } from '../delivery/operational-pump.ts';
import { startSenderThread } from '../delivery/sender-thread.ts';
import { createMetrics, type HeraldMetrics } from '../metrics/metrics.ts';
import { createAddressPolicy } from '../security/address-policy.ts';
import { hashKey } from '../security/api-keys.ts';
import { createGuardedAgent } from '../security/guarded-dispatcher.ts';
import { createSecretBox } from '../security/secret-box.ts';
import { startTracing } from '../tracing/tracing.ts';
import { readTracingConfig } from '../tracing/tracing-config.ts';
import { createLogger, loggerOptions } from './logger.ts';
import { openStorage } from './open-storage.ts';
import { listenOps } from './ops-server.ts';
import { checkListenAddress, databaseError, listenError } from './startup-error.ts';

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface StartOptions {
  /** Dispatcher tuning (tests and benchmarks). */
  dispatcher?: Partial<DispatcherConfig>;
  /** How long a stop waits for in-flight deliveries before releasing them. */
  drainMs?: number;
  /** Where the OTEL_* tracing variables are read (tests); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface RunningHerald {
  /** The address this process listens on: the API's, or a worker's /healthz, /readyz and /metrics. */
  url?: string;
  ctx: AppContext;
  stop(): Promise<void>;
}

export async function startHerald(
  config: Config,
  roles: Roles,
  options: StartOptions = {},
): Promise<RunningHerald> {
  const log = createLogger(config.logLevel, config.logFormat);
  // The standard OTEL_* variables (src/tracing/): a bad one stops the start before anything is made.
  const tracingConfig = readTracingConfig(options.env ?? process.env);
  // Before anything is created: a port in use must not leave a data directory or keys behind.
  await checkListenAddress(config.host, config.port);
  const storage = await openStorage(config, {
    onError: (err) => log.warn({ err }, 'database connection error'),
    // Nothing can be committed any more; what was is in the data directory. Exit, so the
    // supervisor starts Herald again (deliveries out now are sent again after their lease).
    onLost: (err) => {
      log.fatal({ err }, 'the embedded database thread ended; exiting');
      process.exit(1);
    },
  }).catch((err: unknown) => {
    throw (config.databaseUrl && databaseError(err, config.databaseUrl)) || err;
  });
  const stoppers: Array<() => Promise<void>> = [() => storage.close()];
  const stop = async () => {
    for (const fn of stoppers.splice(0).reverse()) await fn();
  };
  try {
    // Before the API and the dispatcher, so their spans have a tracer; stopped after them (stoppers
    // run in reverse), exporting the spans of the drain too.
    stoppers.push(await startTracing(tracingConfig, log.child({ role: 'tracing' })));
    const applied = await migrate(storage.db).catch((err: unknown) => {
      throw (config.databaseUrl && databaseError(err, config.databaseUrl)) || err;
    });
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    if (storage.generatedAdminKey) {
      // Printed once, on the start that generated it; it stays readable in the data directory.
      process.stdout.write(
        `\nHerald admin key (generated, kept in ${storage.generatedAdminKey.file}):\n\n  ${storage.generatedAdminKey.key}\n\n`,
      );
    }
    // Delivery counters only where deliveries are made (src/metrics/metrics.ts); queue gauges everywhere.
    const workerMetrics = roles.worker
      ? createMetrics({ db: storage.db, processMetrics: true, deliveries: true })
      : undefined;
    const metrics: HeraldMetrics = workerMetrics ?? createMetrics({ db: storage.db, processMetrics: true });
    const ctx: AppContext = {
      db: storage.db,
      config,
      adminKeyHash: hashKey(storage.adminKey),
      secretBox: createSecretBox(storage.encryptionKey, config.encryptionKeyPrevious),
      clock: systemClock,
      metrics,
      // Not ready until the dispatcher runs (it replaces this once created).
      ...(roles.worker ? { dispatcher: { running: false } } : {}),
    };

    let url: string | undefined;
    if (!roles.api) {
      // Listening before the dispatcher starts, and stopped after it drained (stoppers run in
      // reverse): /readyz says 503 through both, /healthz and /metrics answer throughout.
      const ops = await listenOps({
        host: config.host,
        port: config.port,
        metrics,
        readiness: ctx,
        log: log.child({ role: 'ops' }),
      });
      url = ops.url;
      stoppers.push(() => ops.close());
    }

    if (roles.worker) {
      const policy = createAddressPolicy({
        allowPrivateNetworks: config.allowPrivateNetworks,
        allowedNetworks: config.allowedNetworks,
      });
      // As many sockets per origin as requests the dispatcher can have out: a request never waits in
      // undici's queue for a socket while its total timeout runs (endpoints sharing a host would
      // otherwise time out queued). What one endpoint gets is capped by maxInFlightPerEndpoint.
      const connections = options.dispatcher?.concurrency ?? config.concurrency;
      const agent = createGuardedAgent({ policy, keepAliveTimeout: 30_000, connections });
      const dispatcherLog = log.child({ role: 'dispatcher' });
      // Webhook requests on a thread of their own (docs/decisions.md, "Webhook requests on a sender
      // thread"); the agent above then serves OAuth token requests only.
      const sender = config.senderThread
        ? await startSenderThread(
            {
              policy: {
                allowPrivateNetworks: config.allowPrivateNetworks,
                allowedNetworks: config.allowedNetworks,
              },
              connections,
              keepAliveTimeoutMs: 30_000,
            },
            {
              // Every request would fail from now on; exit so the supervisor starts Herald again
              // (deliveries out now are sent again after their lease).
              onLost: (err) => {
                log.fatal({ err }, 'the sender thread ended; exiting');
                process.exit(1);
              },
            },
          )
        : undefined;
      if (sender) stoppers.push(() => sender.close());
      const dispatcher = createDispatcher({
        ...(sender ? { sender } : {}),
        db: storage.db,
        secretBox: ctx.secretBox,
        agent,
        agentForConnectTimeout: (connectTimeoutMs) =>
          createGuardedAgent({ policy, connectTimeoutMs, keepAliveTimeout: 30_000, connections }),
        ...(workerMetrics ? { metrics: workerMetrics } : {}),
        logger: dispatcherLog,
        config: {
          concurrency: config.concurrency,
          maxInFlightPerEndpoint: config.maxInFlightPerEndpoint,
          maxInFlightPerTenant: config.maxInFlightPerTenant,
          claimAhead: config.claimAhead,
          circuitFailureThreshold: config.circuitFailureThreshold,
          circuitCooldownMs: config.circuitCooldownSeconds * 1000,
          circuitMaxCooldownMs: config.circuitMaxCooldownSeconds * 1000,
          leaseMs: config.leaseSeconds * 1000,
          ...options.dispatcher,
        },
      });
      const maintenance = createMaintenance({
        db: storage.db,
        workerId: dispatcher.workerId,
        config: { retentionDays: config.retentionDays, disableAfterSeconds: config.disableAfterSeconds },
        logger: log.child({ role: 'maintenance' }),
      });
      // Herald's own events, from the outbox to the operator's operational webhooks.
      const operationalPump = createOperationalPump({
        db: storage.db,
        handoff: dispatcher.handoff,
        logger: log.child({ role: 'operational-events' }),
      });
      ctx.dispatcher = dispatcher;
      await dispatcher.start();
      maintenance.start();
      operationalPump.start();
      ctx.handoff = dispatcher.handoff;
      stoppers.push(async () => {
        await operationalPump.stop();
        await maintenance.stop();
        await dispatcher.stop({ graceMs: options.drainMs ?? 10_000 });
        await agent.close();
      });
    }

    if (roles.api) {
      const app = await buildApp(ctx, { logger: loggerOptions(config.logLevel, config.logFormat) });
      url = await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
        throw listenError(err, config.host, config.port) ?? err;
      });
      stoppers.push(() => app.close());
    }
    return { ...(url ? { url } : {}), ctx, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
