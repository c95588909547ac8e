/**
 * The `invoiceahoy` profile: body `{"id","type","payload"}` (the event id, its type, its data) and
 * `x-ia-signature`, the hex HMAC-SHA256 of the body keyed with the endpoint secret, as InvoiceAhoy's
 * receivers check it: `crypto.createHmac('sha256', secret).update(payload).digest('hex')`.
 */
import type { Profile, RenderedRequest, RenderInput } from './profile.ts';
import { hmacSha256, onlyEvent } from './render-helpers.ts';

export const invoiceAhoyProfile: Profile = {
  name: 'invoiceahoy',
  label: 'InvoiceAhoy',
  ownedHeaders: ['x-ia-signature'],
  options: {},
  render(input: RenderInput): RenderedRequest {
    const event = onlyEvent(input, 'invoiceahoy');
    const body = JSON.stringify({ id: event.id, type: event.type, payload: event.data });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-ia-signature': hmacSha256(input.endpoint.secrets.current, [body]).toString('hex'),
      },
    };
  },
};
