// GET /api/v1/repository/{repo}/tag/ (endpoints/api/tag.py): the tag history, paged with page/has_additional.
import { deny, intArg, boolArg, stringArg, type Handler } from '../context.js';
import { tagHistory } from '../model-repos.js';
import { notFound, restAbort, restful } from '../replies.js';
import { tagHistoryView } from '../views.js';
import { mayReadRepository, repoPath } from './repositories.js';

const BAD_FILTER =
  "Unsupported syntax for filter_tag_name. Expected <operation>:<tag_name> where <operation>can be 'like' or 'eq'.";

export const listTags: Handler = (ctx) => {
  const { namespace, name } = repoPath(ctx);
  if (!mayReadRepository(ctx, namespace, name)) return deny(ctx);
  const limitArg = intArg(ctx, 'limit', 'Limit to the number of results to return per page. Max 100.', 50);
  if (!limitArg.ok) return limitArg.reply;
  const pageArg = intArg(ctx, 'page', 'Page index for the results. Default 1.', 1);
  if (!pageArg.ok) return pageArg.reply;
  const page = Math.max(1, pageArg.value);
  const limit = Math.min(100, Math.max(1, limitArg.value));
  const specific = stringArg(ctx, 'specificTag') || undefined;
  const filter = stringArg(ctx, 'filter_tag_name') || undefined;
  const activeOnly = boolArg(ctx, 'onlyActiveTags', false);
  const repo = ctx.world.repository(namespace, name);
  if (repo === undefined) return notFound(ctx.req.baseUrl);
  let tags = tagHistory(ctx.world, repo);
  if (filter !== undefined) {
    const colon = filter.indexOf(':');
    if (colon < 0) return restAbort(400, BAD_FILTER);
    const [op, value] = [filter.slice(0, colon), filter.slice(colon + 1)];
    // Any other operation filters nothing, as in Quay.
    if (op === 'like') tags = tags.filter((t) => t.name.toLowerCase().includes(value.toLowerCase()));
    if (op === 'eq') tags = tags.filter((t) => t.name === value);
  }
  if (specific !== undefined) tags = tags.filter((t) => t.name === specific);
  if (activeOnly) tags = tags.filter((t) => t.endMs === null);
  const window = tags.slice((page - 1) * limit, page * limit + 1);
  return restful({
    tags: window.slice(0, limit).map(tagHistoryView),
    page,
    has_additional: window.length > limit,
  });
};
