/**
 * Every wire-format profile Herald ships, for the dispatcher to look up by an endpoint's `profile`.
 */
import { altovizProfile } from './altoviz.ts';
import { corrigoProProfile } from './corrigopro.ts';
import { courierInvoiceProfile } from './courier-invoice.ts';
import { invoiceAhoyProfile } from './invoiceahoy.ts';
import type { Profile } from './profile.ts';
import type { ProfileName } from './profile-names.ts';
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
