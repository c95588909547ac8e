/**
 * `GET /v1/profiles`: the wire formats an endpoint can use, as each profile declares itself
 * (src/profiles/profile.ts) — the UI's and the CLI's one source for labels, options and rules.
 */
import { Type } from 'typebox';
import { ALL_PROFILES } from '../../profiles/index.ts';
import type { Profile } from '../../profiles/profile.ts';
import type { App } from '../context.ts';
import { ProfileOut } from '../schemas/profile.ts';

export function describeProfile(p: Profile) {
  return {
    name: p.name,
    label: p.label,
    ownedHeaders: [...p.ownedHeaders],
    options: Object.entries(p.options).map(([name, o]) => ({
      name,
      required: o.required,
      description: o.description,
    })),
    requiredAuth: p.requiredAuth ? [...p.requiredAuth] : null,
    batched: p.batched === true,
    retrySchedule: p.retrySchedule ? [...p.retrySchedule] : null,
    timeouts: p.timeouts ? { connectMs: p.timeouts.connectMs, totalMs: p.timeouts.totalMs } : null,
  };
}

export function profileRoutes(app: App): void {
  // The same for every caller: described once.
  const body = { data: ALL_PROFILES.map(describeProfile) };
  app.get(
    '/v1/profiles',
    {
      config: { access: 'any' as const },
      schema: {
        tags: ['profiles'],
        operationId: 'listProfiles',
        summary: 'List the wire-format profiles an endpoint can use',
        description:
          'Each profile with its label, the request headers it sets itself (an endpoint may not set them), ' +
          'its `profileOptions`, the auth it requires, whether one delivery carries a whole publish call, ' +
          'and its own retry schedule and timeouts where it has them. Any key may read it.',
        response: { 200: Type.Object({ data: Type.Array(ProfileOut) }) },
      },
    },
    async () => body,
  );
}
