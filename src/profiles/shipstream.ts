/**
 * The `shipstream` profile: body `{"topic","message_id","message"}` (event type, the delivery's
 * per-endpoint sequence — ShipStream's "sequential ID of each payload so missed events can be
 * detected" — and the event data) and `X-Plugin-Hmac-Sha256`, the base64 HMAC-SHA256 of the body,
 * as PHP receivers check it: `base64_encode(hash_hmac('sha256', $json, $key, true))`.
 *
 * Defaults from ShipStream's document: the first attempt plus 14 retries at +1 min … +24 h, then
 * `failed`; a 3 s connect and 5 s total timeout. An endpoint's own settings still win.
 */
import type { Profile, RenderedRequest, RenderInput } from './profile.ts';
import { hmacSha256, onlyEvent } from './render-helpers.ts';

const MINUTE = 60;
const HOUR = 3600;

/** The waits before each of the 14 retries after the first attempt (docs/decisions.md, "Schedule indexing"). */
export const SHIPSTREAM_RETRY_SCHEDULE: readonly number[] = [
  1 * MINUTE,
  2 * MINUTE,
  4 * MINUTE,
  8 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  16 * HOUR,
  24 * HOUR,
  24 * HOUR,
  24 * HOUR,
];

export const shipStreamProfile: Profile = {
  name: 'shipstream',
  label: 'ShipStream',
  ownedHeaders: ['x-plugin-hmac-sha256'],
  options: {},
  retrySchedule: SHIPSTREAM_RETRY_SCHEDULE,
  timeouts: { connectMs: 3000, totalMs: 5000 },
  render(input: RenderInput): RenderedRequest {
    const event = onlyEvent(input, 'shipstream');
    const body = JSON.stringify({ topic: event.type, message_id: input.sequence, message: event.data });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-plugin-hmac-sha256': hmacSha256(input.endpoint.secrets.current, [body]).toString('base64'),
      },
    };
  },
};
