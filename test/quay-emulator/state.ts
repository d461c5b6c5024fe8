// The emulator's in-memory database: plain records in maps, one per Quay table the API touches. Business rules
// live in model-*.ts; this file only stores, finds and hands out ids.
import type { JsonObject } from './json.js';
import type { Random } from './random.js';
import type { RepoRole, Scope, TeamRole } from './scopes.js';

/** A row of Quay's User table: users, organizations and robots share it (and one namespace of names). */
export interface Account {
  readonly id: number;
  username: string;
  email: string;
  readonly kind: 'user' | 'org' | 'robot';
  enabled: boolean;
  verified: boolean;
  readonly createdMs: number;
  lastAccessedMs: number | null;
  tagExpirationS: number;
  invoiceEmail: boolean;
  invoiceEmailAddress: string | null;
  password: string | null;
  robot: { token: string; description: string; metadata: JsonObject } | null;
}

export interface Team {
  readonly id: number;
  readonly orgId: number;
  readonly name: string;
  description: string;
  role: TeamRole;
  readonly members: Set<number>;
}

export type RepoState = 'NORMAL' | 'READ_ONLY' | 'MIRROR' | 'MARKED_FOR_DELETION';

export interface Repository {
  readonly id: number;
  readonly namespaceId: number;
  name: string;
  /** The name before a delete renamed it to a UUID. */
  originalName: string;
  visibility: 'public' | 'private';
  description: string;
  state: RepoState;
  readonly badgeToken: string;
  /** When a delete marked it for garbage collection. */
  deletedAtMs: number | null;
}

export interface RepoPermission {
  readonly id: number;
  readonly repoId: number;
  readonly userId: number | null;
  readonly teamId: number | null;
  role: RepoRole;
}

export interface Prototype {
  readonly id: number;
  readonly uuid: string;
  readonly orgId: number;
  readonly activatingUserId: number | null;
  readonly delegateUserId: number | null;
  readonly delegateTeamId: number | null;
  role: RepoRole;
}

export interface Tag {
  readonly id: number;
  readonly repoId: number;
  readonly name: string;
  readonly digest: string;
  readonly size: number;
  readonly startMs: number;
  endMs: number | null;
}

export interface OAuthToken {
  readonly token: string;
  readonly userId: number;
  readonly scopes: ReadonlySet<Scope>;
  readonly expiresAtMs: number;
  /** The OAuth application it was issued for (the implicit grant's "already granted" check reads it). */
  readonly clientId?: string;
}

/** Quay's OAuthApplication: owned by an organization (or, for initialize's `automation`, by the user). */
export interface OAuthApplication {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly orgId: number;
  readonly name: string;
  readonly description: string;
  readonly applicationUri: string;
  readonly redirectUri: string;
  readonly avatarEmail: string | null;
}

/** User.invalid_login_attempts and last_invalid_login: the sign-in back-off. */
export interface LoginFailures {
  readonly count: number;
  readonly lastMs: number;
}

/** Quay's DeletedNamespace marker: the name stays reserved until the namespace GC worker purges it. */
export interface DeletedNamespace {
  readonly namespaceId: number;
  readonly originalUsername: string;
  readonly deletedAtMs: number;
}

export class World {
  readonly accounts = new Map<number, Account>();
  readonly teams = new Map<number, Team>();
  readonly repositories = new Map<number, Repository>();
  readonly repoPermissions = new Map<number, RepoPermission>();
  readonly prototypes = new Map<number, Prototype>();
  readonly tags = new Map<number, Tag>();
  readonly tokens = new Map<string, OAuthToken>();
  readonly deletedNamespaces = new Map<number, DeletedNamespace>();
  /** Registry content by `<repository id> <digest>`, and blob uploads in progress by their uuid. */
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { readonly mediaType: string; readonly body: Buffer }>();
  readonly uploads = new Map<string, { readonly repoId: number; data: Buffer }>();
  /** By client_id, in creation order. */
  readonly applications = new Map<string, OAuthApplication>();
  readonly loginFailures = new Map<number, LoginFailures>();
  /** SUPER_USERS in Quay's config. */
  readonly superUsers = new Set<string>(['quayadmin']);
  private lastId = 0;

