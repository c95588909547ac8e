/** `herald/client`: a typed client for Herald's HTTP API. */
export { errorFromResponse, HeraldApiError } from './api-error.ts';
export {
  type ClientOptions,
  createClient,
  type DeliveryListParams,
  type EndpointListParams,
  type EventListParams,
  type HeraldClient,
  type PublishOptions,
} from './client.ts';
export { paginate } from './paginate.ts';
export type * from './types.ts';
