/**
 * A profile's own endpoint options (`profileOptions`): what each one is, whether it is required,
 * and how a value is checked. An endpoint is refused, with the option's path, when a value fails
 * its check, a required one is missing or a key is no option of its profile (src/endpoints/profile-rules.ts).
 */
export interface ProfileOption {
  required: boolean;
  /** What it is for, as GET /v1/profiles shows it. */
  description: string;
  /** A problem with the value, or null when it is fine. */
  check(value: unknown): string | null;
}

/** A string of 1 to `max` printable ASCII characters (it goes into a signature or a header). */
export function printableAscii(max: number): (value: unknown) => string | null {
  return (value) =>
    typeof value !== 'string'
      ? 'must be a string'
      : value.length === 0 || value.length > max || !/^[\u0020-\u007e]+$/.test(value)
        ? `must be 1 to ${max} printable ASCII characters`
        : null;
}
