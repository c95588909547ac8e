/**
 * Cursor pagination, newest first. A cursor is the opaque base64url of the last id on a page;
 * the next page is `id < cursor`. Ids are time-ordered (src/ids.ts), so this is an index range scan.
 */
import { Type } from 'typebox';
import { HeraldError } from '../errors.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size (≤ 250)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
};

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

/**
 * Given rows fetched with `LIMIT limit + 1`, returns the page and its next cursor.
 *
 * @example page(rows, 50, (r) => r.id)
 */
export function page<T>(
  rows: T[],
  limit: number,
  idOf: (row: T) => string,
): { data: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { data: rows, nextCursor: null };
  const data = rows.slice(0, limit);
  return { data, nextCursor: encodeCursor(idOf(data[data.length - 1]!)) };
}

export function PageOf<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}
