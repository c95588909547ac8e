/**
 * Cursor pagination, newest first. A cursor is the opaque base64url of the last id on a page;
 * the next page is `id < cursor`. Ids are time-ordered (src/core/ids.ts), so this is an index range scan.
 */
import { Type } from 'typebox';
import { decodeCursor, encodeCursor } from '../core/cursor.ts';

export { decodeCursor };

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'page size (≤ 250)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
};

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