  constructor(
    readonly random: Random,
    readonly now: () => number,
  ) {}

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  /** Any account (user, organization or robot) by exact name. */
  account(username: string): Account | undefined {
    for (const a of this.accounts.values()) if (a.username === username) return a;
    return undefined;
  }

  /** Quay's get_user: users and robots, not organizations. */
  userOrRobot(username: string): Account | undefined {
    const a = this.account(username);
    return a?.kind === 'org' ? undefined : a;
  }

  organization(name: string): Account | undefined {
    const a = this.account(name);
    return a?.kind === 'org' ? a : undefined;
  }

  /** A user or organization, not a robot (Quay's get_user_or_org / namespace lookup). */
  namespace(name: string): Account | undefined {
    const a = this.account(name);
    return a?.kind === 'robot' ? undefined : a;
  }

  teamsOf(orgId: number): Team[] {
    return [...this.teams.values()].filter((t) => t.orgId === orgId);
  }

  team(orgId: number, name: string): Team | undefined {
    return this.teamsOf(orgId).find((t) => t.name === name);
  }

  /** The visible (not deleted) repository `namespace/name`. */
  repository(namespace: string, name: string): Repository | undefined {
    const ns = this.namespace(namespace);
    if (ns === undefined) return undefined;
    for (const r of this.repositories.values()) {
      if (r.namespaceId === ns.id && r.name === name && r.state !== 'MARKED_FOR_DELETION') return r;
    }
    return undefined;
  }

  permissionsOf(repoId: number): RepoPermission[] {
    return [...this.repoPermissions.values()].filter((p) => p.repoId === repoId);
  }

  prototypesOf(orgId: number): Prototype[] {
    return [...this.prototypes.values()].filter((p) => p.orgId === orgId);
  }

  tagsOf(repoId: number): Tag[] {
    return [...this.tags.values()].filter((t) => t.repoId === repoId);
  }

  /**
   * Robots whose name matches `ILIKE '<namespace>+%'`, as Quay selects them for listing and for deletion with their
   * namespace. The pattern is not escaped, so `_` in the namespace matches any one character: the robots of
   * `a-b` and `a.b` are also found for `a_b` (inferred from data/model/user.py `_list_entity_robots`).
   */
  robotsOf(namespace: string): Account[] {
    const pattern = new RegExp(
      `^${Array.from(namespace)
        .map((c) => (c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')))
        .join('')}\\+`,
      'i',
    );
    return [...this.accounts.values()].filter((a) => a.kind === 'robot' && pattern.test(a.username));
  }

  /** Removes an account's rows the way peewee's delete_instance(recursive=True) does. */
  deleteAccountRows(accountId: number): void {
    for (const p of this.repoPermissions.values())
      if (p.userId === accountId) this.repoPermissions.delete(p.id);
    for (const p of this.prototypes.values()) {
      if (p.delegateUserId === accountId || p.activatingUserId === accountId) this.prototypes.delete(p.id);
    }
    for (const t of this.teams.values()) t.members.delete(accountId);
    for (const [token, t] of this.tokens) if (t.userId === accountId) this.tokens.delete(token);
    for (const [id, a] of this.applications) if (a.orgId === accountId) this.applications.delete(id);
    this.accounts.delete(accountId);
  }

  deleteTeamRows(teamId: number): void {
    for (const p of this.repoPermissions.values()) if (p.teamId === teamId) this.repoPermissions.delete(p.id);
    for (const p of this.prototypes.values()) if (p.delegateTeamId === teamId) this.prototypes.delete(p.id);
    this.teams.delete(teamId);
  }

  deleteRepositoryRows(repoId: number): void {
    for (const p of this.permissionsOf(repoId)) this.repoPermissions.delete(p.id);
    for (const t of this.tagsOf(repoId)) this.tags.delete(t.id);
    this.repositories.delete(repoId);
  }
}
