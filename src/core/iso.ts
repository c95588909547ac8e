/**
 * RFC 3339 text of an instant, as every answer spells one. Only the years 0000–9999 have that
 * form: a value stored outside them (before the API refused such input, issue 16) is answered as
 * null rather than failing the whole answer.
 */
export function isoOrNull(d: Date | null): string | null {
  if (d === null) return null;
  const t = d.getTime();
  return t >= -62_167_219_200_000 && t <= 253_402_300_799_999 ? d.toISOString() : null;
}
