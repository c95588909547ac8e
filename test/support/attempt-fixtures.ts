/** Attempt rows with chosen times and outcomes, for the stats routes' tests. */

import { newId } from '../../src/core/ids.ts';
import type { Queryable } from '../../src/db/db.ts';

export interface AttemptFixture {
  at: Date;
  durationMs: number;
  statusCode?: number | null;
  errorKind?: string | null;
}

export async function insertAttempts(
  q: Queryable,
  d: { tenantId: string; endpointId: string; deliveryId: string },
  attempts: AttemptFixture[],
): Promise<void> {
  let n = 0;
  for (const a of attempts) {
    n++;
    await q.query(
      `INSERT INTO attempts (id, delivery_id, tenant_id, endpoint_id, attempt_number, started_at, duration_ms,
         status_code, error_kind, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6)`,
      [
        newId('atm'),
        d.deliveryId,
        d.tenantId,
        d.endpointId,
        n,
        a.at,
        a.durationMs,
        a.statusCode === undefined ? 200 : a.statusCode,
        a.errorKind ?? null,
      ],
    );
  }
}
