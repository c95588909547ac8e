/**
 * The `courier-invoice` profile. One request per publish call: body `{"timestamp": <unix s>, "Data":
 * [...]}` with one entry per event, `{"type", "error": null, …the event's data fields}`, encoded as
 * PHP's `json_encode` with no options (php-json.ts), so a PHP receiver's
 * `json_encode(json_decode($body, true))` gives back the same bytes.
 *
 * `X-CI-AUTH` is the hex HMAC-SHA256 of `body . accountNumber . timestamp`, keyed with the endpoint
 * secret (the receiver's "private API key"), exactly as the receiver rebuilds it:
 * `hash_hmac('sha256', $webhook . 'Your_Account_Number' . $timeVal, $privateKey)`.
 *
 * Entry fields: `type` is always the event's type (a data field `type` is dropped: the type is
 * what routes the webhook); `error` is null unless the data carries its own `error`.
 */
import { phpJsonEncode } from './php-json.ts';
import type { Profile, ProfileEvent, RenderedRequest, RenderInput } from './profile.ts';
import { printableAscii } from './profile-option.ts';
import { dataFields, hmacSha256, unixSeconds } from './render-helpers.ts';

/** A Map, so `type` and `error` come first even before integer-like data keys. */
function entry(event: ProfileEvent): Map<string, unknown> {
  const data = dataFields(event);
  const out = new Map<string, unknown>([
    ['type', event.type],
    ['error', Object.hasOwn(data, 'error') ? data['error'] : null],
  ]);
  for (const [key, value] of Object.entries(data)) if (key !== 'type' && key !== 'error') out.set(key, value);
  return out;
}

export const courierInvoiceProfile: Profile = {
  name: 'courier-invoice',
  label: 'Courier Invoice',
  ownedHeaders: ['x-ci-auth'],
  options: {
    accountNumber: {
      required: true,
      description: "the receiver's account number, signed into X-CI-AUTH",
      check: printableAscii(128),
    },
  },
  batched: true,
  render(input: RenderInput): RenderedRequest {
    if (input.events.length === 0) throw new Error('a courier-invoice delivery needs at least one event');
    const account = input.endpoint.options['accountNumber'];
    if (typeof account !== 'string' || account === '') {
      throw new Error('profileOptions.accountNumber is required by the courier-invoice profile');
    }
    const timestamp = unixSeconds(input.clock);
    const body = phpJsonEncode(
      new Map<string, unknown>([
        ['timestamp', timestamp],
        ['Data', input.events.map(entry)],
      ]),
    );
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-ci-auth': hmacSha256(input.endpoint.secrets.current, [body, account, String(timestamp)]).toString(
          'hex',
        ),
      },
    };
  },
};
