/** A wire-format profile as GET /v1/profiles describes it (src/api/routes/profiles.ts). */
import { Type } from 'typebox';
import { Nullable } from './common.ts';

export const ProfileOut = Type.Object({
  name: Type.String({ description: 'what an endpoint sets as `profile`' }),
  label: Type.String(),
  ownedHeaders: Type.Array(Type.String(), {
    description: 'lower-case request headers the profile sets itself; an endpoint may not set them',
  }),
  options: Type.Array(
    Type.Object({ name: Type.String(), required: Type.Boolean(), description: Type.String() }),
    { description: 'the `profileOptions` it understands; any other key is refused' },
  ),
  requiredAuth: Nullable(
    Type.Array(Type.String(), { description: 'auth types an endpoint of this profile must have' }),
  ),
  batched: Type.Boolean({ description: 'one delivery carries all the events of a publish call' }),
  retrySchedule: Nullable(
    Type.Array(Type.Number(), {
      description: 'its own schedule: seconds to wait before each retry after the first attempt',
    }),
  ),
  timeouts: Nullable(Type.Object({ connectMs: Type.Integer(), totalMs: Type.Integer() })),
});
