/** Walking a cursor-paginated list. */
import type { Page, PageParams } from './types.ts';

/**
 * Every item of a list, fetching pages as the loop goes (following `nextCursor`).
 *
 * @example
 * for await (const endpoint of paginate((p) => herald.endpoints.list('acme', p))) console.log(endpoint.url);
 */
export async function* paginate<T>(
  fetchPage: (params: PageParams) => Promise<Page<T>>,
  params: PageParams = {},
): AsyncGenerator<T, void, undefined> {
  let cursor = params.cursor;
  do {
    const page = await fetchPage({ ...params, ...(cursor !== undefined ? { cursor } : {}) });
    yield* page.data;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
