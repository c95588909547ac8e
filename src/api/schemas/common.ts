/** Schemas shared by many routes. */
import { Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({ path: Type.Optional(Type.String()), message: Type.String() })),
    }),
  },
  { $id: 'ErrorBody' },
);

/** Tenant ids, event ids and other caller-chosen ids. */
export const ClientId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', minLength: 1, maxLength: 64 });

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 200 }) });

/** Free-form metadata: a flat-ish JSON object the caller keeps with a resource. */
export const Metadata = Type.Record(Type.String({ maxLength: 256 }), Type.Unknown(), { maxProperties: 64 });

export const Timestamp = Type.String({ format: 'date-time' });
