// @ts-check
// The pages the dashboard and the portal share, routed under a base: `#/t/<tenant>` in the
// dashboard, `#` in the portal. Paths are relative to it (`/endpoints/ep_…`).
import { html } from '../lib/html.js';
import { match } from '../lib/router.js';
import { DeliveriesPage } from './deliveries.js';
import { DeliveryDetailPage } from './delivery-detail.js';
import { EndpointDetailPage } from './endpoint-detail.js';
import { EndpointFormPage } from './endpoint-form.js';
import { EndpointsPage } from './endpoints.js';
import { EventDetailPage } from './event-detail.js';
import { EventsPage } from './events.js';

/** @type {[string, (props: any) => unknown][]} */
const ROUTES = [
  ['/endpoints', EndpointsPage],
  ['/endpoints/new', EndpointFormPage],
  ['/endpoints/:endpointId/edit', EndpointFormPage],
  ['/endpoints/:endpointId', EndpointDetailPage],
  ['/deliveries', DeliveriesPage],
  ['/deliveries/:deliveryId', DeliveryDetailPage],
  ['/events', EventsPage],
  ['/events/:eventId', EventDetailPage],
];

/** The tenant page for `path`, or null when none matches. */
export function tenantPage(path, props) {
  for (const [pattern, Page] of ROUTES) {
    const params = match(pattern, path);
    // The key remounts the page when the route changes, so no state leaks between pages.
    if (params) return html`<${Page} key=${path} ...${props} params=${params} />`;
  }
  return null;
}

export const tenantNav = (base, path) => [
  { href: `${base}/endpoints`, label: 'Endpoints', current: path.startsWith('/endpoints') },
  { href: `${base}/events`, label: 'Events', current: path.startsWith('/events') },
  { href: `${base}/deliveries`, label: 'Deliveries', current: path.startsWith('/deliveries') },
];
