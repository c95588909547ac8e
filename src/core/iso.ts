/**
 * RFC 3339 text of an instant, as every answer spells one. Only the years 0000–9999 have that
 * form: input outside them is refused (src/api/instant.ts), and a value stored outside them
 * (before the API refused such input, issue 16) is answered as null rather than failing the whole
 * answer.
 */
const FIRST = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const LAST = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** Whether epoch milliseconds `t` fall in the years 0000–9999 (UTC). */
export const inIsoYears = (t: number): boolean => t >= FIRST && t <= LAST;

export function isoOrNull(d: Date | null): string | null {
  return d !== null && inIsoYears(d.getTime()) ? d.toISOString() : null;
}
