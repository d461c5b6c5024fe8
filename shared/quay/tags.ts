// Tags of a repository (docs/quay-api.md#tags): numbered pages with has_additional, no next_page token.
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { decodeBody, TagHistory, TagList } from './codecs.js';
import { failureOf } from './errors.js';
import { paths } from './paths.js';
import { get, send, type QuayOp } from './request.js';
import type { QuayError, Tag, TagVersion } from './types.js';

// Quay clamps `limit` to 1–100.
const PAGE_SIZE = 100;
/** How many versions of one tag tagVersions reads: one page, Quay's largest. */
export const TAG_VERSIONS_LIMIT = PAGE_SIZE;
const MAX_PAGES = 1_000;

/**
 * Every current tag, following has_additional. onlyActiveTags: without it Quay also lists each tag's history
 * (deleted and expired versions), with the same name many times.
 */
export const listTags = (org: string, repo: string): QuayOp<O.Option<readonly Tag[]>> =>
  walk(org, repo, 1, []);

const walk = (
  org: string,
  repo: string,
  page: number,
  tags: readonly Tag[],
): QuayOp<O.Option<readonly Tag[]>> =>
  pipe(
    send(
      get(paths.tags(org, repo), { page: String(page), limit: String(PAGE_SIZE), onlyActiveTags: 'true' }),
    ),
    RTE.flatMap((res): QuayOp<O.Option<readonly Tag[]>> => {
      // 404 for a caller who can read the namespace, 403 otherwise, as for the repository itself.
      if (res.status === 404 || res.status === 403) return RTE.right(O.none);
      if (res.status !== 200) return RTE.left(failureOf(res));
      return pipe(
        RTE.fromEither(decodeBody(TagList)(res)),
        RTE.flatMap((list) => {
          const all = [
            ...tags,
            ...list.tags.map((t) => ({ name: t.name, manifestDigest: t.manifest_digest })),
          ];
          if (!list.has_additional) return RTE.right(O.some(all));
          if (page >= MAX_PAGES)
            return RTE.left<unknown, QuayError, O.Option<readonly Tag[]>>({
              _tag: 'QuayResponseInvalid',
              status: res.status,
              message: `GET ${res.path}: has_additional still true after ${MAX_PAGES} pages`,
            });
          return walk(org, repo, page + 1, all);
        }),
      );
    }),
  );

/**
 * One request for the newest versions of one tag, its history included (no onlyActiveTags): what a Build that
 * pushed this tag a moment ago must find its digest among (docs/quay-api.md#tags).
 */
export const tagVersions = (
  org: string,
  repo: string,
  tag: string,
): QuayOp<O.Option<readonly TagVersion[]>> =>
  pipe(
    send(get(paths.tags(org, repo), { specificTag: tag, limit: String(TAG_VERSIONS_LIMIT) })),
    RTE.flatMap((res): QuayOp<O.Option<readonly TagVersion[]>> => {
      if (res.status === 404 || res.status === 403) return RTE.right(O.none);
      if (res.status !== 200) return RTE.left(failureOf(res));
      return pipe(
        RTE.fromEither(decodeBody(TagHistory)(res)),
        RTE.map((list) =>
          O.some(
            list.tags
              // Quay's specificTag is an exact match; this keeps the answer honest if a Quay ever widened it.
              .filter((t) => t.name === tag)
              .map((t) => ({ manifestDigest: t.manifest_digest, current: t.end_ts === undefined })),
          ),
        ),
      );
    }),
  );
