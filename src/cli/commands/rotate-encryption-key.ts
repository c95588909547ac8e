/**
 * `herald rotate-encryption-key`: re-encrypts every secret at rest under HERALD_ENCRYPTION_KEY,
 * reading the values still sealed with a key listed in HERALD_ENCRYPTION_KEY_PREVIOUS. The procedure
 * is in docs/security.md ("Rotating the encryption key").
 *
 * Embedded mode: the old key is also taken from the data directory's `encryption-key` file, and once
 * every value is re-encrypted the file is replaced with the new key — so a rotation interrupted
 * before that point is finished by running the same command again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../../config/config.ts';
import { ConfigError } from '../../config/option-values.ts';
import { migrate } from '../../db/migrate.ts';
import { reencryptSecrets } from '../../security/reencrypt-secrets.ts';
import { createSecretBox } from '../../security/secret-box.ts';
import { openStorage } from '../../server/open-storage.ts';

export interface CliHelpers {
  addConfigOptions(cmd: Command): Command;
  flagsOf(cmd: Command): Record<string, string | boolean | undefined>;
  fail(err: unknown): never;
}

const KEY_FILE = 'encryption-key';

/** The old keys to try, and (embedded mode) the key file to replace afterwards. */
function rotationPlan(config: Config): { previous: string[]; keyFile?: string } {
  if (!config.encryptionKey) {
    throw new ConfigError(
      'HERALD_ENCRYPTION_KEY',
      'give the new key (e.g. HERALD_ENCRYPTION_KEY="$(openssl rand -base64 32)"); the old one goes in HERALD_ENCRYPTION_KEY_PREVIOUS',
    );
  }
  const previous = config.encryptionKeyPrevious.filter((k) => k !== config.encryptionKey);
  if (config.databaseUrl) return { previous };
  const keyFile = join(config.dataDir, KEY_FILE);
  if (!existsSync(keyFile)) return { previous };
  const fileKey = readFileSync(keyFile, 'utf8').trim();
  if (fileKey !== config.encryptionKey && !previous.includes(fileKey)) previous.push(fileKey);
  return { previous, keyFile };
}

function replaceKeyFile(path: string, key: string): void {
  const tmp = `${path}.rotate.tmp`;
  writeFileSync(tmp, `${key}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Registers the command on the `herald` program (one line in src/cli/main.ts). */
export function registerRotateEncryptionKey(program: Command, cli: CliHelpers): void {
  const cmd = program
    .command('rotate-encryption-key')
    .description(
      're-encrypt secrets at rest under HERALD_ENCRYPTION_KEY, reading old values with HERALD_ENCRYPTION_KEY_PREVIOUS; safe to re-run',
    );
  cli.addConfigOptions(cmd).action(async (_opts, command: Command) => {
    let exitCode = 0;
    try {
      const config = loadConfig(cli.flagsOf(command), process.env);
      const plan = rotationPlan(config);
      const storage = await openStorage(config);
      try {
        await migrate(storage.db);
        const box = createSecretBox(storage.encryptionKey, plan.previous);
        const result = await reencryptSecrets(storage.db, box, {
          onBatch: (r) => process.stdout.write(`… ${r.rows} rows, ${r.reencrypted} values re-encrypted\n`),
        });
        process.stdout.write(
          `re-encrypted ${result.reencrypted} values, ${result.current} already under the current key, ` +
            `${result.rows} rows\n`,
        );
        if (result.unreadable.length > 0) {
          process.stderr.write(
            `herald: ${result.unreadable.length} values open with none of the keys given (left unchanged):\n` +
              result.unreadable.map((u) => `  ${u}\n`).join(''),
          );
          exitCode = 1;
        } else if (result.changedMeanwhile > 0) {
          process.stderr.write(`herald: ${result.changedMeanwhile} rows changed while running; run again\n`);
          exitCode = 1;
        } else {
          if (plan.keyFile && readFileSync(plan.keyFile, 'utf8').trim() !== config.encryptionKey) {
            replaceKeyFile(plan.keyFile, config.encryptionKey!);
            process.stdout.write(`the new key is now in ${plan.keyFile}\n`);
          }
          process.stdout.write('done: every secret is under the current key; the previous keys can go\n');
        }
      } finally {
        await storage.close();
      }
    } catch (err) {
      cli.fail(err);
    }
    process.exitCode = exitCode;
  });
}
