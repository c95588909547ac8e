/**
 * The `corrigopro` profile. CorrigoPro's receivers authenticate the request by its
 * `Authorization: Bearer` token — the endpoint's `auth` (static bearer or OAuth 2 client
 * credentials), added by the sender, not here — and identify the notification by the `Event-Type`
 * header and the body's `Header` block:
 *
 * ```
 * {"Header": {…header fields of the data, "Action", "ActionDate", "ApiVersion", "MessageId"}, …data}
 * ```
 *
 * The reading taken (docs/decisions.md, docs/profiles.md):
 * - `Action` and `Event-Type` are the event type (the document calls both "name of an action").
 * - `ActionDate` is when the event happened (`occurredAt`, else when it was published), in the .NET
 *   round-trip form of the sample: seven fractional digits, `Z`.
 * - `ApiVersion` is `profileOptions.apiVersion`, default "1.1" (the sample's).
 * - `MessageId` is a GUID, the same on every retry: the event id when it is already a UUID,
 *   otherwise a name-based (v5) UUID of it.
 * - The MessageHeader fields of the sample found at the top of the data (`WorkOrderId`, `BranchId`,
 *   `Sender`), and the fields of a `Header` object in the data, move into `Header`, before Herald's
 *   four (which win on a clash). Every other data field follows `Header` in data order.
 */
import { createHash } from 'node:crypto';
import type { Profile, RenderedRequest, RenderInput } from './profile.ts';
import { printableAscii } from './profile-option.ts';
import { dataFields, onlyEvent } from './render-helpers.ts';

export const CORRIGOPRO_DEFAULT_API_VERSION = '1.1';

/** Top-level data fields that belong in the message header (CorrigoPro's MessageHeader). */
export const CORRIGOPRO_HEADER_FIELDS: readonly string[] = ['WorkOrderId', 'BranchId', 'Sender'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Herald's namespace for name-based message ids (a fixed random UUID). */
const MESSAGE_ID_NAMESPACE = Buffer.from('6f1c2d4e8a3b4c5d9e0f1a2b3c4d5e6f', 'hex');

/** @example corrigoMessageId('msg_01J0…') // 'a5c1…-…' (RFC 9562 v5, stable for the event) */
export function corrigoMessageId(eventId: string): string {
  if (UUID.test(eventId)) return eventId.toLowerCase();
  const h = createHash('sha1').update(MESSAGE_ID_NAMESPACE).update(eventId, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** @example corrigoDate(new Date('2018-09-04T10:12:08.167Z')) // '2018-09-04T10:12:08.1670000Z' */
export function corrigoDate(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export const corrigoProProfile: Profile = {
  name: 'corrigopro',
  label: 'CorrigoPro',
  ownedHeaders: ['authorization', 'event-type'],
  options: {
    apiVersion: {
      required: false,
      description: 'the ApiVersion of the message header (default "1.1", the version CorrigoPro documents)',
      check: printableAscii(16),
    },
  },
  // Its wire format carries the credential: the bearer token is the request's Authorization.
  requiredAuth: ['bearer', 'oauth2'],
  render(input: RenderInput): RenderedRequest {
    const event = onlyEvent(input, 'corrigopro');
    const data = dataFields(event);
    const apiVersion = input.endpoint.options['apiVersion'];
    const header: Record<string, unknown> = {};
    const nested = data['Header'];
    if (typeof nested === 'object' && nested !== null && !Array.isArray(nested))
      Object.assign(header, nested);
    for (const field of CORRIGOPRO_HEADER_FIELDS) if (Object.hasOwn(data, field)) header[field] = data[field];
    Object.assign(header, {
      Action: event.type,
      ActionDate: corrigoDate(event.occurredAt ?? event.createdAt),
      ApiVersion: typeof apiVersion === 'string' ? apiVersion : CORRIGOPRO_DEFAULT_API_VERSION,
      MessageId: corrigoMessageId(event.id),
    });
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      if (key !== 'Header' && !CORRIGOPRO_HEADER_FIELDS.includes(key)) rest[key] = value;
    }
    // Spliced rather than spread, so `Header` stays first even before integer-like data keys.
    const tail = JSON.stringify(rest).slice(1);
    const body = `{"Header":${JSON.stringify(header)}${tail === '}' ? '}' : `,${tail}`}`;
    return {
      body,
      headers: { 'content-type': 'application/json; charset=utf-8', 'event-type': event.type },
    };
  },
};
