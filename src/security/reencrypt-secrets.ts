/**
 * Re-encrypts every secret at rest under the current encryption key — the work of
 * `herald rotate-encryption-key`. The secret box opens values with the current key or any previous
 * one; whatever is not already under the current key is sealed again.
 *
 * Safe to re-run and to run while Herald serves: rows go in batches (one short transaction each),
 * a value already under the current key is left alone, and each update is a compare-and-set on the
 * value read, so a secret a running server changed meanwhile is not overwritten (it is counted as
 * `changedMeanwhile`; run again to pick it up). Errors name the row and column, never a value.
 */
import type { Db } from '../db/db.ts';
import type { SecretBox } from './secret-box.ts';

/** Every encrypted column, by table. A new encrypted column must be listed here. */
export const ENCRYPTED_COLUMNS = {
  endpoints: ['secret_enc', 'previous_secret_enc', 'auth_enc'],
} as const satisfies Record<string, readonly string[]>;

export interface ReencryptResult {
  /** Rows looked at. */
  rows: number;
  /** Values sealed again under the current key. */
  reencrypted: number;
  /** Values that were already under the current key. */
  current: number;
  /** Rows whose secrets changed between read and write; a re-run handles them. */
  changedMeanwhile: number;
  /** `table id column` of values no key opens (left as they are). */
  unreadable: string[];
}

export interface ReencryptOptions {
  batchSize?: number;
  /** Called after each batch (progress output). */
  onBatch?: (soFar: ReencryptResult) => void;
}

/**
 * @example const result = await reencryptSecrets(db, createSecretBox(newKey, [oldKey]));
 */
export async function reencryptSecrets(
  db: Db,
  box: SecretBox,
  options: ReencryptOptions = {},
): Promise<ReencryptResult> {
  const batchSize = options.batchSize ?? 500;
  const result: ReencryptResult = {
    rows: 0,
    reencrypted: 0,
    current: 0,
    changedMeanwhile: 0,
    unreadable: [],
  };
  for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
    const list = columns.join(', ');
    let after = '';
    for (;;) {
      const rows = await db.query<Record<string, string | null>>(
        `SELECT id, ${list} FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      await db.transaction(async (tx) => {
        for (const row of rows) {
          const id = row['id'] as string;
          const sets: string[] = [];
          const params: unknown[] = [id];
          const guards: string[] = [];
          for (const column of columns) {
            const sealed = row[column];
            if (sealed === null || sealed === undefined) continue;
            let resealed: string | undefined;
            try {
              resealed = box.reseal(sealed);
            } catch {
              result.unreadable.push(`${table} ${id} ${column}`);
              continue;
            }
            if (resealed === undefined) {
              result.current++;
              continue;
            }
            params.push(resealed, sealed);
            sets.push(`${column} = $${params.length - 1}`);
            guards.push(`${column} = $${params.length}`);
          }
          if (sets.length === 0) continue;
          const updated = await tx.query(
            `UPDATE ${table} SET ${sets.join(', ')} WHERE id = $1 AND ${guards.join(' AND ')} RETURNING id`,
            params,
          );
          if (updated.length === 1) result.reencrypted += sets.length;
          else result.changedMeanwhile++;
        }
      });
      result.rows += rows.length;
      after = rows[rows.length - 1]!['id'] as string;
      options.onBatch?.(result);
      if (rows.length < batchSize) break;
    }
  }
  return result;
}
