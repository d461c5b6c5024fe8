// An in-memory QuayClient for unit tests. It keeps the contract of shared/quay/types.ts (idempotent operations,
// `none` for missing things) and models what the steps rely on: organizations with robots (with tokens),
// default permissions (prototypes, duplicates allowed), repositories with direct permissions, prototypes applied
// when a repository is created. Every call is recorded; faults can be injected per operation.
import * as O from 'fp-ts/lib/Option.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { RobotRole } from '../../../../shared/names.js';
import type { Change, Prototype, QuayClient, QuayError, Robot } from '../../../../shared/quay/types.js';
import { countCall } from '../../../../shared/runtime/calls.js';

export interface FakeOrg {
  /** Where quay-bridge keeps its mark (shared/ownership.ts). */
  email: string;
  /** Repository descriptions (the mark of repositories the bridge made). */
  descriptions: Map<string, string>;
  robots: Map<string, Robot>;
  prototypes: Prototype[];
  repos: Map<string, Map<string, RobotRole>>;
}

export interface FakeQuay extends QuayClient {
  readonly orgs: Map<string, FakeOrg>;
  readonly calls: string[];
  /** Organizations the token's user belongs to besides those it created (e.g. other clusters'). */
  readonly memberOf: Set<string>;
  /** An organization as if made earlier: by default with the mark `markOf` gives (this cluster's). */
  readonly addOrg: (org: string, email?: string) => FakeOrg;
  /** Every call of `op` fails with `error` (`times` times, default forever). */
  readonly fail: (op: keyof QuayClient, error: QuayError, times?: number) => void;
  readonly heal: () => void;
  /** A push of `digest` to `<org>/<repo>:<tag>` (the repository must exist for tagVersions to list it). */
  readonly push: (org: string, repo: string, tag: string, digest: string) => void;
}

let tokens = 0;
const newToken = (): string => `TOKEN${String(++tokens).padStart(59, '0')}`;

