// /api/v1/repository and /api/v1/repository/{repo} (endpoints/api/repository.py).
import { can } from '../access.js';
import {
  badRequest,
  boolArg,
  deny,
  param,
  stringArg,
  validatedBody,
  type Ctx,
  type Handler,
} from '../context.js';
import { isJsonObject, type Json, type JsonObject } from '../json.js';
import { createRepository, markRepositoryForDeletion, REPOSITORY_NAME, tagHistory } from '../model-repos.js';
import { internalServerError, noContent, notFound, restAbort, restful, WERKZEUG } from '../replies.js';
import type { Repository } from '../state.js';
import { repositoryTagView } from '../views.js';
import { nextPage, pageStart } from './paging.js';

const REPOS_PER_PAGE = 100;
const MAX_DAYS_IN_3_MONTHS = 92;

/** `{repo}` is `namespace/name`, and the name may itself contain `/`. */
export const repoPath = (ctx: Ctx): { readonly namespace: string; readonly name: string } => {
  const full = param(ctx, 'repo').replace(/\/+$/, '');
  const slash = full.indexOf('/');
  return { namespace: full.slice(0, slash), name: full.slice(slash + 1) };
};

/** require_repo_read: a role on the repository or its namespace, or a public repository. */
export const mayReadRepository = (ctx: Ctx, namespace: string, name: string): boolean =>
  can.readRepository(ctx.world, ctx.caller, namespace, name) ||
  ctx.world.repository(namespace, name)?.visibility === 'public';

/** Checked in Quay's order: create permission (a missing namespace is a 403), exists, name, then create. */
export const createRepositoryHandler: Handler = (ctx) => {
  const body = validatedBody(ctx, 'NewRepo');
  if (!body.ok) return body.reply;
  const data = isJsonObject(body.value) ? body.value : {};
  const namespace = typeof data['namespace'] === 'string' ? data['namespace'] : ctx.caller?.user.username;
  if (namespace === undefined) return internalServerError();
  if (!can.createRepository(ctx.world, ctx.caller, namespace)) return deny(ctx);
  const name = typeof data['repository'] === 'string' ? data['repository'] : '';
  if (ctx.world.repository(namespace, name) !== undefined)
    return badRequest(ctx, 'Repository already exists');
  if (!REPOSITORY_NAME.test(name)) return badRequest(ctx, 'Invalid repository name');
  const owner = ctx.world.namespace(namespace);
  if (owner === undefined) return internalServerError();
  const kind =
    typeof data['repo_kind'] === 'string' && data['repo_kind'] !== '' ? data['repo_kind'] : 'image';
  const visibility = data['visibility'] === 'public' ? 'public' : 'private';
  const description = typeof data['description'] === 'string' ? data['description'] : '';
  createRepository(ctx.world, owner, name, ctx.caller?.user, visibility, description);
  return restful({ namespace, name, kind }, 201);
};

/**
 * Repositories the caller's account can see (its real roles: the listing ignores the token's scopes), ordered by
 * id, 100 a page with an encrypted `next_page` token; a bad token silently means the first page.
 */
export const listRepositories: Handler = (ctx) => {
  const namespace = stringArg(ctx, 'namespace');
  const starred = boolArg(ctx, 'starred', false);
  const includePublic = boolArg(ctx, 'public', false);
  const lastModified = boolArg(ctx, 'last_modified', false);
  const popularity = boolArg(ctx, 'popularity', false);
  const kind = stringArg(ctx, 'repo_kind') ?? 'image';
  if (!namespace && !starred && !includePublic) {
    return badRequest(ctx, 'namespace, starred or public are required for this API call');
  }
  const user = ctx.caller?.user;
  if (starred && user === undefined) return restAbort(400, WERKZEUG.badRequest);
  const start = pageStart(ctx);
  const visible = (r: Repository): boolean => {
    if (includePublic && r.visibility === 'public') return true;
    if (user === undefined || starred) return false;
    const teams = [...ctx.world.teams.values()].filter((t) => t.members.has(user.id));
    const isOwner = teams.some((t) => t.orgId === r.namespaceId && t.role === 'admin');
    return (
      isOwner ||
      ctx.world.permissionsOf(r.id).some((p) => p.userId === user.id || teams.some((t) => t.id === p.teamId))
    );
  };
  const candidates = [...ctx.world.repositories.values()]
    .filter((r) => r.state !== 'MARKED_FOR_DELETION' && kind === 'image' && r.id >= start)
    .filter(
      (r) =>
        namespace === undefined ||
        namespace === '' ||
        ctx.world.accounts.get(r.namespaceId)?.username === namespace,
    )
    .filter(visible)
    .sort((a, b) => a.id - b.id);
  const page = candidates.slice(0, REPOS_PER_PAGE);
  const view = (r: Repository): JsonObject => {
    const newest = Math.max(0, ...ctx.world.tagsOf(r.id).map((t) => t.startMs));
    return {
      namespace: ctx.world.accounts.get(r.namespaceId)?.username ?? '',
      name: r.name,
      description: r.description,
      is_public: r.visibility === 'public',
      kind: 'image',
      state: r.state,
      ...(lastModified ? { last_modified: newest === 0 ? null : Math.floor(newest / 1000) } : {}),
      ...(popularity ? { popularity: 0 } : {}),
      ...(user === undefined ? {} : { is_starred: false }),
    };
  };
  const next = candidates[REPOS_PER_PAGE];
  return restful({
    repositories: page.map(view),
    ...(next === undefined ? {} : { next_page: nextPage(ctx, next.id) }),
  });
};

