// The JSON views Quay returns for its entities, shared by several endpoints.
import { createHash } from 'node:crypto';
import type { Json, JsonObject } from './json.js';
import type { Account, Prototype, Tag, Team, World } from './state.js';

// Quay's AVATAR_COLORS (config.py).
const AVATAR_COLORS = [
  '#969696', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896',
  '#9467bd', '#c5b0d5', '#8c564b', '#c49c94', '#e377c2', '#f7b6d2', '#7f7f7f', '#c7c7c7',
  '#bcbd22', '#1f77b4', '#17becf', '#9edae5', '#393b79', '#5254a3', '#6b6ecf', '#9c9ede',
  '#9ecae1', '#31a354', '#b5cf6b', '#a1d99b', '#8c6d31', '#ad494a', '#e7ba52', '#a55194',
]; // prettier-ignore

/** The local avatar: sha256 of the e-mail (or id, or name), and a palette colour picked by its first hex digits. */
export const avatar = (
  name: string,
  emailOrId: string | null,
  kind: 'user' | 'org' | 'robot' | 'team' | 'app',
): JsonObject => {
  const hash = createHash('sha256')
    .update((emailOrId !== null && emailOrId !== '' ? emailOrId : name).trim().toLowerCase())
    .digest('hex');
  const digits = Math.ceil(Math.log(AVATAR_COLORS.length) / Math.log(16));
  const color = AVATAR_COLORS[parseInt(hash.slice(0, digits), 16) % AVATAR_COLORS.length] ?? '#969696';
  return { name, hash, color, kind };
};

/** get_data_for_user: robots are "robot", users and organizations "user". */
export const accountAvatar = (a: Account): JsonObject =>
  avatar(a.username, a.email, a.kind === 'robot' ? 'robot' : 'user');
export const orgAvatar = (a: Account): JsonObject => avatar(a.username, a.email, 'org');
export const teamAvatar = (t: Team): JsonObject => avatar(t.name, t.name, 'team');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** RFC 2822 as Python's email.utils.formatdate writes UTC: "Wed, 25 Nov 2026 08:04:15 -0000". */
export const formatDate = (ms: number): string => {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return (
    `${DAYS[d.getUTCDay()] ?? ''}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} -0000`
  );
};

/** Quay's validate_email: one "@", a non-empty local part and a dotted domain, at most 254 characters. */
export const validEmail = (email: string | null | undefined): boolean => {
  if (email === null || email === undefined || email === '' || email.length > 254) return false;
  const parts = email.split('@');
  if (parts.length !== 2) return false;
  const [local = '', domain = ''] = parts;
  const labels = domain.split('.');
  return local !== '' && domain !== '' && labels.length >= 2 && labels.every((l) => l !== '');
};

/** Robot.to_dict */
export const robotView = (
  robot: Account,
  /** `metadata`: absent, the stored metadata (`{}` when none), or this value as the create call returned it. */
  opts: { readonly token: boolean; readonly metadata?: 'stored' | { readonly value: Json } },
): JsonObject => {
  const r = robot.robot;
  return {
    name: robot.username,
    created: formatDate(robot.createdMs),
    last_accessed: robot.lastAccessedMs === null ? null : formatDate(robot.lastAccessedMs),
    description: r?.description ?? '',
    ...(opts.token ? { token: r?.token ?? '' } : {}),
    ...(opts.metadata === undefined
      ? {}
      : { unstructured_metadata: opts.metadata === 'stored' ? (r?.metadata ?? {}) : opts.metadata.value }),
  };
};

/** Whether a user belongs to any team of the organization. */
export const isOrgMember = (world: World, orgId: number, userId: number): boolean =>
  world.teamsOf(orgId).some((t) => t.members.has(userId));

/** A repository user permission; `is_org_member` only for organization namespaces, and robots always count. */
export const userPermissionView = (
  world: World,
  user: Account,
  role: string,
  namespace: Account,
): JsonObject => ({
  role,
  name: user.username,
  is_robot: user.kind === 'robot',
  avatar: accountAvatar(user),
  ...(namespace.kind === 'org'
    ? { is_org_member: user.kind === 'robot' || isOrgMember(world, namespace.id, user.id) }
    : {}),
});

export const teamPermissionView = (team: Team, role: string): JsonObject => ({
  role,
  name: team.name,
  avatar: teamAvatar(team),
});

const prototypeUserView = (world: World, user: Account, orgId: number): JsonObject => ({
  name: user.username,
  is_robot: user.kind === 'robot',
  kind: 'user',
  is_org_member: user.kind === 'robot' || isOrgMember(world, orgId, user.id),
  avatar: accountAvatar(user),
});

export const prototypeView = (world: World, p: Prototype): JsonObject => {
  const activating = p.activatingUserId === null ? undefined : world.accounts.get(p.activatingUserId);
  const delegateUser = p.delegateUserId === null ? undefined : world.accounts.get(p.delegateUserId);
  const delegateTeam = p.delegateTeamId === null ? undefined : world.teams.get(p.delegateTeamId);
  return {
    activating_user: activating === undefined ? null : prototypeUserView(world, activating, p.orgId),
    delegate:
      delegateUser !== undefined
        ? prototypeUserView(world, delegateUser, p.orgId)
        : {
            name: delegateTeam?.name ?? '',
            kind: 'team',
            avatar: delegateTeam ? teamAvatar(delegateTeam) : null,
          },
    role: p.role,
    id: p.uuid,
  };
};

/**
 * A tag in the tag-history list (endpoints/api/tag.py, with FEATURE_IMMUTABLE_TAGS on as in the recording). The
 * emulator's pushes are single-architecture images, never manifest lists.
 */
export const tagHistoryView = (t: Tag): JsonObject => {
  const start = Math.floor(t.startMs / 1000);
  const end = t.endMs === null ? null : Math.floor(t.endMs / 1000);
  return {
    name: t.name,
    reversion: false,
    immutable: false,
    start_ts: start,
    ...(end === null ? {} : { end_ts: end }),
    manifest_digest: t.digest,
    is_manifest_list: false,
    size: t.size,
    last_modified: formatDate(t.startMs),
    ...(end === null ? {} : { expiration: formatDate(end * 1000) }),
  };
};

/** A tag inside GET /repository/{repo}. */
export const repositoryTagView = (t: Tag): JsonObject => ({
  name: t.name,
  size: t.size,
  last_modified: formatDate(t.startMs),
  ...(t.endMs === null ? {} : { expiration: formatDate(t.endMs) }),
  manifest_digest: t.digest,
});
