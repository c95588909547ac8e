/**
 * The `standard` profile: Standard Webhooks (https://www.standardwebhooks.com), Herald's default.
 *
 * Body `{"type","timestamp","data"}`; headers `webhook-id` (the event id, the same on every retry, so
 * receivers can deduplicate), `webhook-timestamp` (unix seconds at sending), and `webhook-signature`:
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64-decoded `whsec_` secret, or —
 * for an endpoint whose secret is an Ed25519 `whsk_` key — `v1a,<base64 Ed25519 signature>` of the
 * same content (src/profiles/ed25519-keys.ts). One space-separated signature per live secret, each
 * of its own kind, so receivers holding either key verify during rotation (even from HMAC to Ed25519).
 */
import { createHmac } from 'node:crypto';
import { ed25519Signature, isEd25519Secret } from './ed25519-keys.ts';
import type { Profile, RenderedRequest, RenderInput } from './profile.ts';
import { onlyEvent, unixSeconds } from './render-helpers.ts';

/** The HMAC key of a Standard Webhooks secret: the base64 after the optional `whsec_` prefix. */
const decodedKeys = new Map<string, Buffer>();

export function standardKey(secret: string): Buffer {
  let key = decodedKeys.get(secret);
  if (!key) {
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    // Every request of an endpoint signs with the same key: decode it once (bounded, like the
    // dispatcher's cache of opened secrets).
    if (decodedKeys.size >= 10_000) decodedKeys.clear();
    decodedKeys.set(secret, key);
  }
  return key;
}

/**
 * One `v1,` signature.
 *
 * @example standardSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1614265330, '{"test": 2432232314}')
 */
export function standardSignature(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Buffer,
): string {
  const mac = createHmac('sha256', standardKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export const standardProfile: Profile = {
  name: 'standard',
  label: 'Standard Webhooks (default)',
  ownedHeaders: [
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'herald-event-type',
    'herald-sequence',
    'herald-attempt',
  ],
  options: {},
  render(input: RenderInput): RenderedRequest {
    const { endpoint, sequence, attempt, clock } = input;
    // Standard Webhooks has one event per message; publishing creates one delivery per event for it.
    const event = onlyEvent(input, 'standard');
    const body = JSON.stringify({
      type: event.type,
      timestamp: (event.occurredAt ?? event.createdAt).toISOString(),
      data: event.data,
    });
    const timestamp = unixSeconds(clock);
    const secrets = [
      endpoint.secrets.current,
      ...(endpoint.secrets.previous ? [endpoint.secrets.previous] : []),
    ];
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': secrets
          .map((s) =>
            isEd25519Secret(s)
              ? ed25519Signature(s, event.id, timestamp, body)
              : standardSignature(s, event.id, timestamp, body),
          )
          .join(' '),
        'herald-event-type': event.type,
        'herald-sequence': String(sequence),
        'herald-attempt': String(attempt),
      },
    };
  },
};
