// The Quay client against the Quay emulator over real HTTP: each of Quay's quirks that the client absorbs, the retry
// policy against injected faults, paging, TLS, and the state of the emulator's world afterwards.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import {
  createQuayClient,
  type HttpQuayClient,
  type QuayClientOptions,
} from '../../../shared/quay/client.js';
import { createTransport } from '../../../shared/quay/http.js';
import type { QuayError } from '../../../shared/quay/types.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { selfSignedCertificate } from './tls.js';

const ROBOT = 'GET /api/v1/organization/{org}/robots/{robot}';
const ROBOT_PUT = 'PUT /api/v1/organization/{org}/robots/{robot}';
const ORG_GET = 'GET /api/v1/organization/{org}';
const ORG_DELETE = 'DELETE /api/v1/organization/{org}';
const ROBOTS = 'GET /api/v1/organization/{org}/robots';
const PROTOTYPES = 'GET /api/v1/organization/{org}/prototypes';
const PROTOTYPE_POST = 'POST /api/v1/organization/{org}/prototypes';

describe('Quay client against the Quay emulator', function () {
  // Generous for a machine shared with builds; the integration tier's own default is longer still.
  this.timeout(30_000);
  let quay: QuayEmulator;
  // Every error any client produced in this file, and every token any client held: the last test scans them.
  const errorsSeen: QuayError[] = [];
  const tokensUsed: string[] = [];
  const clients: HttpQuayClient[] = [];
  const sleeps: number[] = [];
  let onSleep: (() => void) | undefined;

  const connect = (token: string, extra: Partial<QuayClientOptions> = {}): HttpQuayClient => {
    tokensUsed.push(token);
    const client = createQuayClient({
      apiUrl: quay.url,
      token: new Token(token),
      retry: { attempts: 3, baseDelayMs: 40, maxDelayMs: 3_000 },
      random: () => 0.5,
      // No real waiting: the waits asked for are recorded, and a test may lift a fault between two attempts.
      sleep: (ms) => {
        sleeps.push(ms);
        onSleep?.();
        return Promise.resolve();
      },
      timeoutMs: 5_000,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  const admin = (): HttpQuayClient => connect(quay.adminToken);

  const run = async <A>(te: TE.TaskEither<QuayError, A>): Promise<E.Either<QuayError, A>> => {
    const result = await te();
    if (E.isLeft(result)) errorsSeen.push(result.left);
    return result;
  };
  const ok = async <A>(te: TE.TaskEither<QuayError, A>): Promise<A> => {
    const result = await run(te);
    if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
    return result.right;
  };
  const fails = async <A>(te: TE.TaskEither<QuayError, A>): Promise<QuayError> => {
    const result = await run(te);
    if (E.isRight(result)) throw new Error(`expected a failure, got ${JSON.stringify(result.right)}`);
    return result.left;
  };
  const count = (key: string): number => quay.requestCounts().get(key) ?? 0;
  /** A request the client would never make, straight to the emulator. */
  const raw = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${quay.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${quay.adminToken}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const prototypesOf = (org: string, robot: string) =>
    quay
      .state()
      .prototypes.filter((p) => p.org === org && p.delegate.kind === 'user' && p.delegate.name === robot);

  before(async () => {
    quay = await startQuayEmulator({ seed: 7 });
    tokensUsed.push(quay.adminToken);
  });
  after(async () => {
    for (const client of clients) client.close();
    await quay.close();
  });
  beforeEach(() => {
    Object.assign(quay.faults, {
      latencyMs: 0,
      errorRate5xx: 0,
      rateLimitRate: 0,
      retryAfterSeconds: undefined,
      dropRate: 0,
      timeoutRate: 0,
    });
    quay.resetCounts();
    sleeps.length = 0;
    onSleep = undefined;
  });

  describe('organizations', () => {
    it('creates an organization with one POST, then finds it unchanged with one more', async () => {
      const client = admin();
      expect(await ok(client.ensureOrganization('org-create'))).to.equal('created');
      expect(await ok(client.ensureOrganization('org-create'))).to.equal('unchanged');
      expect(quay.totalRequests()).to.equal(2);
      expect(quay.state().organizations.find((o) => o.name === 'org-create')?.email).to.equal(
        'org-create@redhat.com',
      );
    });

    it('reads a missing organization as none and an existing one as some', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-get'));
      expect(await ok(client.getOrganization('org-get'))).to.deep.equal(O.some({ name: 'org-get' }));
      expect(await ok(client.getOrganization('org-nowhere'))).to.deep.equal(O.none);
    });

    it('deletes an organization, and a second delete (Quay: 403) is confirmed missing and unchanged', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-delete'));
      expect(await ok(client.deleteOrganization('org-delete'))).to.equal('deleted');
      quay.resetCounts();
      expect(await ok(client.deleteOrganization('org-delete'))).to.equal('unchanged');
      expect([count(ORG_DELETE), count(ORG_GET)]).to.deep.equal([1, 1]);
      expect(quay.state().organizations.map((o) => o.name)).not.to.include('org-delete');
    });

    it('reports the 403 of a delete by a user who is not an admin of an existing organization', async () => {
      const created = await raw('POST', '/api/v1/superuser/users/', {
        username: 'bystander',
        email: 'b@example.com',
      });
      expect(created.status).to.equal(200);
      const bystander = connect(quay.createToken('bystander', ['org:admin', 'user:admin', 'user:read']));
      await ok(admin().ensureOrganization('org-kept'));
      const error = await fails(bystander.deleteOrganization('org-kept'));
      expect(error).to.deep.equal({ _tag: 'QuayRejected', status: 403, message: 'Unauthorized' });
      expect(quay.state().organizations.map((o) => o.name)).to.include('org-kept');
    });

    it('surfaces "Username is not available" for a name held back after a delete, until GC frees it', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-reborn'));
      await ok(client.deleteOrganization('org-reborn'));
      expect(await fails(client.ensureOrganization('org-reborn'))).to.deep.equal({
        _tag: 'QuayRejected',
        status: 400,
        message: 'Username is not available',
      });
      quay.runGarbageCollection();
      expect(await ok(client.ensureOrganization('org-reborn'))).to.equal('created');
    });
  });

  describe('robots', () => {
    it('creates a robot with one PUT, then fetches the existing one (400 "Existing robot") with the same token', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-robots'));
      quay.resetCounts();
      const created = await ok(client.ensureRobot('org-robots', 'builder', 'pushes builds'));
      const again = await ok(client.ensureRobot('org-robots', 'builder', 'pushes builds'));
      expect(created.change).to.equal('created');
      expect(again).to.deep.equal({ change: 'unchanged', robot: created.robot });
      expect(created.robot).to.include({ name: 'org-robots+builder', description: 'pushes builds' });
      expect(created.robot.token).to.match(/^[A-Z0-9]{64}$/);
      expect([count(ROBOT_PUT), count(ROBOT)]).to.deep.equal([2, 1]);
      const robot = quay.state().robots.find((r) => r.name === 'org-robots+builder');
      expect(robot?.token).to.equal(created.robot.token);
    });

    it('reads a missing robot (Quay: 400 "Could not find robot") as none', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-robots'));
      expect(await ok(client.getRobot('org-robots', 'ghost'))).to.deep.equal(O.none);
    });

    it('deletes a robot, and one already gone is unchanged', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-robots'));
      await ok(client.ensureRobot('org-robots', 'temp', ''));
      expect(await ok(client.deleteRobot('org-robots', 'temp'))).to.equal('deleted');
      expect(await ok(client.deleteRobot('org-robots', 'temp'))).to.equal('unchanged');
      expect(quay.state().robots.map((r) => r.name)).not.to.include('org-robots+temp');
    });

    it('reads deletes inside an organization already gone (Quay: 403) as unchanged', async () => {
      const client = admin();
      expect(await ok(client.deleteRobot('org-gone', 'builder'))).to.equal('unchanged');
      expect(await ok(client.deleteRepository('org-gone', 'app'))).to.equal('unchanged');
      expect(count(ORG_GET)).to.equal(2);
    });

    it('lists every robot with its token in one call, and none for a missing organization', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-list'));
      const a = await ok(client.ensureRobot('org-list', 'alpha', ''));
      const b = await ok(client.ensureRobot('org-list', 'beta', ''));
      quay.resetCounts();
      const listed = await ok(client.listRobots('org-list'));
      expect(
        O.isSome(listed) && [...listed.value].sort((x, y) => x.name.localeCompare(y.name)),
      ).to.deep.equal([a.robot, b.robot]);
      expect(quay.totalRequests()).to.equal(1);
      expect(await ok(client.listRobots('org-never-made'))).to.deep.equal(O.none);
    });

    it('regenerates a token that replaces the old one', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-robots'));
      const { robot } = await ok(client.ensureRobot('org-robots', 'rotated', ''));
      const fresh = await ok(client.regenerateRobot('org-robots', 'rotated'));
      expect(fresh.token).not.to.equal(robot.token);
      expect(quay.state().robots.find((r) => r.name === 'org-robots+rotated')?.token).to.equal(fresh.token);
    });
  });

  describe('default permissions', () => {
    it('reduces duplicate prototypes made directly over HTTP to exactly one', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-protos'));
      await ok(client.ensureRobot('org-protos', 'builder', ''));
      for (let i = 0; i < 3; i++) {
        const res = await raw('POST', '/api/v1/organization/org-protos/prototypes', {
          role: 'write',
          delegate: { kind: 'user', name: 'org-protos+builder' },
        });
        expect(res.status).to.equal(200);
      }
      expect(prototypesOf('org-protos', 'org-protos+builder')).to.have.length(3);
      expect(await ok(client.ensureDefaultPermission('org-protos', 'org-protos+builder', 'write'))).to.equal(
        'updated',
      );
      expect(prototypesOf('org-protos', 'org-protos+builder').map((p) => p.role)).to.deep.equal(['write']);
      expect(await ok(client.ensureDefaultPermission('org-protos', 'org-protos+builder', 'write'))).to.equal(
        'unchanged',
      );
    });

    it('fixes a wrong role in place, keeping the prototype', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-protos'));
      await ok(client.ensureRobot('org-protos', 'deployer', ''));
      const res = await raw('POST', '/api/v1/organization/org-protos/prototypes', {
        role: 'admin',
        delegate: { kind: 'user', name: 'org-protos+deployer' },
      });
      const { id } = (await res.json()) as { id: string };
      quay.resetCounts();
      expect(await ok(client.ensureDefaultPermission('org-protos', 'org-protos+deployer', 'read'))).to.equal(
        'updated',
      );
      expect(prototypesOf('org-protos', 'org-protos+deployer').map((p) => [p.id, p.role])).to.deep.equal([
        [id, 'read'],
      ]);
      expect(count('PUT /api/v1/organization/{org}/prototypes/{prototype}')).to.equal(1);
      expect(count('POST /api/v1/organization/{org}/prototypes')).to.equal(0);
    });

    it('adds a missing prototype, which Quay then applies to new repositories', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-applied'));
      await ok(client.ensureRobot('org-applied', 'builder', ''));
      expect(
        await ok(client.ensureDefaultPermission('org-applied', 'org-applied+builder', 'write')),
      ).to.equal('created');
      await ok(client.ensureRepository('org-applied', 'app', ''));
      const permissions = await ok(client.listRepositoryPermissions('org-applied', 'app'));
      expect(permissions.get('org-applied+builder')).to.equal('write');
    });
  });

  describe('repositories', () => {
    it('creates a private repository, finds it unchanged, reads it, and reads 404/403 as none', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-repos'));
      expect(await ok(client.ensureRepository('org-repos', 'app', 'the app'))).to.equal('created');
      expect(await ok(client.ensureRepository('org-repos', 'app', 'the app'))).to.equal('unchanged');
      expect(await ok(client.getRepository('org-repos', 'app'))).to.deep.equal(
        O.some({ namespace: 'org-repos', name: 'app', isPublic: false, description: 'the app' }),
      );
      expect(await ok(client.getRepository('org-repos', 'missing'))).to.deep.equal(O.none);
      expect(await ok(client.getRepository('org-never-made', 'app'))).to.deep.equal(O.none);
      const repo = quay.state().repositories.find((r) => r.namespace === 'org-repos' && r.name === 'app');
      expect(repo).to.include({ visibility: 'private', description: 'the app' });
    });

    it('sets, lists and deletes a robot permission (its "+" encoded on the way)', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-repos'));
      await ok(client.ensureRobot('org-repos', 'viewer', ''));
      await ok(client.ensureRepository('org-repos', 'perm', ''));
      expect(
        await ok(client.setRepositoryPermission('org-repos', 'perm', 'org-repos+viewer', 'read')),
      ).to.equal('updated');
      expect(
        (await ok(client.listRepositoryPermissions('org-repos', 'perm'))).get('org-repos+viewer'),
      ).to.equal('read');
      expect(await ok(client.deleteRepositoryPermission('org-repos', 'perm', 'org-repos+viewer'))).to.equal(
        'deleted',
      );
      expect(await ok(client.deleteRepositoryPermission('org-repos', 'perm', 'org-repos+viewer'))).to.equal(
        'unchanged',
      );
      const repo = quay.state().repositories.find((r) => r.namespace === 'org-repos' && r.name === 'perm');
      expect(repo?.userPermissions).not.to.have.property('org-repos+viewer');
    });

    it('deletes a repository with a "/" in its name', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-repos'));
      await ok(client.ensureRepository('org-repos', 'team/app', ''));
      expect(await ok(client.deleteRepository('org-repos', 'team/app'))).to.equal('deleted');
      expect(await ok(client.getRepository('org-repos', 'team/app'))).to.deep.equal(O.none);
    });

    it('lists more than 100 repositories across next_page', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-many'));
      const names = Array.from({ length: 150 }, (_, i) => `repo-${String(i).padStart(3, '0')}`);
      for (const name of names) await ok(client.ensureRepository('org-many', name, ''));
      quay.resetCounts();
      const listed = await ok(client.listRepositories('org-many'));
      expect([...listed].sort()).to.deep.equal(names);
      expect(count('GET /api/v1/repository')).to.equal(2);
    });

    it('lists more than 100 tags across pages, and none for a missing repository', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-tags'));
      await ok(client.ensureRepository('org-tags', 'app', ''));
      const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
      for (let i = 0; i < 120; i++) quay.pushTag('org-tags', 'app', `v${i}`, digest(i));
      quay.pushTag('org-tags', 'app', 'v0', digest(999)); // moves v0: its old version becomes history
      quay.resetCounts();
      const tags = await ok(client.listTags('org-tags', 'app'));
      if (O.isNone(tags)) throw new Error('no tags');
      expect(tags.value).to.have.length(120);
      expect(tags.value.find((t) => t.name === 'v0')?.manifestDigest).to.equal(digest(999));
      expect(count('GET /api/v1/repository/{repo}/tag/')).to.equal(2);
      expect(await ok(client.listTags('org-tags', 'missing'))).to.deep.equal(O.none);
    });
  });

  describe('routing and tokens', () => {
    it('follows a 308 from a path without its trailing slash', async () => {
      const transport = createTransport({ apiUrl: quay.url, token: new Token(quay.adminToken) });
      const result = await transport.send({ method: 'GET', path: '/api/v1/user' })();
      transport.close();
      expect(E.isRight(result) && result.right.status).to.equal(200);
      expect([count('GET /api/v1/user'), count('GET /api/v1/user/')]).to.deep.equal([1, 1]);
    });

    it('sends list routes with the trailing slash Quay routes them with: no redirects', async () => {
      const client = admin();
      await ok(client.currentUser());
      await ok(client.ensureOrganization('org-slash'));
      await ok(client.ensureRepository('org-slash', 'app', ''));
      await ok(client.listRepositoryPermissions('org-slash', 'app'));
      await ok(client.listTags('org-slash', 'app'));
      const keys = [...quay.requestCounts().keys()];
      expect(keys).to.include.members([
        'GET /api/v1/user/',
        'POST /api/v1/organization/',
        'GET /api/v1/repository/{repo}/permissions/user/',
        'GET /api/v1/repository/{repo}/tag/',
      ]);
      // The emulator counts a redirect under the route's template without its slash.
      expect(keys.filter((k) => keys.includes(`${k}/`))).to.deep.equal([]);
    });

    it('maps a bad token on a write (Quay: CSRF 403) to QuayAuthFailed, without retrying', async () => {
      const client = connect('NOTAVALIDTOKEN00000000000000000000000000');
      const error = await fails(client.ensureRobot('org-robots', 'zz', ''));
      expect(error).to.include({ _tag: 'QuayAuthFailed', status: 403 });
      expect(error._tag === 'QuayAuthFailed' && error.message).to.include(
        'CSRF token was invalid or missing.',
      );
      expect(count(ROBOT_PUT)).to.equal(1);
    });

    it('maps a bad token on a read (Quay: 401) to QuayAuthFailed', async () => {
      const client = connect('NOTAVALIDTOKEN00000000000000000000000000');
      expect(await fails(client.listRobots('org-robots'))).to.include({
        _tag: 'QuayAuthFailed',
        status: 401,
      });
    });

    it('maps an expired token to QuayAuthFailed on reads and writes alike', async () => {
      const client = connect(
        quay.createToken('quayadmin', ['org:admin', 'user:read'], { expiresInSeconds: -1 }),
      );
      expect((await fails(client.currentUser()))._tag).to.equal('QuayAuthFailed');
      expect((await fails(client.ensureOrganization('org-expired')))._tag).to.equal('QuayAuthFailed');
    });

    it('reads the current user', async () => {
      expect(await ok(admin().currentUser())).to.include({ username: 'quayadmin', superUser: true });
    });
  });

  describe('retries', () => {
    it('retries a 503 and succeeds when Quay comes back', async () => {
      const client = admin();
      quay.faults.errorRate5xx = 1;
      onSleep = () => {
        quay.faults.errorRate5xx = 0;
      };
      expect(await ok(client.getOrganization('org-create'))).to.deep.equal(O.some({ name: 'org-create' }));
      expect(count(ORG_GET)).to.equal(2);
      expect(sleeps).to.deep.equal([20]); // full jitter with random 0.5 of a 40 ms ceiling
    });

    it('gives up after exactly the configured attempts with QuayUnavailable', async () => {
      const client = admin();
      quay.faults.errorRate5xx = 1;
      const error = await fails(client.getOrganization('org-create'));
      expect(error).to.include({ _tag: 'QuayUnavailable', status: 503 });
      expect(count(ORG_GET)).to.equal(3);
      expect(sleeps).to.deep.equal([20, 40]);
    });

    it('honours Retry-After on a 429', async () => {
      const client = admin();
      quay.faults.rateLimitRate = 1;
      quay.faults.retryAfterSeconds = 2;
      onSleep = () => {
        quay.faults.rateLimitRate = 0;
      };
      expect(O.isSome(await ok(client.getOrganization('org-create')))).to.equal(true);
      expect(sleeps).to.deep.equal([2_000]);
      expect(count(ORG_GET)).to.equal(2);
    });

    it('backs off on a 429 without Retry-After (nginx sends none)', async () => {
      const client = admin();
      quay.faults.rateLimitRate = 1;
      onSleep = () => {
        quay.faults.rateLimitRate = 0;
      };
      expect(O.isSome(await ok(client.getOrganization('org-create')))).to.equal(true);
      expect(sleeps).to.deep.equal([20]);
    });

    it("reports QuayRateLimited with Quay's Retry-After once the attempts are spent", async () => {
      const client = admin();
      quay.faults.rateLimitRate = 1;
      quay.faults.retryAfterSeconds = 30;
      expect(await fails(client.listRobots('org-robots'))).to.deep.equal({
        _tag: 'QuayRateLimited',
        retryAfterSeconds: 30,
      });
      expect(count(ROBOTS)).to.equal(3);
      expect(sleeps).to.deep.equal([3_000, 3_000]); // capped at maxDelay
    });

    it('retries a connection dropped mid-request', async () => {
      const client = admin();
      quay.faults.dropRate = 1;
      onSleep = () => {
        quay.faults.dropRate = 0;
      };
      expect(await ok(client.ensureOrganization('org-dropped'))).to.equal('created');
      expect(count('POST /api/v1/organization/')).to.equal(2);
    });

    it('reports QuayUnreachable when every attempt is dropped', async () => {
      const client = admin();
      quay.faults.dropRate = 1;
      const error = await fails(client.getRobot('org-robots', 'builder'));
      expect(error._tag).to.equal('QuayUnreachable');
      expect(count(ROBOT)).to.equal(3);
    });

    it('retries an answer that never comes, after the timeout', async () => {
      const client = connect(quay.adminToken, { timeoutMs: 300 });
      quay.faults.timeoutRate = 1;
      onSleep = () => {
        quay.faults.timeoutRate = 0;
      };
      expect(O.isSome(await ok(client.getOrganization('org-create')))).to.equal(true);
      expect(count(ORG_GET)).to.equal(2);
    });

    it('finds unchanged a robot that a retried PUT meets already made (as after a lost answer)', async () => {
      const client = admin();
      await ok(client.ensureOrganization('org-lost'));
      // The emulator drops a connection before handling the request, so a PUT applied whose answer is lost is
      // played as: the robot exists (made here directly), the first PUT is dropped, the retried one meets it.
      const made = await raw('PUT', '/api/v1/organization/org-lost/robots/builder');
      expect(made.status).to.equal(201);
      quay.resetCounts();
      quay.faults.dropRate = 1;
      onSleep = () => {
        quay.faults.dropRate = 0;
      };
      const ensured = await ok(client.ensureRobot('org-lost', 'builder', ''));
      expect(ensured.change).to.equal('unchanged');
      expect(count(ROBOT_PUT)).to.equal(2);
      expect(quay.state().robots.filter((r) => r.name === 'org-lost+builder')).to.have.length(1);
    });
  });

  describe('call budget', () => {
    it('provisions a namespace (organization, 3 robots, 3 default permissions) in 9 calls, one of them the re-read after the adds', async () => {
      const client = admin();
      quay.resetCounts();
      const org = 'org-budget';
      await ok(client.ensureOrganization(org));
      const robots = new Map([
        ['builder', 'write'],
        ['default', 'read'],
        ['deployer', 'read'],
      ] as const);
      for (const sa of robots.keys()) await ok(client.ensureRobot(org, sa, ''));
      const current = await ok(client.listDefaultPermissions(org));
      const wanted = [...robots].map(([sa, role]) => ({ robotName: `${org}+${sa}`, role }));
      expect(await ok(client.ensureDefaultPermissions(org, wanted, current))).to.deep.equal([
        'created',
        'created',
        'created',
      ]);
      // 1 organization + 3 robots + 1 list + 3 adds + 1 re-read (Quay does not deduplicate default permissions:
      // the re-read removes what a concurrent or repeated add made twice).
      expect(quay.totalRequests()).to.equal(9);
      expect([count(ROBOT_PUT), count(PROTOTYPES), count(PROTOTYPE_POST)]).to.deep.equal([3, 2, 3]);
      expect(
        quay
          .state()
          .prototypes.filter((p) => p.org === org)
          .map((p) => [p.delegate.name, p.role]),
      ).to.deep.equal([
        [`${org}+builder`, 'write'],
        [`${org}+default`, 'read'],
        [`${org}+deployer`, 'read'],
      ]);

      quay.resetCounts();
      const listed = await ok(client.listRobots(org));
      const prototypes = await ok(client.listDefaultPermissions(org));
      for (const [sa, role] of robots)
        expect(await ok(client.ensureDefaultPermission(org, `${org}+${sa}`, role, prototypes))).to.equal(
          'unchanged',
        );
      expect(O.isSome(listed) && listed.value).to.have.length(3);
      expect(quay.totalRequests()).to.equal(2);
      expect([count(ROBOTS), count(PROTOTYPES)]).to.deep.equal([1, 1]);
    });
  });

  describe('over TLS', () => {
    let secure: QuayEmulator;
    let pem: string;

    before(async () => {
      const cert = selfSignedCertificate();
      pem = cert.cert;
      secure = await startQuayEmulator({ seed: 8, tls: cert });
      tokensUsed.push(secure.adminToken);
    });
    after(async () => {
      await secure.close();
    });
    const tlsClient = (extra: Partial<QuayClientOptions>): HttpQuayClient =>
      connect(secure.adminToken, { apiUrl: secure.url, ...extra });

    it('refuses an untrusted certificate, without retrying', async () => {
      const error = await fails(tlsClient({}).currentUser());
      expect(error._tag).to.equal('QuayUnreachable');
      expect(error._tag === 'QuayUnreachable' && error.message).to.match(/self[- ]signed certificate/i);
      expect(secure.totalRequests()).to.equal(0);
      expect(sleeps).to.deep.equal([]);
    });

    it('skips verification for a client made insecure, and for no other', async () => {
      expect(await ok(tlsClient({ insecure: true }).currentUser())).to.include({ username: 'quayadmin' });
      expect((await fails(tlsClient({}).currentUser()))._tag).to.equal('QuayUnreachable');
    });

    it('trusts a certificate given as caBundle', async () => {
      expect(await ok(tlsClient({ caBundle: pem }).currentUser())).to.include({ username: 'quayadmin' });
    });
  });

  // Last, so that it sees the errors of every test above (mocha runs a suite's own tests before its sub-suites).
  describe('token confinement', () => {
    it('never puts a token in an error message (every error of this file)', () => {
      expect(new Set(errorsSeen.map((e) => e._tag))).to.have.keys([
        'QuayAuthFailed',
        'QuayRateLimited',
        'QuayRejected',
        'QuayUnavailable',
        'QuayUnreachable',
      ]);
      for (const error of errorsSeen) {
        const text = JSON.stringify(error);
        for (const token of tokensUsed) expect(text, `${error._tag} carries a token`).not.to.include(token);
      }
    });
  });
});
