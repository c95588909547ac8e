/**
 * The `altoviz` profile: body `{"id","type","data"}` where `id` is the webhook's (the endpoint's) id,
 * as Altoviz sends its own webhook id, and `X-SIGNATURE`, the hex HMAC-SHA256 of the body keyed with
 * the endpoint secret.
 *
 * Altoviz makes the secret optional; a Herald endpoint always has one (generated when the caller
 * brings none), so the signature is always sent and a receiver registered without a secret simply
 * does not check it (docs/decisions.md).
 */
import type { Profile, RenderedRequest, RenderInput } from './profile.ts';
import { hmacSha256, onlyEvent } from './render-helpers.ts';

export const altovizProfile: Profile = {
  name: 'altoviz',
  label: 'Altoviz',
  ownedHeaders: ['x-signature'],
  options: {},
  render(input: RenderInput): RenderedRequest {
    const event = onlyEvent(input, 'altoviz');
    const body = JSON.stringify({ id: input.endpoint.id, type: event.type, data: event.data });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-signature': hmacSha256(input.endpoint.secrets.current, [body]).toString('hex'),
      },
    };
  },
};
