/**
 * Starts a Herald process: opens storage, migrates, then runs the roles asked for — the HTTP API,
 * the dispatcher, or both (`herald serve`). SIGTERM/SIGINT drain and exit 0.
 */
import pino from 'pino';
import { buildApp } from '../api/app.ts';
import { type AppContext, systemClock } from '../api/context.ts';
import type { Config } from '../config/config.ts';
import { migrate } from '../db/migrate.ts';
import { openStorage } from '../db/open-storage.ts';
import { hashKey } from '../security/api-keys.ts';
import { createSecretBox } from '../security/secret-box.ts';
import { loggerOptions } from './logger.ts';

export interface Roles {
  api: boolean;
  worker: boolean;
}

export interface RunningHerald {
  /** The address the API listens on, when it runs. */
  url?: string;
  stop(): Promise<void>;
}

export async function startHerald(config: Config, roles: Roles): Promise<RunningHerald> {
  const log = pino(loggerOptions(config.logLevel));
  const storage = await openStorage(config, (err) => log.warn({ err }, 'database connection error'));
  const stoppers: Array<() => Promise<void>> = [() => storage.close()];
  const stop = async () => {
    for (const fn of stoppers.splice(0).reverse()) await fn();
  };
  try {
    const applied = await migrate(storage.db);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    if (storage.generatedAdminKey) {
      // Printed once, on the start that generated it; it stays readable in the data directory.
      process.stdout.write(
        `\nHerald admin key (generated, kept in ${storage.generatedAdminKey.file}):\n\n  ${storage.generatedAdminKey.key}\n\n`,
      );
    }
    const ctx: AppContext = {
      db: storage.db,
      config,
      adminKeyHash: hashKey(storage.adminKey),
      secretBox: createSecretBox(storage.encryptionKey),
      clock: systemClock,
    };
    let url: string | undefined;
    if (roles.api) {
      const app = await buildApp(ctx, { logger: loggerOptions(config.logLevel) });
      url = await app.listen({ port: config.port, host: config.host });
      stoppers.push(() => app.close());
    }
    return { ...(url ? { url } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
