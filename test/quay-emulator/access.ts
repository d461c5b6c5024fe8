// Who the caller is and what it may do: Quay's permission classes (auth/permissions.py), each computed from the
// caller's real roles capped by its token's scopes (scopes.ts).
import {
  capRepoRole,
  capTeamRole,
  capUserRole,
  maxRepoRole,
  maxTeamRole,
  repoRoleAtLeast,
  type RepoRole,
  type Scope,
  type TeamRole,
} from './scopes.js';
import type { Account, World } from './state.js';

/** An authenticated OAuth caller; `undefined` is anonymous (no, unknown or expired token). */
export interface Caller {
  readonly user: Account;
  readonly scopes: ReadonlySet<Scope>;
}

/** The caller's team role in an organization; every user is the admin of their own namespace. */
export const orgRole = (
  world: World,
  caller: Caller | undefined,
  namespace: string,
): TeamRole | undefined => {
  if (caller === undefined) return undefined;
  if (caller.user.username === namespace) return capTeamRole(caller.scopes, 'admin');
  const org = world.organization(namespace);
  if (org === undefined) return undefined;
  let role: TeamRole | undefined;
  for (const team of world.teamsOf(org.id)) {
    if (team.members.has(caller.user.id)) role = maxTeamRole(role, capTeamRole(caller.scopes, team.role));
  }
  return role;
};

/** The repository role that holds for every repository of a namespace (owners of an org get admin). */
const namespaceRepoRole = (world: World, caller: Caller, namespace: string): RepoRole | undefined => {
  if (caller.user.username === namespace) return capRepoRole(caller.scopes, 'admin');
  const org = world.organization(namespace);
  if (org === undefined) return undefined;
  const isOwner = world.teamsOf(org.id).some((t) => t.role === 'admin' && t.members.has(caller.user.id));
  return isOwner ? capRepoRole(caller.scopes, 'admin') : undefined;
};

/** The caller's role on `namespace/name` (which need not exist: namespace-wide roles still apply). */
export const repoRole = (
  world: World,
  caller: Caller | undefined,
  namespace: string,
  name: string,
): RepoRole | undefined => {
  if (caller === undefined) return undefined;
  let role = namespaceRepoRole(world, caller, namespace);
  const repo = world.repository(namespace, name);
  if (repo !== undefined) {
    for (const p of world.permissionsOf(repo.id)) {
      const team = p.teamId === null ? undefined : world.teams.get(p.teamId);
      if (p.userId === caller.user.id || team?.members.has(caller.user.id) === true) {
        role = maxRepoRole(role, capRepoRole(caller.scopes, p.role));
      }
    }
  }
  return role;
};

export const can = {
  administerOrganization: (world: World, caller: Caller | undefined, org: string): boolean =>
    orgRole(world, caller, org) === 'admin',
  beOrganizationMember: (world: World, caller: Caller | undefined, org: string): boolean =>
    orgRole(world, caller, org) !== undefined,
  createRepository: (world: World, caller: Caller | undefined, namespace: string): boolean => {
    const role = orgRole(world, caller, namespace);
    return role === 'admin' || role === 'creator';
  },
  readRepository: (world: World, caller: Caller | undefined, ns: string, name: string): boolean =>
    repoRoleAtLeast(repoRole(world, caller, ns, name), 'read'),
  modifyRepository: (world: World, caller: Caller | undefined, ns: string, name: string): boolean =>
    repoRoleAtLeast(repoRole(world, caller, ns, name), 'write'),
  administerRepository: (world: World, caller: Caller | undefined, ns: string, name: string): boolean =>
    repoRoleAtLeast(repoRole(world, caller, ns, name), 'admin'),
  /** UserAdminPermission / UserReadPermission on the caller's own account. */
  administerUser: (caller: Caller | undefined): boolean =>
    caller !== undefined && capUserRole(caller.scopes, 'admin') === 'admin',
  readUser: (caller: Caller | undefined): boolean =>
    caller !== undefined && capUserRole(caller.scopes, 'admin') !== undefined,
  /** Needs `super:user` in the token and the name in SUPER_USERS. */
  beSuperUser: (world: World, caller: Caller | undefined): boolean =>
    caller !== undefined && caller.scopes.has('super:user') && world.superUsers.has(caller.user.username),
};
