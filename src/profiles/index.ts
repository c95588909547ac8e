/**
 * Every wire-format profile Herald ships, by name: the dispatcher renders with them, validation and
 * fan-out read what each declares (profile.ts), GET /v1/profiles lists them.
 */
import { altovizProfile } from './altoviz.ts';
import { corrigoProProfile } from './corrigopro.ts';
import { courierInvoiceProfile } from './courier-invoice.ts';
import { invoiceAhoyProfile } from './invoiceahoy.ts';
import type { Profile } from './profile.ts';
import { type ProfileName, RESERVED_HEADERS } from './profile-names.ts';
import { shipStreamProfile } from './shipstream.ts';
import { standardProfile } from './standard.ts';

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  standard: standardProfile,
  'courier-invoice': courierInvoiceProfile,
  invoiceahoy: invoiceAhoyProfile,
  shipstream: shipStreamProfile,
  corrigopro: corrigoProProfile,
  altoviz: altovizProfile,
};

export const ALL_PROFILES: readonly Profile[] = Object.values(PROFILES);

/** Whether `name` (any case) is a header the endpoint may not set under `profile`. */
export function isOwnedHeader(profile: ProfileName, name: string): boolean {
  const lower = name.toLowerCase();
  return (
    RESERVED_HEADERS.includes(lower) ||
    lower.startsWith('webhook-') ||
    lower.startsWith('herald-') ||
    PROFILES[profile].ownedHeaders.includes(lower)
  );
}
