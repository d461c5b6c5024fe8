// Users and organizations: creation with Quay's name rules, and deletion that renames the namespace and holds its
// name back until the namespace garbage collector runs (data/model/user.py, data/model/organization.py).
import type { Account, DeletedNamespace, World } from './state.js';

/** A DataModelException: Quay's model layer failing with this message. */
export interface ModelError {
  readonly message: string;
}
export type ModelResult<A> =
  { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: ModelError };
export const success = <A>(value: A): ModelResult<A> => ({ ok: true, value });
export const failure = <A>(message: string): ModelResult<A> => ({ ok: false, error: { message } });

export const USERNAME_REGEX = '^([a-z0-9]+(?:[._-][a-z0-9]+)*)$';
// Python's re.match lets `$` match before one trailing newline; JS needs it spelled out.
const USERNAME = /^([a-z0-9]+(?:[._-][a-z0-9]+)*)\n?$/;

/** util/validation.validate_username: undefined when valid, else the issue. */
export const usernameIssue = (name: string): string | undefined => {
  if (!USERNAME.test(name)) return `Namespace must match expression ${USERNAME_REGEX}`;
  if (name.length < 2 || name.length > 255) return 'Namespace must be between 2 and 255 characters in length';
  return undefined;
};

export const DEFAULT_TAG_EXPIRATION_S = 1209600;

const newAccount = (world: World, username: string, email: string, kind: Account['kind']): Account => {
  const account: Account = {
    id: world.nextId(),
    username,
    email,
    kind,
    enabled: true,
    verified: false,
    createdMs: world.now(),
    lastAccessedMs: null,
    tagExpirationS: DEFAULT_TAG_EXPIRATION_S,
    invoiceEmail: false,
    invoiceEmailAddress: null,
    password: null,
    robot: null,
  };
  world.accounts.set(account.id, account);
  return account;
};

/** create_user_noverify with FEATURE_MAILING off: no e-mail means a random UUID stands in for it. */
const createNamespaceAccount = (
  world: World,
  username: string,
  email: string | null,
  kind: 'user' | 'org',
): ModelResult<Account> => {
  const issue = usernameIssue(username);
  if (issue !== undefined) return failure(`Invalid namespace ${username}: ${issue}`);
  const existing = world.account(username);
  if (existing !== undefined) {
    return failure(
      existing.kind === 'org'
        ? `Username has already been taken by an organization and cannot be reused: ${username}`
        : `Username has already been taken by user cannot be reused: ${username}`,
    );
  }
  if ([...world.deletedNamespaces.values()].some((d) => d.originalUsername === username)) {
    return failure('Username is not available');
  }
  return success(newAccount(world, username, email ?? world.random.uuid4(), kind));
};

/** data.model.user.create_user (as used by superuser user creation and /api/v1/user/initialize). */
export const createUser = (
  world: World,
  username: string,
  password: string,
  email: string | null,
): ModelResult<Account> => {
  if (/\s/.test(password) || password.length < 8) {
    return failure('Invalid password, password must be at least 8 characters and contain no whitespace.');
  }
  const created = createNamespaceAccount(world, username, email, 'user');
  if (created.ok) {
    created.value.password = password;
    created.value.verified = true;
  }
  return created;
};

export const findUserByEmail = (world: World, email: string): Account | undefined =>
  [...world.accounts.values()].find((a) => a.kind === 'user' && a.email === email);

/** data.model.organization.create_organization: the org, plus an `owners` team holding its creator. */
export const createOrganization = (
  world: World,
  name: string,
  email: string | null,
  creator: Account,
): ModelResult<Account> => {
  if (email !== null && findUserByEmail(world, email) !== undefined) {
    return failure(`Email has already been used: ${email}`);
  }
  const created = createNamespaceAccount(world, name, null, 'org');
  if (!created.ok) return created;
  const org = created.value;
  if (email !== null) org.email = email;
  const owners = {
    id: world.nextId(),
    orgId: org.id,
    name: 'owners',
    description: '',
    role: 'admin' as const,
  };
  world.teams.set(owners.id, { ...owners, members: new Set([creator.id]) });
  return created;
};

/**
 * mark_namespace_for_deletion: teams and robots go at once; the namespace is renamed to a UUID and disabled, and a
 * DeletedNamespace marker keeps its name reserved ("Username is not available") until purgeNamespace runs.
 */
export const markNamespaceForDeletion = (world: World, ns: Account): DeletedNamespace | undefined => {
  if (!ns.enabled) return undefined;
  if (ns.kind === 'org') {
    for (const team of world.teamsOf(ns.id)) world.deleteTeamRows(team.id);
  } else {
    for (const team of world.teams.values()) team.members.delete(ns.id);
  }
  for (const robot of world.robotsOf(ns.username)) world.deleteAccountRows(robot.id);
  const marker: DeletedNamespace = {
    namespaceId: ns.id,
    originalUsername: ns.username,
    deletedAtMs: world.now(),
  };
  world.deletedNamespaces.set(ns.id, marker);
  ns.enabled = false;
  ns.username = world.random.uuid4();
  ns.email = world.random.uuid4();
  return marker;
};

/** The namespace GC worker: everything left of the namespace goes, and its name becomes available again. */
const purgeNamespace = (world: World, marker: DeletedNamespace): void => {
  for (const repo of [...world.repositories.values()]) {
    if (repo.namespaceId === marker.namespaceId) world.deleteRepositoryRows(repo.id);
  }
  for (const p of world.prototypesOf(marker.namespaceId)) world.prototypes.delete(p.id);
  for (const team of world.teamsOf(marker.namespaceId)) world.deleteTeamRows(team.id);
  world.deleteAccountRows(marker.namespaceId);
  world.deletedNamespaces.delete(marker.namespaceId);
};

/**
 * The namespace and repository GC workers: purge what was deleted at or before `cutoffMs`. Until then a deleted
 * organization's name stays reserved and a deleted repository still shows, under its UUID name, in robot
 * permission listings.
 */
export const collectGarbage = (world: World, cutoffMs = Infinity): void => {
  for (const marker of [...world.deletedNamespaces.values()]) {
    if (marker.deletedAtMs <= cutoffMs) purgeNamespace(world, marker);
  }
  for (const repo of [...world.repositories.values()]) {
    if (repo.state === 'MARKED_FOR_DELETION' && (repo.deletedAtMs ?? 0) <= cutoffMs)
      world.deleteRepositoryRows(repo.id);
  }
};
