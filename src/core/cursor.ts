/**
 * Page cursors: the opaque base64url of the last id on a page (src/api/pagination.ts pages by
 * them; the event-type catalog, ordered by name, uses names).
 */
import { HeraldError } from './errors.ts';

export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** Decodes a cursor or refuses it with INVALID_CURSOR; undefined for the first page. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id) || encodeCursor(id) !== cursor)
    throw new HeraldError('INVALID_CURSOR');
  return id;
}
