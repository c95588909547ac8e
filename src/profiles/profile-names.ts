/**
 * The names of the wire-format profiles Herald knows: the type every layer can name a profile by.
 * Each profile itself — its label, headers, options, rendering and signing — is one object in a
 * module of its own (profile.ts; all of them in index.ts).
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

/** Headers no endpoint may set, whatever its profile: HTTP framing and Herald's own. */
export const RESERVED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'content-type'];
