/**
 * Event type names (`invoice.created`, `CustomerCreated`, `shipment:delivered`) and the cursor that
 * pages through the catalog by name.
 */
import { encodeCursor } from '../core/cursor.ts';
import { HeraldError } from '../core/errors.ts';

export const EVENT_TYPE_NAME_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';
const NAME_RE = new RegExp(EVENT_TYPE_NAME_PATTERN);

/** @example isEventTypeName('invoice.created') // true */
export function isEventTypeName(value: string): boolean {
  return NAME_RE.test(value);
}

/** The catalog is ordered by name, so its cursor is the last name of a page. */
export const encodeNameCursor = encodeCursor;

/** Decodes a catalog cursor or refuses it with INVALID_CURSOR; undefined for the first page. */
export function decodeNameCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isEventTypeName(name) || encodeCursor(name) !== cursor) throw new HeraldError('INVALID_CURSOR');
  return name;
}
