// The contract between the sync steps and Quay. `client.ts` implements it over HTTP; unit tests pass plain objects.
// Every operation is idempotent and absorbs Quay's quirks (docs/quay-api.md), so a step can call it again after
// any failure or duplicate event and converge.
import type * as O from 'fp-ts/lib/Option.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { RobotRole } from '../names.js';

export type QuayError =
  /** Network error, timeout, dropped connection: after the retry policy gave up. Transient. */
  | { readonly _tag: 'QuayUnreachable'; readonly message: string }
  /** 5xx after the retry policy gave up. Transient. */
  | { readonly _tag: 'QuayUnavailable'; readonly status: number; readonly message: string }
  /** 429 after the retry policy gave up. Transient; retryAfterSeconds from Retry-After when Quay sent one. */
  | { readonly _tag: 'QuayRateLimited'; readonly retryAfterSeconds: number | undefined }
  /** 401, or 403 "CSRF token was invalid or missing" on a write: the token is missing, invalid or expired. */
  | { readonly _tag: 'QuayAuthFailed'; readonly status: number; readonly message: string }
  /** Any other 4xx, with Quay's own message (detail → error_message → message → error). */
  | { readonly _tag: 'QuayRejected'; readonly status: number; readonly message: string }
  /** A 2xx (or expected status) whose body does not decode. */
  | { readonly _tag: 'QuayResponseInvalid'; readonly status: number; readonly message: string };

export type QuayResult<A> = TE.TaskEither<QuayError, A>;

/** What an ensure/delete did: finishes the sentence "X was …". */
export type Change = 'created' | 'updated' | 'unchanged' | 'deleted';

export interface Robot {
  /** `<org>+<shortname>` */
  readonly name: string;
  readonly token: string;
  readonly description: string;
}

export interface Prototype {
  readonly id: string;
  readonly role: RobotRole;
  readonly delegate:
    | { readonly kind: 'user'; readonly name: string; readonly isRobot: boolean }
    | { readonly kind: 'team'; readonly name: string };
  /** Set when the prototype applies only to repositories this user creates; ensureDefaultPermission leaves those alone. */
  readonly activatingUser?: string;
}

export interface Repository {
  readonly namespace: string;
  readonly name: string;
  readonly isPublic: boolean;
  /** Where quay-bridge keeps its mark (shared/ownership.ts); "" when none. */
  readonly description?: string;
}

export interface Tag {
  readonly name: string;
  readonly manifestDigest: string;
}

/** One version of a tag in Quay's tag history: the manifest it pointed at, and whether it still does. */
export interface TagVersion {
  readonly manifestDigest: string;
  /** No `end_ts`: the tag's current version (one with a future expiry has an `end_ts` too, and counts as ended). */
  readonly current: boolean;
}

export interface CurrentUser {
  readonly username: string;
  readonly superUser: boolean;
  /** Organizations the token's user belongs to (from GET /api/v1/user/). */
  readonly organizations: readonly string[];
}

export interface QuayClient {
  /** GET /api/v1/user/ — validates the token. */
  readonly currentUser: () => QuayResult<CurrentUser>;

  readonly getOrganization: (org: string) => QuayResult<O.Option<{ readonly name: string }>>;
  /** Creates with QBO's email `<org>@redhat.com` unless given; an existing org is `unchanged`.
   *  Quay's "Username is not available" (name held back after a delete) comes back as QuayRejected. */
  readonly ensureOrganization: (org: string, email?: string) => QuayResult<Change>;
  /** The e-mail (quay-bridge's mark) and whether the token's user is an admin; `none` when missing. */
  readonly getOrganizationOwner: (
    org: string,
  ) => QuayResult<O.Option<{ readonly email: string; readonly isAdmin: boolean }>>;
  /** PUT the organization's e-mail (adoption). */
  readonly setOrganizationEmail: (org: string, email: string) => QuayResult<Change>;
  /** A missing organization (Quay answers 403 to its DELETE) is `unchanged`. */
  readonly deleteOrganization: (org: string) => QuayResult<Change>;

