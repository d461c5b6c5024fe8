// Quay's `next_page` tokens: Fernet-encrypted JSON `{start_index, page_number, is_datetime, offset_val}`, valid two
// days; a token that does not decrypt silently means the first page (util/pagination.py, data/model/modelutil.py).
import type { Ctx } from '../context.js';
import { isJsonObject } from '../json.js';

const PAGE_TOKEN_TTL_SECONDS = 2 * 24 * 3600;

export interface PageToken {
  readonly startIndex: number;
  readonly pageNumber: number | undefined;
}

export const readPageToken = (ctx: Ctx): PageToken | undefined => {
  const raw = ctx.req.query.get('next_page');
  if (raw === null) return undefined;
  const text = ctx.services.pageTokens.decrypt(raw, PAGE_TOKEN_TTL_SECONDS, ctx.world.now());
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isJsonObject(parsed) || typeof parsed['start_index'] !== 'number') return undefined;
    const page = parsed['page_number'];
    return { startIndex: parsed['start_index'], pageNumber: typeof page === 'number' ? page : undefined };
  } catch {
    return undefined;
  }
};

/** The smallest id of the page asked for. */
export const pageStart = (ctx: Ctx): number => readPageToken(ctx)?.startIndex ?? -Infinity;

export const nextPage = (ctx: Ctx, startIndex: number, previous?: PageToken): string =>
  ctx.services.pageTokens.encrypt(
    JSON.stringify({
      start_index: startIndex,
      page_number:
        previous?.pageNumber !== undefined && previous.pageNumber > 0 ? previous.pageNumber + 1 : 1,
      is_datetime: false,
      offset_val: 0,
    }),
    ctx.world.now(),
  );
