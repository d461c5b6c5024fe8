// A plain JSON view of the emulator's world, for tests that assert the state of the world rather than calls made.
import type { Json } from './json.js';
import type { RepoRole, TeamRole } from './scopes.js';
import type { World } from './state.js';

export interface EmulatorSnapshot {
  readonly users: readonly {
    readonly username: string;
    readonly email: string;
    readonly superUser: boolean;
    readonly enabled: boolean;
  }[];
  readonly organizations: readonly {
    readonly name: string;
    readonly email: string;
    readonly teams: readonly {
      readonly name: string;
      readonly role: TeamRole;
      readonly members: readonly string[];
    }[];
  }[];
  readonly robots: readonly {
    /** `<owner>+<shortname>` */
    readonly name: string;
    readonly description: string;
    readonly token: string;
    readonly unstructuredMetadata: Json;
    /** ISO 8601 */
    readonly created: string;
    readonly lastAccessed: string | null;
  }[];
  readonly prototypes: readonly {
    readonly org: string;
    readonly id: string;
    readonly role: RepoRole;
    readonly activatingUser: string | null;
    readonly delegate: { readonly kind: 'user' | 'team'; readonly name: string };
  }[];
  readonly repositories: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly visibility: 'public' | 'private';
    readonly description: string;
    /** Direct user and robot permissions by name. */
    readonly userPermissions: Readonly<Record<string, RepoRole>>;
    readonly teamPermissions: Readonly<Record<string, RepoRole>>;
    /** Active tags, newest first. */
    readonly tags: readonly {
      readonly name: string;
      readonly manifestDigest: string;
      readonly size: number;
    }[];
  }[];
  /** OAuth applications and the tokens issued for them. */
  readonly applications: readonly {
    readonly org: string;
    readonly name: string;
    readonly clientId: string;
    readonly redirectUri: string;
    /** The scopes of each unexpired token issued for it, each sorted, oldest token first. */
    readonly tokens: readonly (readonly string[])[];
  }[];
  /** Deleted but not yet garbage-collected: organization and user names still reserved, repositories renamed. */
  readonly pendingDeletion: {
    readonly namespaces: readonly string[];
    readonly repositories: readonly {
      readonly namespace: string;
      readonly name: string;
      readonly deletedAs: string;
    }[];
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export const snapshot = (world: World): EmulatorSnapshot => {
  const accounts = [...world.accounts.values()].sort((a, b) => a.id - b.id);
  const nameOf = (id: number | null): string | null =>
    id === null ? null : (world.accounts.get(id)?.username ?? null);
  const live = accounts.filter((a) => a.enabled && !world.deletedNamespaces.has(a.id));
  const repos = [...world.repositories.values()].sort((a, b) => a.id - b.id);
  return {
    users: live
      .filter((a) => a.kind === 'user')
      .map((u) => ({
        username: u.username,
        email: u.email,
        superUser: world.superUsers.has(u.username),
        enabled: u.enabled,
      })),
    organizations: live
      .filter((a) => a.kind === 'org')
      .map((o) => ({
        name: o.username,
        email: o.email,
        teams: world
          .teamsOf(o.id)
          .sort((a, b) => a.id - b.id)
          .map((t) => ({
            name: t.name,
            role: t.role,
            members: [...t.members].map((id) => nameOf(id) ?? '').sort(),
          })),
      })),
    robots: accounts
      .filter((a) => a.kind === 'robot')
      .map((r) => ({
        name: r.username,
        description: r.robot?.description ?? '',
        token: r.robot?.token ?? '',
        unstructuredMetadata: r.robot?.metadata ?? {},
        created: iso(r.createdMs),
        lastAccessed: r.lastAccessedMs === null ? null : iso(r.lastAccessedMs),
      })),
    prototypes: [...world.prototypes.values()]
      .sort((a, b) => a.id - b.id)
      .map((p) => ({
        org: nameOf(p.orgId) ?? '',
        id: p.uuid,
        role: p.role,
        activatingUser: nameOf(p.activatingUserId),
        delegate:
          p.delegateTeamId !== null
            ? { kind: 'team' as const, name: world.teams.get(p.delegateTeamId)?.name ?? '' }
            : { kind: 'user' as const, name: nameOf(p.delegateUserId) ?? '' },
      })),
    repositories: repos
      .filter((r) => r.state !== 'MARKED_FOR_DELETION' && !world.deletedNamespaces.has(r.namespaceId))
      .map((r) => {
        const perms = world.permissionsOf(r.id);
        return {
          namespace: nameOf(r.namespaceId) ?? '',
          name: r.name,
          visibility: r.visibility,
          description: r.description,
          userPermissions: Object.fromEntries(
            perms.filter((p) => p.userId !== null).map((p) => [nameOf(p.userId) ?? '', p.role]),
          ),
          teamPermissions: Object.fromEntries(
            perms.flatMap((p) => {
              const team = p.teamId === null ? undefined : world.teams.get(p.teamId);
              return team === undefined ? [] : [[team.name, p.role] as const];
            }),
          ),
          tags: world
            .tagsOf(r.id)
            .filter((t) => t.endMs === null)
            .sort((a, b) => b.startMs - a.startMs || (a.name < b.name ? -1 : 1))
            .map((t) => ({ name: t.name, manifestDigest: t.digest, size: t.size })),
        };
      }),
    applications: [...world.applications.values()].map((a) => ({
      org: nameOf(a.orgId) ?? '',
      name: a.name,
      clientId: a.clientId,
      redirectUri: a.redirectUri,
      tokens: [...world.tokens.values()]
        .filter((t) => t.clientId === a.clientId && t.expiresAtMs > world.now())
        .map((t) => [...t.scopes].sort()),
    })),
    pendingDeletion: {
      namespaces: [...world.deletedNamespaces.values()].map((d) => d.originalUsername),
      repositories: repos
        .filter((r) => r.state === 'MARKED_FOR_DELETION')
        .map((r) => ({ namespace: nameOf(r.namespaceId) ?? '', name: r.originalName, deletedAs: r.name })),
    },
  };
};
