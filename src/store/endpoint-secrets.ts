/**
 * An endpoint's signing secret: what its receivers verify with, read back on request, and rotated
 * with an overlap during which the old key signs beside the new one. Sealed at rest like the rest
 * of the endpoint (src/security/secret-box.ts); an Ed25519 endpoint answers its `whpk_` public key.
 */
import { type Db, one, type Queryable } from '../db/db.ts';
import {
  publicKeyColumn,
  receiverKey,
  resolveSecret,
  type SignatureScheme,
} from '../endpoints/endpoint-secret.ts';
import type { ProfileName } from '../profiles/profile-names.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { endpointNotFound } from './endpoints.ts';

/**
 * What receivers of the endpoint verify with, in plain text: its current signing secret, or the
 * `whpk_` public key of its Ed25519 secret key.
 */
export async function getEndpointSecret(
  q: Queryable,
  box: SecretBox,
  tenantId: string,
  id: string,
): Promise<string> {
  const row = await one<{ secret_enc: string; profile: ProfileName }>(
    q,
    'SELECT secret_enc, profile FROM endpoints WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  if (!row) throw await endpointNotFound(q, tenantId);
  return receiverKey(box.open(row.secret_enc), row.profile);
}

/** How long a rotated-out secret keeps signing alongside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/**
 * Replaces the endpoint's secret and answers what receivers verify with from now on (the secret,
 * or an Ed25519 key's `whpk_` public key). The old one keeps signing alongside (Standard Webhooks
 * lists both signatures, each of its own scheme) until `now + ROTATION_OVERLAP_MS`, so receivers
 * can switch without dropping requests. Rotating again during an overlap replaces the older key.
 * Without a secret or a scheme, the new key is generated in the endpoint's current scheme.
 */
export async function rotateEndpointSecret(
  db: Db,
  box: SecretBox,
  tenantId: string,
  id: string,
  input: { secret: string | undefined; signatureScheme?: SignatureScheme | undefined; now: Date },
): Promise<string> {
  return db.transaction(async (tx) => {
    const row = await one<{ secret_enc: string; profile: ProfileName; public_key: string | null }>(
      tx,
      'SELECT secret_enc, profile, public_key FROM endpoints WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
      [tenantId, id],
    );
    if (!row) throw await endpointNotFound(tx, tenantId);
    const secret = resolveSecret(input, row.profile, row.public_key === null ? 'hmac-sha256' : 'ed25519');
    await tx.query(
      `UPDATE endpoints SET secret_enc = $3, previous_secret_enc = $4, previous_secret_until = $5,
         public_key = $6, updated_at = now()
       WHERE tenant_id = $1 AND id = $2`,
      [
        tenantId,
        id,
        box.seal(secret),
        row.secret_enc,
        new Date(input.now.getTime() + ROTATION_OVERLAP_MS),
        publicKeyColumn(secret, row.profile),
      ],
    );
    return receiverKey(secret, row.profile);
  });
}
