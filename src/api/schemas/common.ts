/** Schemas shared by many routes. */
import { Type } from 'typebox';

/** The schema, or null. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

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

/**
 * Tenant ids, event ids and other caller-chosen ids. Not `.` or `..`: as a path segment, a client
 * that normalises URLs would reach another route with them (issue 16).
 */
export const ClientId = Type.String({
  pattern: '^(?!\\.{1,2}$)[A-Za-z0-9_.-]{1,64}$',
  minLength: 1,
  maxLength: 64,
});

/**
 * A name people read in lists, tables and logs — a tenant's, an endpoint's, an API key's: 1 to 256
 * characters, no control characters (C0, DEL, C1), which would drive the terminal or log viewer
 * that prints them (issue 16; the CLI also escapes what it prints).
 */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$',
  description: '1 to 256 characters, no control characters',
});

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 200 }) });

export const MAX_METADATA_VALUE_LENGTH = 2048;

/**
 * Free-form metadata the caller keeps with a resource: a flat JSON object (as in Stripe and Svix) of
 * at most 64 keys of ≤ 256 characters, whose values are strings of ≤ 2048 characters, numbers,
 * booleans or null — so a resource's metadata stays small (≤ ~150 KiB) whatever the body limit.
 */
export const Metadata = Type.Record(
  Type.String({ maxLength: 256 }),
  Type.Union([
    Type.String({ maxLength: MAX_METADATA_VALUE_LENGTH }),
    Type.Number(),
    Type.Boolean(),
    Type.Null(),
  ]),
  // A Record's key schema does not bound key length in JSON Schema; propertyNames does.
  { maxProperties: 64, propertyNames: { maxLength: 256 } },
);

export const Timestamp = Type.String({ format: 'date-time' });
