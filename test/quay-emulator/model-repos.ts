// Repositories, their permissions, default-permission prototypes and tags (data/model/repository.py,
// data/model/permission.py).
import { failure, success, type ModelResult } from './model-namespaces.js';
import type { RepoRole } from './scopes.js';
import type { Account, Repository, RepoPermission, Team, World } from './state.js';

/**
 * FEATURE_EXTENDED_REPOSITORY_NAMES (on by default): `/` allowed inside the name. Python's re.match lets `$` match
 * before one trailing newline, hence the `\n?`.
 */
export const REPOSITORY_NAME = /^(?=.{0,255}\n?$)[a-z0-9][.a-z0-9_-]*(?:\/[a-z0-9][.a-z0-9_-]*)*\n?$/;

/**
 * create_repository: the creating user (not an organization) gets `admin`, and, for repositories created in an
 * organization by someone else, the organization's prototypes are applied.
 */
export const createRepository = (
  world: World,
  namespace: Account,
  name: string,
  creator: Account | undefined,
  visibility: 'public' | 'private',
  description: string,
): Repository => {
  const repo: Repository = {
    id: world.nextId(),
    namespaceId: namespace.id,
    name,
    originalName: name,
    visibility,
    description,
    state: 'NORMAL',
    badgeToken: world.random.uuid4(),
    deletedAtMs: null,
  };
  world.repositories.set(repo.id, repo);
  if (creator !== undefined && creator.kind !== 'org') {
    addPermission(world, repo, { userId: creator.id, teamId: null }, 'admin');
    if (creator.username !== namespace.username) applyPrototypes(world, repo, namespace, creator);
  }
  return repo;
};

const addPermission = (
  world: World,
  repo: Repository,
  who: { readonly userId: number | null; readonly teamId: number | null },
  role: RepoRole,
): RepoPermission => {
  const perm: RepoPermission = { id: world.nextId(), repoId: repo.id, ...who, role };
  world.repoPermissions.set(perm.id, perm);
  return perm;
};

/**
 * apply_default_permissions: prototypes whose activating user is empty or the creator; per delegate the first one
 * wins unless a later one is specific to the creator. Duplicates make one permission. The creator keeps admin.
 */
const applyPrototypes = (world: World, repo: Repository, org: Account, creator: Account): void => {
  const applicable = world
    .prototypesOf(org.id)
    .filter((p) => p.activatingUserId === null || p.activatingUserId === creator.id);
  const pick = <K>(entries: readonly (readonly [K, RepoRole, boolean])[]): Map<K, RepoRole> => {
    const chosen = new Map<K, RepoRole>();
    for (const [key, role, userSpecific] of entries) {
      if (chosen.has(key) && !userSpecific) continue;
      chosen.set(key, role);
    }
    return chosen;
  };
  const teams = pick(
    applicable
      .filter((p) => p.delegateTeamId !== null)
      .map((p) => [p.delegateTeamId ?? 0, p.role, p.activatingUserId !== null] as const),
  );
  for (const [teamId, role] of teams) addPermission(world, repo, { userId: null, teamId }, role);
  const users = pick(
    applicable
      .filter((p) => p.delegateUserId !== null)
      .map((p) => [p.delegateUserId ?? 0, p.role, p.activatingUserId !== null] as const),
  );
  for (const [userId, role] of users) {
    if (userId !== creator.id) addPermission(world, repo, { userId, teamId: null }, role);
  }
};

/** mark_repository_for_deletion: renamed to a UUID and hidden; the name can be reused at once. */
export const markRepositoryForDeletion = (world: World, repo: Repository): void => {
  repo.name = world.random.uuid4();
  repo.state = 'MARKED_FOR_DELETION';
  repo.deletedAtMs = world.now();
};

export const userPermission = (world: World, repo: Repository, user: Account): RepoPermission | undefined =>
  world.permissionsOf(repo.id).find((p) => p.userId === user.id);

export const teamPermission = (world: World, repo: Repository, team: Team): RepoPermission | undefined =>
  world.permissionsOf(repo.id).find((p) => p.teamId === team.id);

/** set_user_repo_permission: an upsert, with Quay's checks in Quay's order. */
export const setUserPermission = (
  world: World,
  namespace: string,
  repo: Repository | undefined,
  username: string,
  role: RepoRole,
): ModelResult<{ readonly user: Account; readonly role: RepoRole }> | 'no-repository' => {
  if (username === namespace) return failure('Namespace owner must always be admin.');
  const user = world.account(username);
  if (user === undefined) return failure(`Invalid username: ${username}`);
  if (user.kind === 'robot') {
    const owner = user.username.split('+', 1)[0];
    if (owner !== namespace) return failure(`Cannot add robot ${username} under namespace ${namespace}`);
  }
  if (repo === undefined) return 'no-repository';
  const existing = userPermission(world, repo, user);
  if (existing !== undefined) existing.role = role;
  else addPermission(world, repo, { userId: user.id, teamId: null }, role);
  return success({ user, role });
};

export const setTeamPermission = (
  world: World,
  org: Account | undefined,
  namespace: string,
  repo: Repository | undefined,
  teamName: string,
  role: RepoRole,
): ModelResult<{ readonly team: Team; readonly role: RepoRole }> | 'no-repository' => {
  const team = org === undefined ? undefined : world.team(org.id, teamName);
  if (team === undefined) return failure(`No team ${teamName} in organization ${namespace}`);
  if (repo === undefined) return 'no-repository';
  const existing = teamPermission(world, repo, team);
  if (existing !== undefined) existing.role = role;
  else addPermission(world, repo, { userId: null, teamId: team.id }, role);
  return success({ team, role });
};

/** Pushing a tag ends the life of the previous tag of that name; the tag history keeps both. */
export const pushTag = (world: World, repo: Repository, name: string, digest: string, size: number): void => {
  const now = world.now();
  for (const t of world.tagsOf(repo.id)) if (t.name === name && t.endMs === null) t.endMs = now;
  const id = world.nextId();
  world.tags.set(id, { id, repoId: repo.id, name, digest, size, startMs: now, endMs: null });
};

/** Active tags and history in Quay's order: newest first, then by name. */
export const tagHistory = (world: World, repo: Repository): ReturnType<World['tagsOf']> =>
  world
    .tagsOf(repo.id)
    .sort((a, b) => b.startMs - a.startMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
