/**
 * The wire-format profiles Herald knows, and the request headers each one owns (which an endpoint's
 * extra `headers` may therefore not set). Rendering and signing live in one module per profile.
 */
export const PROFILE_NAMES = [
  'standard',
  'courier-invoice',
  'invoiceahoy',
  'shipstream',
  'corrigopro',
  'altoviz',
] as const;

export type ProfileName = (typeof PROFILE_NAMES)[number];

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** Lower-case header names a profile sets itself. */
export const PROFILE_OWNED_HEADERS: Record<ProfileName, readonly string[]> = {
  standard: [
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'herald-event-type',
    'herald-sequence',
    'herald-attempt',
  ],
  'courier-invoice': ['x-ci-auth'],
  invoiceahoy: ['x-ia-signature'],
  shipstream: ['x-plugin-hmac-sha256'],
  corrigopro: ['authorization', 'event-type'],
  altoviz: ['x-signature'],
};

/** Headers no endpoint may set, whatever its profile: HTTP framing and Herald's own. */
export const RESERVED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'content-type'];

/** Whether `name` (any case) is a header the endpoint may not set under `profile`. */
export function isOwnedHeader(profile: ProfileName, name: string): boolean {
  const lower = name.toLowerCase();
  return (
    RESERVED_HEADERS.includes(lower) ||
    lower.startsWith('webhook-') ||
    lower.startsWith('herald-') ||
    PROFILE_OWNED_HEADERS[profile].includes(lower)
  );
}