export const fakeQuay = (username = 'bridge', markOf: (org: string) => string = () => ''): FakeQuay => {
  const orgs = new Map<string, FakeOrg>();
  const memberOf = new Set<string>();
  const calls: string[] = [];
  const faults = new Map<string, { error: QuayError; times: number }>();
  /** `<org>/<repo>:<tag>` → digests, newest first. */
  const pushed = new Map<string, string[]>();
  let prototypeIds = 0;

  const call =
    <A>(op: keyof QuayClient, args: readonly unknown[], f: () => TE.TaskEither<QuayError, A>) =>
    (): ReturnType<TE.TaskEither<QuayError, A>> => {
      calls.push(`${op}(${args.map((a) => (typeof a === 'string' ? a : '…')).join(',')})`);
      countCall('quay');
      const fault = faults.get(op);
      if (fault !== undefined && fault.times > 0) {
        fault.times -= 1;
        return TE.left<QuayError, A>(fault.error)();
      }
      return f()();
    };
  const missing = (what: string): QuayError => ({
    _tag: 'QuayRejected',
    status: 403,
    message: `${what}: Unauthorized`,
  });
  const withOrg = <A>(org: string, f: (o: FakeOrg) => TE.TaskEither<QuayError, A>) => {
    const o = orgs.get(org);
    return o === undefined ? TE.left(missing(org)) : f(o);
  };
  const addOrg = (org: string, email = markOf(org)): FakeOrg => {
    const o: FakeOrg = {
      email,
      descriptions: new Map(),
      robots: new Map(),
      prototypes: [],
      repos: new Map(),
    };
    orgs.set(org, o);
    return o;
  };

  const settlePrototype = (
    o: FakeOrg,
    robotName: string,
    role: RobotRole,
  ): TE.TaskEither<QuayError, Change> => {
    if (!o.robots.has(robotName))
      return TE.left<QuayError, Change>({
        _tag: 'QuayRejected',
        status: 400,
        message: 'Missing delegate user or team',
      });
    const mine = o.prototypes.filter((p) => p.delegate.kind === 'user' && p.delegate.name === robotName);
    if (mine.length === 1 && mine[0]?.role === role) return TE.right<QuayError, Change>('unchanged');
    o.prototypes = o.prototypes.filter((p) => !mine.includes(p));
    o.prototypes.push({
      id: `p${++prototypeIds}`,
      role,
      delegate: { kind: 'user', name: robotName, isRobot: true },
    });
    return TE.right<QuayError, Change>(mine.length === 0 ? 'created' : 'updated');
  };

  const self: FakeQuay = {
    orgs,
    calls,
    memberOf,
    addOrg,
    fail: (op, error, times = Number.POSITIVE_INFINITY) => {
      faults.set(op, { error, times });
    },
    heal: () => {
      faults.clear();
    },
    push: (org, repo, tag, digest) => {
      pushed.set(`${org}/${repo}:${tag}`, [digest, ...(pushed.get(`${org}/${repo}:${tag}`) ?? [])]);
    },
    currentUser: () =>
      call('currentUser', [], () =>
        TE.right({ username, superUser: false, organizations: [...new Set([...orgs.keys(), ...memberOf])] }),
      ),
    getOrganization: (org) =>
      call('getOrganization', [org], () => TE.right(orgs.has(org) ? O.some({ name: org }) : O.none)),
    ensureOrganization: (org, email) =>
      call('ensureOrganization', [org], () => {
        if (orgs.has(org)) return TE.right<QuayError, Change>('unchanged');
        addOrg(org, email ?? `${org}@redhat.com`);
        return TE.right<QuayError, Change>('created');
      }),
    getOrganizationOwner: (org) =>
      call('getOrganizationOwner', [org], () => {
        const o = orgs.get(org);
        return TE.right(o === undefined ? O.none : O.some({ email: o.email, isAdmin: true }));
      }),
    setOrganizationEmail: (org, email) =>
      call('setOrganizationEmail', [org, email], () =>
        withOrg(org, (o) => {
          o.email = email;
          return TE.right<QuayError, Change>('updated');
        }),
      ),
    deleteOrganization: (org) =>
      call('deleteOrganization', [org], () =>
        TE.right<QuayError, Change>(orgs.delete(org) ? 'deleted' : 'unchanged'),
      ),
    getRobot: (org, short) =>
      call('getRobot', [org, short], () =>
        withOrg(org, (o) => TE.right(O.fromNullable(o.robots.get(`${org}+${short}`)))),
      ),
    ensureRobot: (org, short, description) =>
      call('ensureRobot', [org, short], () =>
        withOrg(org, (o): TE.TaskEither<QuayError, { robot: Robot; change: Change }> => {
          const name = `${org}+${short}`;
          const existing = o.robots.get(name);
          if (existing !== undefined) return TE.right({ robot: existing, change: 'unchanged' });
          const robot = { name, token: newToken(), description };
          o.robots.set(name, robot);
          return TE.right({ robot, change: 'created' });
        }),
      ),
    deleteRobot: (org, short) =>
      call('deleteRobot', [org, short], () =>
        withOrg(org, (o) =>
          TE.right<QuayError, Change>(o.robots.delete(`${org}+${short}`) ? 'deleted' : 'unchanged'),
        ),
      ),
    regenerateRobot: (org, short) =>
      call('regenerateRobot', [org, short], () =>
        withOrg(org, (o) => {
          const r = o.robots.get(`${org}+${short}`);
          if (r === undefined)
            return TE.left<QuayError, Robot>({
              _tag: 'QuayRejected',
              status: 400,
              message: 'Could not find robot',
            });
          const robot = { ...r, token: newToken() };
          o.robots.set(r.name, robot);
          return TE.right(robot);
        }),
      ),
    listRobots: (org) =>
      call('listRobots', [org], () => {
        const o = orgs.get(org);
        return TE.right(o === undefined ? O.none : O.some([...o.robots.values()]));
      }),
    listDefaultPermissions: (org) =>
      call('listDefaultPermissions', [org], () => withOrg(org, (o) => TE.right([...o.prototypes]))),
    ensureDefaultPermission: (org, robotName, role) =>
      call('ensureDefaultPermission', [org, robotName, role], () =>
        withOrg(org, (o) => settlePrototype(o, robotName, role)),
      ),
    ensureDefaultPermissions: (org, wanted) =>
      call('ensureDefaultPermissions', [org, wanted.map((w) => `${w.robotName}=${w.role}`).join(';')], () =>
        withOrg(org, (o) => TE.sequenceSeqArray(wanted.map((w) => settlePrototype(o, w.robotName, w.role)))),
      ),
    getRepository: (org, repo) =>
      call('getRepository', [org, repo], () =>
        TE.right(
          orgs.get(org)?.repos.has(repo) === true
            ? O.some({
                namespace: org,
                name: repo,
                isPublic: false,
                description: orgs.get(org)?.descriptions.get(repo) ?? '',
              })
            : O.none,
        ),
      ),
    ensureRepository: (org, repo, description) =>
      call('ensureRepository', [org, repo], () =>
        withOrg(org, (o) => {
          if (o.repos.has(repo)) return TE.right<QuayError, Change>('unchanged');
          o.descriptions.set(repo, description);
          const perms = new Map<string, RobotRole>([[username, 'admin']]);
          for (const p of o.prototypes) if (p.delegate.kind === 'user') perms.set(p.delegate.name, p.role);
          o.repos.set(repo, perms);
          return TE.right<QuayError, Change>('created');
        }),
      ),
    deleteRepository: (org, repo) =>
      call('deleteRepository', [org, repo], () =>
        withOrg(org, (o) => TE.right<QuayError, Change>(o.repos.delete(repo) ? 'deleted' : 'deleted')),
      ),
    listRepositoryPermissions: (org, repo) =>
      call('listRepositoryPermissions', [org, repo], () => {
        const perms = orgs.get(org)?.repos.get(repo);
        return perms === undefined
          ? TE.left({ _tag: 'QuayRejected', status: orgs.has(org) ? 404 : 403, message: 'Not Found' })
          : TE.right(new Map(perms));
      }),
    setRepositoryPermission: (org, repo, robotName, role) =>
      call('setRepositoryPermission', [org, repo, robotName, role], () => {
        const o = orgs.get(org);
        const perms = o?.repos.get(repo);
        if (o === undefined || perms === undefined)
          return TE.left<QuayError, Change>({
            _tag: 'QuayUnavailable',
            status: 500,
            message: 'an HTML page',
          });
        if (!o.robots.has(robotName))
          return TE.left<QuayError, Change>({
            _tag: 'QuayRejected',
            status: 400,
            message: `Invalid username: ${robotName}`,
          });
        perms.set(robotName, role);
        return TE.right<QuayError, Change>('updated');
      }),
    deleteRepositoryPermission: (org, repo, robotName) =>
      call('deleteRepositoryPermission', [org, repo, robotName], () =>
        TE.right<QuayError, Change>(
          orgs.get(org)?.repos.get(repo)?.delete(robotName) === true ? 'deleted' : 'unchanged',
        ),
      ),
    listRepositories: (org) =>
      call('listRepositories', [org], () => withOrg(org, (o) => TE.right([...o.repos.keys()]))),
    listTags: (org, repo) =>
      call('listTags', [org, repo], () =>
        TE.right(orgs.get(org)?.repos.has(repo) === true ? O.some([]) : O.none),
      ),
    tagVersions: (org, repo, tag) =>
      call('tagVersions', [org, repo, tag], () =>
        TE.right(
          orgs.get(org)?.repos.has(repo) === true
            ? O.some(
                (pushed.get(`${org}/${repo}:${tag}`) ?? []).map((d, i) => ({
                  manifestDigest: d,
                  current: i === 0,
                })),
              )
            : O.none,
        ),
      ),
  };
  return self;
};