  /** Quay answers 400 "Could not find robot…" for a missing robot: that is `none`. */
  readonly getRobot: (org: string, shortname: string) => QuayResult<O.Option<Robot>>;
  /** Existing robot (400 "Existing robot with name") is fetched and `unchanged`. */
  readonly ensureRobot: (
    org: string,
    shortname: string,
    description: string,
  ) => QuayResult<{ readonly robot: Robot; readonly change: Change }>;
  readonly deleteRobot: (org: string, shortname: string) => QuayResult<Change>;
  readonly regenerateRobot: (org: string, shortname: string) => QuayResult<Robot>;
  /** All robots of the organization with their tokens, in one call; `none` when the organization is missing. */
  readonly listRobots: (org: string) => QuayResult<O.Option<readonly Robot[]>>;

  readonly listDefaultPermissions: (org: string) => QuayResult<readonly Prototype[]>;
  /** Exactly one prototype for the robot with the role: adds it, fixes a wrong role, deletes duplicates (docs/qbo-compatibility.md#b9).
   *  After an add the list is read again and duplicates removed, keeping the same one in every process (two
   *  deliveries in two pods may add one each), unless `robotCreated`: this process's PUT of the robot answered 201
   *  just now (shared/quay/prototypes.ts WantedPermission). Calls for the same robot run one at a time in a client.
   *  `current`: the list just read with listDefaultPermissions, which saves a GET per robot (re-read if stale). */
  readonly ensureDefaultPermission: (
    org: string,
    robotName: string,
    role: RobotRole,
    current?: readonly Prototype[],
    robotCreated?: boolean,
  ) => QuayResult<Change>;
  /** ensureDefaultPermission for several robots of one organization: one list, and one re-read after the adds. */
  readonly ensureDefaultPermissions: (
    org: string,
    wanted: readonly {
      readonly robotName: string;
      readonly role: RobotRole;
      readonly robotCreated?: boolean;
    }[],
    current?: readonly Prototype[],
  ) => QuayResult<readonly Change[]>;

  /** 404 and 403 (not visible) are both `none`. */
  readonly getRepository: (org: string, repo: string) => QuayResult<O.Option<Repository>>;
  /** Private image repository; an existing one ("Repository already exists") is `unchanged`. */
  readonly ensureRepository: (org: string, repo: string, description: string) => QuayResult<Change>;
  /** Quay answers 204 whether or not the repository existed, so this is `deleted` either way. */
  readonly deleteRepository: (org: string, repo: string) => QuayResult<Change>;
  /** Direct user permissions of a repository by user/robot name. */
  readonly listRepositoryPermissions: (
    org: string,
    repo: string,
  ) => QuayResult<ReadonlyMap<string, RobotRole>>;
  /** Quay's PUT is an upsert that does not say whether anything changed: this is `updated` either way. */
  readonly setRepositoryPermission: (
    org: string,
    repo: string,
    robotName: string,
    role: RobotRole,
  ) => QuayResult<Change>;
  readonly deleteRepositoryPermission: (org: string, repo: string, robotName: string) => QuayResult<Change>;
  /** Every repository of the organization (follows next_page). */
  readonly listRepositories: (org: string) => QuayResult<readonly string[]>;
  /** Every tag of a repository (follows page/has_additional); `none` when the repository is missing. */
  readonly listTags: (org: string, repo: string) => QuayResult<O.Option<readonly Tag[]>>;
  /**
   * The newest versions of one tag, newest first (one request: at most TAG_VERSIONS_LIMIT of them); `none` when the
   * repository is missing or not readable.
   */
  readonly tagVersions: (
    org: string,
    repo: string,
    tag: string,
  ) => QuayResult<O.Option<readonly TagVersion[]>>;
}