/** 404 only when the caller may read the namespace; otherwise (a missing namespace too) 403. */
export const getRepository: Handler = (ctx) => {
  const { namespace, name } = repoPath(ctx);
  const includeTags = boolArg(ctx, 'includeTags', true);
  const includeStats = boolArg(ctx, 'includeStats', false);
  if (!mayReadRepository(ctx, namespace, name)) return deny(ctx);
  const repo = ctx.world.repository(namespace, name);
  const owner = ctx.world.namespace(namespace);
  if (repo === undefined || owner === undefined) return notFound(ctx.req.baseUrl);
  const isPublic = repo.visibility === 'public';
  const tags = tagHistory(ctx.world, repo)
    .filter((t) => t.endMs === null)
    .slice(0, 500);
  const stats: Json[] = includeStats
    ? Array.from({ length: MAX_DAYS_IN_3_MONTHS - 1 }, (_, i) => ({
        date: new Date(ctx.world.now() - (i + 1) * 86_400_000).toISOString().slice(0, 10),
        count: 0,
      }))
    : [];
  return restful({
    namespace,
    name,
    kind: 'image',
    description: repo.description,
    is_public: isPublic,
    is_organization: owner.kind === 'org',
    is_starred: false,
    status_token: isPublic ? '' : repo.badgeToken,
    trust_enabled: false,
    tag_expiration_s: owner.tagExpirationS,
    is_free_account: true,
    state: repo.state,
    ...(includeTags ? { tags: Object.fromEntries(tags.map((t) => [t.name, repositoryTagView(t)])) } : {}),
    can_write: can.modifyRepository(ctx.world, ctx.caller, namespace, name) && repo.state === 'NORMAL',
    can_admin: can.administerRepository(ctx.world, ctx.caller, namespace, name),
    ...(includeStats ? { stats } : {}),
  });
};

export const updateRepository: Handler = (ctx) => {
  const { namespace, name } = repoPath(ctx);
  if (!can.modifyRepository(ctx.world, ctx.caller, namespace, name)) return deny(ctx);
  const body = validatedBody(ctx, 'RepoUpdate');
  if (!body.ok) return body.reply;
  const repo = ctx.world.repository(namespace, name);
  if (repo === undefined) return notFound(ctx.req.baseUrl);
  const description = isJsonObject(body.value) ? body.value['description'] : undefined;
  repo.description = typeof description === 'string' ? description : '';
  return restful({ success: true });
};

/** 204 whether or not the repository existed (for a caller who administers the namespace). */
export const deleteRepository: Handler = (ctx) => {
  const { namespace, name } = repoPath(ctx);
  if (!can.administerRepository(ctx.world, ctx.caller, namespace, name)) return deny(ctx);
  const repo = ctx.world.repository(namespace, name);
  if (repo !== undefined) {
    markRepositoryForDeletion(ctx.world, repo);
    ctx.services.deletionScheduled();
  }
  return noContent();
};

/** Answers `null` (200) when the repository does not exist: the Python method falls off its end. */
export const changeVisibility: Handler = (ctx) => {
  const { namespace, name } = repoPath(ctx);
  if (!can.administerRepository(ctx.world, ctx.caller, namespace, name)) return deny(ctx);
  const body = validatedBody(ctx, 'ChangeVisibility');
  if (!body.ok) return body.reply;
  const repo = ctx.world.repository(namespace, name);
  if (repo === undefined) return restful(null);
  repo.visibility = isJsonObject(body.value) && body.value['visibility'] === 'public' ? 'public' : 'private';
  return restful({ success: true });
};
