// OAuth scopes and the way Quay enforces them: not per endpoint (`@require_scope` is Swagger metadata only) but by
// capping the caller's real roles (auth/permissions.py, QuayDeferredPermissionUser; docs/quay-api.md#scopes).

export const SCOPES = [
  'repo:read',
  'repo:write',
  'repo:admin',
  'repo:create',
  'user:read',
  'user:admin',
  'org:admin',
  'super:user',
] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

export const REPO_ROLES = ['read', 'write', 'admin'] as const;
export type RepoRole = (typeof REPO_ROLES)[number];
export const TEAM_ROLES = ['member', 'creator', 'admin'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];
export type UserRole = 'read' | 'admin';

// Role ladders, lowest first; index 0 is "no role".
const REPO_LADDER = [undefined, 'read', 'write', 'admin'] as const;
const TEAM_LADDER = [undefined, 'member', 'creator', 'admin'] as const;
const USER_LADDER = [undefined, 'read', 'admin'] as const;

const REPO_CAP: Partial<Record<Scope, RepoRole>> = {
  'repo:read': 'read',
  'repo:write': 'write',
  'repo:admin': 'admin',
};
const TEAM_CAP: Partial<Record<Scope, TeamRole>> = { 'repo:create': 'creator', 'org:admin': 'admin' };
const USER_CAP: Partial<Record<Scope, UserRole>> = { 'user:read': 'read', 'user:admin': 'admin' };

const capRole = <R extends string>(
  ladder: readonly (R | undefined)[],
  caps: Partial<Record<Scope, R>>,
  scopes: ReadonlySet<Scope>,
  role: R | undefined,
): R | undefined => {
  const max = Math.max(...[...scopes].map((s) => ladder.indexOf(caps[s])));
  return ladder.indexOf(role) > max ? ladder[max] : role;
};

/** The role a token with these scopes may exercise, given the caller's real role. */
export const capRepoRole = (scopes: ReadonlySet<Scope>, role: RepoRole | undefined): RepoRole | undefined =>
  capRole<RepoRole>(REPO_LADDER, REPO_CAP, scopes, role);
export const capTeamRole = (scopes: ReadonlySet<Scope>, role: TeamRole | undefined): TeamRole | undefined =>
  capRole<TeamRole>(TEAM_LADDER, TEAM_CAP, scopes, role);
export const capUserRole = (scopes: ReadonlySet<Scope>, role: UserRole | undefined): UserRole | undefined =>
  capRole<UserRole>(USER_LADDER, USER_CAP, scopes, role);

export const repoRoleAtLeast = (role: RepoRole | undefined, wanted: RepoRole): boolean =>
  REPO_LADDER.indexOf(role) >= REPO_LADDER.indexOf(wanted);
export const maxRepoRole = (a: RepoRole | undefined, b: RepoRole | undefined): RepoRole | undefined =>
  REPO_LADDER.indexOf(a) >= REPO_LADDER.indexOf(b) ? a : b;
export const maxTeamRole = (a: TeamRole | undefined, b: TeamRole | undefined): TeamRole | undefined =>
  TEAM_LADDER.indexOf(a) >= TEAM_LADDER.indexOf(b) ? a : b;
