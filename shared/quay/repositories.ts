// Repositories of an organization (docs/quay-api.md#repositories). Quay hides what the caller may not read behind
// 403, so GET of a missing repository is 404 or 403 depending on the caller; both mean "not there" to us, as to QBO.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { CreatedRepository, decodeBody, RepositoryList, RepositoryView } from './codecs.js';
import { answered, failureOf } from './errors.js';
import { unlessOrganizationMissing } from './organizations.js';
import { paths } from './paths.js';
import { del, get, post, send, type QuayOp } from './request.js';
import type { Change, QuayError, Repository } from './types.js';

export const getRepository = (org: string, repo: string): QuayOp<O.Option<Repository>> =>
  pipe(
    // Tags can be 500 entries long; nothing here needs them.
    send(get(paths.repository(org, repo), { includeTags: 'false' })),
    RTE.flatMapEither((res) => {
      if (res.status === 200)
        return pipe(
          decodeBody(RepositoryView)(res),
          E.map((view) =>
            O.some({
              namespace: view.namespace,
              name: view.name,
              isPublic: view.is_public,
              description: view.description ?? '',
            }),
          ),
        );
      if (res.status === 404 || res.status === 403) return E.right(O.none);
      return E.left(failureOf(res));
    }),
  );

/**
 * POST straight away: 201 is created, 400 "Repository already exists" is unchanged, so an existing repository
 * costs one call and a new one too. The organization's prototypes are applied by Quay on creation (docs/quay-api.md#repositories).
 */
export const ensureRepository = (org: string, repo: string, description: string): QuayOp<Change> =>
  pipe(
    send(
      post(paths.repositories(), {
        namespace: org,
        repository: repo,
        visibility: 'private',
        description,
        repo_kind: 'image',
      }),
    ),
    RTE.flatMapEither((res) => {
      if (res.status === 201) return pipe(decodeBody(CreatedRepository)(res), E.as<Change>('created'));
      if (answered(res, 400, /repository already exists/i)) return E.right<QuayError, Change>('unchanged');
      return E.left(failureOf(res));
    }),
  );

/**
 * Quay answers 204 whether or not the repository existed (docs/quay-api.md#repositories), so this is `deleted` either way, without a GET
 * to tell the two apart. A 403 for an organization that is already gone is `unchanged`.
 */
export const deleteRepository = (org: string, repo: string): QuayOp<Change> =>
  pipe(
    send(del(paths.repository(org, repo))),
    RTE.flatMap((res): QuayOp<Change> => {
      if (res.status === 204) return RTE.right('deleted');
      if (res.status === 403) return pipe(unlessOrganizationMissing(org)(res), RTE.as<Change>('unchanged'));
      return RTE.left(failureOf(res));
    }),
  );

// 100 repositories a page: a bound on the pages followed keeps a Quay that never stops paging from looping us.
const MAX_PAGES = 1_000;

/**
 * Every repository name of the organization, following `next_page`. Quay answers an unknown or expired next_page
 * with the first page again (docs/quay-api.md#rate-limits-and-paging), so a token seen before ends the walk as an invalid response instead of a loop.
 */
export const listRepositories = (org: string): QuayOp<readonly string[]> =>
  walk(org, undefined, [], new Set());

const walk = (
  org: string,
  nextPage: string | undefined,
  names: readonly string[],
  seen: ReadonlySet<string>,
): QuayOp<readonly string[]> =>
  pipe(
    send(
      get(
        paths.repositories(),
        nextPage === undefined ? { namespace: org } : { namespace: org, next_page: nextPage },
      ),
    ),
    RTE.flatMap((res) => {
      if (res.status !== 200) return RTE.left(failureOf(res));
      return pipe(
        RTE.fromEither(decodeBody(RepositoryList)(res)),
        RTE.flatMap((page) => {
          const all = [...names, ...page.repositories.filter((r) => r.namespace === org).map((r) => r.name)];
          const next = page.next_page;
          if (next === undefined || next === '') return RTE.right(all);
          if (seen.has(next) || seen.size >= MAX_PAGES)
            return RTE.left<unknown, QuayError, readonly string[]>({
              _tag: 'QuayResponseInvalid',
              status: res.status,
              message: `GET ${res.path}: next_page ${seen.has(next) ? 'repeats an earlier page' : `still set after ${MAX_PAGES} pages`}`,
            });
          return walk(org, next, all, new Set([...seen, next]));
        }),
      );
    }),
  );
