/**
 * The endpoint `herald listen --tenant` registers for itself through the API, and removes on exit:
 * what a developer would otherwise create by hand and copy the secret of.
 */
import { randomBytes } from 'node:crypto';
import { HeraldApiError } from '../../client/api-error.ts';
import type { HeraldClient } from '../../client/client.ts';
import type { EndpointCreate } from '../../client/types.ts';
import type { ListenPlan } from './listen-options.ts';

/** Printed when Herald refuses the listener's loopback URL: the one setting that allows it. */
export const ALLOW_PRIVATE_HINT =
  'Herald refuses to deliver to 127.0.0.1 (BLOCKED_ADDRESS): restart Herald with HERALD_ALLOW_PRIVATE_NETWORKS=true (development only) so it can deliver to herald listen';

export interface Registered {
  tenant: string;
  endpointId: string;
  /**
   * What the verifier checks each delivery with: the signing secret (an Ed25519 endpoint's `whpk_`
   * public key, as the API answers it), or CorrigoPro's bearer token.
   */
  secret: string;
}

/** Why an API call of listen failed, as one line (details on their own lines) for stderr. */
export function apiFailure(err: unknown): string {
  if (err instanceof HeraldApiError) {
    if (err.code === 'BLOCKED_ADDRESS') return ALLOW_PRIVATE_HINT;
    const details = err.details.map((d) => `\n  ${d.path ? `${d.path}: ` : ''}${d.message}`).join('');
    return `${err.code}: ${err.message}${details}`;
  }
  return (err as Error)?.message ?? String(err);
}

/**
 * Creates the endpoint for `url` and answers what verifying its deliveries takes. CorrigoPro's
 * requests carry a bearer token instead of a signature: the given --secret, or a generated one.
 */
export async function registerEndpoint(
  client: HeraldClient,
  plan: ListenPlan & { register: NonNullable<ListenPlan['register']> },
  url: string,
): Promise<Registered> {
  const token =
    plan.profile === 'corrigopro' ? (plan.secret ?? randomBytes(24).toString('base64url')) : undefined;
  const body: EndpointCreate = {
    url,
    name: 'herald listen',
    description: `herald listen (pid ${process.pid}); removed when it stops`,
    profile: plan.profile,
    ...(plan.register.eventTypes !== undefined ? { eventTypes: plan.register.eventTypes } : {}),
    ...(plan.signatureScheme !== undefined ? { signatureScheme: plan.signatureScheme } : {}),
    ...(Object.keys(plan.profileOptions).length ? { profileOptions: plan.profileOptions } : {}),
    ...(token !== undefined
      ? { auth: { type: 'bearer' as const, token } }
      : plan.secret !== undefined
        ? { secret: plan.secret }
        : {}),
  };
  const created = await client.endpoints.create(plan.register.tenant, body);
  return { tenant: plan.register.tenant, endpointId: created.id, secret: token ?? created.secret };
}
