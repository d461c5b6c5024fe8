// The operations' status switches against Quay's recorded answers, through a scripted transport: which requests
// each makes, in which order, and what it concludes.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { bindQuayClient } from '../../../shared/quay/client.js';
import type { QuayResponse } from '../../../shared/quay/request.js';
import type { Prototype, QuayError } from '../../../shared/quay/types.js';
import { golden, response, scripted } from './golden.js';

const SECRET = 'OAUTHTOKEN0000000000OAUTHTOKEN0000000000';
const client = (script: ReadonlyArray<readonly [string, QuayResponse | QuayError]>) => {
  const s = scripted(script);
  return { quay: bindQuayClient(s.http, SECRET), calls: s.calls, sent: s.sent };
};
const json = (status: number, body: unknown): QuayResponse => response(status, JSON.stringify(body));

const BUILDER_WRITE_1 = '1ebe6ff4-daf1-4607-aa3f-1f178062ccb3';
const BUILDER_WRITE_2 = 'dc44fdda-59a6-4526-bb9b-fd1d6d984268';

describe('Quay operations', () => {
  describe('organizations', () => {
    it("creates with one POST carrying QBO's email", async () => {
      const { quay, calls, sent } = client([['POST /api/v1/organization/', golden('create org')]]);
      expect(await quay.ensureOrganization('demo')()).to.deep.equal(E.right('created'));
      expect(calls()).to.deep.equal(['POST /api/v1/organization/']);
      expect(sent[0]?.body).to.deep.equal({ name: 'demo', email: 'demo@redhat.com' });
    });

    it('reads "already exists" as unchanged, without a GET', async () => {
      const { quay, calls } = client([['POST /api/v1/organization/', golden('create org again')]]);
      expect(await quay.ensureOrganization('demo', 'ops@example.com')()).to.deep.equal(E.right('unchanged'));
      expect(calls()).to.have.length(1);
    });

    it('surfaces "Username is not available" as QuayRejected with that message', async () => {
      const { quay } = client([
        ['POST /api/v1/organization/', golden('recreate deleted org before namespace GC ran')],
      ]);
      expect(await quay.ensureOrganization('throwaway')()).to.deep.equal(
        E.left({ _tag: 'QuayRejected', status: 400, message: 'Username is not available' }),
      );
    });

    it('reads a missing organization as none', async () => {
      const { quay } = client([['GET /api/v1/organization/demo', golden('get missing org')]]);
      expect(await quay.getOrganization('demo')()).to.deep.equal(E.right(O.none));
    });

    it('deletes with one DELETE', async () => {
      const { quay, calls } = client([['DELETE /api/v1/organization/throwaway', golden('delete org')]]);
      expect(await quay.deleteOrganization('throwaway')()).to.deep.equal(E.right('deleted'));
      expect(calls()).to.have.length(1);
    });

    it("confirms the 403 of a missing organization's DELETE with a GET 404: unchanged", async () => {
      const { quay, calls } = client([
        [
          'DELETE /api/v1/organization/throwaway',
          golden('delete org again (not superuser-full-access path)'),
        ],
        ['GET /api/v1/organization/throwaway', golden('get deleted org')],
      ]);
      expect(await quay.deleteOrganization('throwaway')()).to.deep.equal(E.right('unchanged'));
      expect(calls()).to.have.length(2);
    });

    it("reports the 403 of an existing organization's DELETE as a real refusal", async () => {
      const { quay } = client([
        ['DELETE /api/v1/organization/demo', golden('delete org again (not superuser-full-access path)')],
        ['GET /api/v1/organization/demo', golden('get org anonymous')],
      ]);
      expect(await quay.deleteOrganization('demo')()).to.deep.equal(
        E.left({ _tag: 'QuayRejected', status: 403, message: 'Unauthorized' }),
      );
    });
  });

  describe('robots', () => {
    it('creates with one PUT whose 201 carries the token', async () => {
      const { quay, calls, sent } = client([
        ['PUT /api/v1/organization/demo/robots/builder', golden('create robot, no body')],
      ]);
      const result = await quay.ensureRobot('demo', 'builder', 'push and pull')();
      expect(result).to.deep.equal(
        E.right({
          change: 'created',
          robot: {
            name: 'demo+builder',
            token: 'FAKE5EC24A760E2BCEA3227B400E011EB8A50DA2AB8CFCFCF88808346999A59D',
            description: '',
          },
        }),
      );
      expect(calls()).to.have.length(1);
      expect(sent[0]?.body).to.deep.equal({ description: 'push and pull' });
    });

    it('fetches an existing robot after 400 "Existing robot with name": unchanged', async () => {
      const { quay, calls } = client([
        ['PUT /api/v1/organization/demo/robots/builder', golden('create robot again')],
        ['GET /api/v1/organization/demo/robots/builder', golden('get robot')],
      ]);
      const result = await quay.ensureRobot('demo', 'builder', '')();
      expect(E.isRight(result) && result.right.change).to.equal('unchanged');
      expect(E.isRight(result) && result.right.robot.token).to.match(/^FAKE5EC2/);
      expect(calls()).to.have.length(2);
    });

    it('creates again a robot deleted between the PUT and the GET', async () => {
      const { quay, calls } = client([
        ['PUT /api/v1/organization/demo/robots/builder', golden('create robot again')],
        ['GET /api/v1/organization/demo/robots/builder', golden('get missing robot')],
        ['PUT /api/v1/organization/demo/robots/builder', golden('create robot, no body')],
      ]);
      const result = await quay.ensureRobot('demo', 'builder', '')();
      expect(E.isRight(result) && result.right.change).to.equal('created');
      expect(calls()).to.have.length(3);
    });

    it('reports a robot PUT into a missing organization as QuayRejected 403', async () => {
      const { quay } = client([
        ['PUT /api/v1/organization/nosuchorg/robots/builder', golden('create robot in missing org')],
      ]);
      expect(await quay.ensureRobot('nosuchorg', 'builder', '')()).to.deep.equal(
        E.left({ _tag: 'QuayRejected', status: 403, message: 'Unauthorized' }),
      );
    });

    it('reads 400 "Could not find robot" as none', async () => {
      const { quay } = client([
        ['GET /api/v1/organization/demo/robots/builder', golden('get missing robot')],
      ]);
      expect(await quay.getRobot('demo', 'builder')()).to.deep.equal(E.right(O.none));
    });

    it('reads another 400 on GET robot as a refusal, not as none', async () => {
      const { quay } = client([
        ['GET /api/v1/organization/demo/robots/Bad_Name', golden('create robot invalid name')],
      ]);
      const result = await quay.getRobot('demo', 'Bad_Name')();
      expect(E.isLeft(result) && result.left._tag).to.equal('QuayRejected');
    });

    it('deletes a robot, and a robot already gone is unchanged', async () => {
      const { quay } = client([
        ['DELETE /api/v1/organization/demo/robots/deployer', golden('delete robot')],
        ['DELETE /api/v1/organization/demo/robots/deployer', golden('delete robot again')],
      ]);
      expect(await quay.deleteRobot('demo', 'deployer')()).to.deep.equal(E.right('deleted'));
      expect(await quay.deleteRobot('demo', 'deployer')()).to.deep.equal(E.right('unchanged'));
    });

    it('lists every robot with its token in one call', async () => {
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/robots?token=true', golden('list robots')],
      ]);
      const result = await quay.listRobots('demo')();
      expect(result).to.deep.equal(
        E.right(
          O.some([
            {
              name: 'demo+builder',
              token: 'FAKE5EC24A760E2BCEA3227B400E011EB8A50DA2AB8CFCFCF88808346999A59D',
              description: '',
            },
            {
              name: 'demo+deployer',
              token: 'FAKE9F222234D6D4AFB68E4B38B7C48AA6EE1612E31DE576342599795ED5BA6C',
              description: 'deploys',
            },
          ]),
        ),
      );
      expect(calls()).to.have.length(1);
    });

    it('leaves out the robots of look-alike organizations that Quay lists too ("_" matches any character)', async () => {
      const robot = (name: string, token?: string) => ({
        name,
        created: 'Wed, 25 Nov 2026 08:04:15 -0000',
        last_accessed: null,
        description: '',
        ...(token === undefined ? {} : { token }),
      });
      const { quay } = client([
        [
          'GET /api/v1/organization/c1_ns/robots?token=true',
          json(200, {
            robots: [
              robot('c1-ns+builder', 'LOOKALIKE1'),
              robot('c1_ns+builder', 'OURS'),
              robot('c1.ns+deployer'),
              robot('c1xns+default', 'LOOKALIKE2'),
            ],
          }),
        ],
      ]);
      expect(await quay.listRobots('c1_ns')()).to.deep.equal(
        E.right(O.some([{ name: 'c1_ns+builder', token: 'OURS', description: '' }])),
      );
    });

    it('reports a robot list without tokens (caller not an org admin) instead of robots without tokens', async () => {
      const { quay } = client([
        [
          'GET /api/v1/organization/demo/robots?token=true',
          golden('list robots token=false permissions=true'),
        ],
      ]);
      const result = await quay.listRobots('demo')();
      expect(result).to.deep.equal(
        E.left({
          _tag: 'QuayResponseInvalid',
          status: 200,
          message:
            "GET /api/v1/organization/demo/robots?token=true listed robot demo+builder without its token: the token's user is not an administrator of demo",
        }),
      );
    });

    it('lists none for a missing organization (403 confirmed by GET 404)', async () => {
      const { quay } = client([
        [
          'GET /api/v1/organization/demo/robots?token=true',
          json(403, {
            detail: 'Unauthorized',
            error_message: 'Unauthorized',
            error_type: 'insufficient_scope',
            status: 403,
          }),
        ],
        ['GET /api/v1/organization/demo', golden('get missing org')],
      ]);
      expect(await quay.listRobots('demo')()).to.deep.equal(E.right(O.none));
    });

    it('regenerates a token', async () => {
      const { quay } = client([
        ['POST /api/v1/organization/demo/robots/deployer/regenerate', golden('regenerate robot token')],
      ]);
      const result = await quay.regenerateRobot('demo', 'deployer')();
      expect(E.isRight(result) && result.right.token).to.match(/^FAKEAF4D/);
    });
  });

  describe('default permissions', () => {
    const listed = golden('list prototypes'); // builder write twice, owners team read
    const empty = golden('list prototypes (empty)');
    const created = golden('create prototype for robot (QBO body shape)');
    const prototypeView = (sa: string, role: string, id: string, activating: string | null = null) => ({
      activating_user: activating === null ? null : { name: activating, is_robot: false, kind: 'user' },
      delegate: { name: `demo+${sa}`, is_robot: true, kind: 'user' },
      role,
      id,
    });
    const builderWrite = json(200, { prototypes: [prototypeView('builder', 'write', BUILDER_WRITE_1)] });

    it('adds the missing prototype with one POST after the list, then reads the list again', async () => {
      const { quay, calls, sent } = client([
        ['GET /api/v1/organization/demo/prototypes', empty],
        ['POST /api/v1/organization/demo/prototypes', created],
        ['GET /api/v1/organization/demo/prototypes', builderWrite],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.have.length(3);
      expect(sent[1]?.body).to.deep.equal({
        role: 'write',
        delegate: { kind: 'user', name: 'demo+builder' },
      });
    });

    it('after its add, removes the prototype another process added at the same time, keeping the lowest id', async () => {
      // Quay lists the later one first here: the one kept must not depend on the order of the list.
      const both = json(200, {
        prototypes: [
          prototypeView('builder', 'write', BUILDER_WRITE_2),
          prototypeView('builder', 'write', BUILDER_WRITE_1),
        ],
      });
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/prototypes', empty],
        ['POST /api/v1/organization/demo/prototypes', created],
        ['GET /api/v1/organization/demo/prototypes', both],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.have.length(4);
    });

    it('does not re-read its add for a robot this process has just created (only the creator got its 201)', async () => {
      const { quay, calls } = client([['POST /api/v1/organization/demo/prototypes', created]]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write', [], true)()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.deep.equal(['POST /api/v1/organization/demo/prototypes']);
    });

    it('re-reads the add for a robot it has just created when the POST had to be sent twice', async () => {
      const { quay, calls } = client([
        ['POST /api/v1/organization/demo/prototypes', { ...created, attempts: 2 }],
        ['GET /api/v1/organization/demo/prototypes', listed],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write', [], true)()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.have.length(3);
    });

    it('does not add again when its own prototype is gone by the re-read (removed as another’s duplicate)', async () => {
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/prototypes', empty],
        ['POST /api/v1/organization/demo/prototypes', created],
        ['GET /api/v1/organization/demo/prototypes', empty],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.have.length(3);
    });

    it('re-reads the list and removes the duplicate when the POST had to be sent twice', async () => {
      // The first attempt's answer was lost after Quay applied it: the retried POST made a second prototype.
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/prototypes', empty],
        ['POST /api/v1/organization/demo/prototypes', { ...created, attempts: 2 }],
        ['GET /api/v1/organization/demo/prototypes', listed],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.deep.equal([
        'GET /api/v1/organization/demo/prototypes',
        'POST /api/v1/organization/demo/prototypes',
        'GET /api/v1/organization/demo/prototypes',
        `DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`,
      ]);
    });

    it('deletes the duplicate of a prototype with the right role', async () => {
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/prototypes', listed],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('updated'),
      );
      expect(calls()).to.have.length(2);
    });

    it('fixes a wrong role in place and deletes the duplicate', async () => {
      const { quay, calls, sent } = client([
        ['GET /api/v1/organization/demo/prototypes', listed],
        [`PUT /api/v1/organization/demo/prototypes/${BUILDER_WRITE_1}`, golden('update prototype role')],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'read')()).to.deep.equal(
        E.right('updated'),
      );
      expect(calls()).to.have.length(3);
      expect(sent[1]?.body).to.deep.equal({ role: 'read' });
    });

    it('reads a duplicate already deleted (404) as done', async () => {
      const { quay } = client([
        ['GET /api/v1/organization/demo/prototypes', listed],
        [`DELETE /api/v1/organization/demo/prototypes/${BUILDER_WRITE_2}`, golden('delete prototype again')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('updated'),
      );
    });

    it('makes no write when exactly one prototype has the right role', async () => {
      const one = json(200, {
        prototypes: [
          {
            activating_user: null,
            delegate: { name: 'demo+builder', is_robot: true, kind: 'user', is_org_member: true },
            role: 'write',
            id: BUILDER_WRITE_1,
          },
        ],
      });
      const { quay, calls } = client([['GET /api/v1/organization/demo/prototypes', one]]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('unchanged'),
      );
      expect(calls()).to.have.length(1);
    });

    it('leaves prototypes restricted to an activating user alone', async () => {
      const restricted = json(200, {
        prototypes: [
          {
            activating_user: { name: 'alice', is_robot: false, kind: 'user' },
            delegate: { name: 'demo+builder', is_robot: true, kind: 'user' },
            role: 'admin',
            id: 'restricted',
          },
        ],
      });
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/prototypes', restricted],
        ['POST /api/v1/organization/demo/prototypes', created],
        [
          'GET /api/v1/organization/demo/prototypes',
          json(200, {
            prototypes: [
              prototypeView('builder', 'admin', 'restricted', 'alice'),
              prototypeView('builder', 'write', BUILDER_WRITE_1),
            ],
          }),
        ],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write')()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).not.to.include('DELETE /api/v1/organization/demo/prototypes/restricted');
    });

    it('uses the list the caller passes instead of a GET', async () => {
      const current: Prototype[] = [
        { id: 'p1', role: 'read', delegate: { kind: 'user', name: 'demo+builder', isRobot: true } },
      ];
      const { quay, calls } = client([
        ['PUT /api/v1/organization/demo/prototypes/p1', golden('update prototype role')],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write', current)()).to.deep.equal(
        E.right('updated'),
      );
      expect(calls()).to.deep.equal(['PUT /api/v1/organization/demo/prototypes/p1']);
    });

    it('reads the list again when the passed one is stale', async () => {
      const stale: Prototype[] = [
        { id: 'gone', role: 'read', delegate: { kind: 'user', name: 'demo+builder', isRobot: true } },
      ];
      const { quay, calls } = client([
        ['PUT /api/v1/organization/demo/prototypes/gone', golden('delete prototype again')],
        ['GET /api/v1/organization/demo/prototypes', empty],
        ['POST /api/v1/organization/demo/prototypes', created],
        ['GET /api/v1/organization/demo/prototypes', builderWrite],
      ]);
      expect(await quay.ensureDefaultPermission('demo', 'demo+builder', 'write', stale)()).to.deep.equal(
        E.right('created'),
      );
      expect(calls()).to.have.length(4);
    });
  });

  describe('repositories', () => {
    it('reads 404 and 403 alike as none', async () => {
      const { quay } = client([
        [
          'GET /api/v1/repository/demo/app?includeTags=false',
          golden('get missing repo (caller is org admin)'),
        ],
        [
          'GET /api/v1/repository/nosuchorg/app?includeTags=false',
          golden('get repo in org caller cannot see'),
        ],
      ]);
      expect(await quay.getRepository('demo', 'app')()).to.deep.equal(E.right(O.none));
      expect(await quay.getRepository('nosuchorg', 'app')()).to.deep.equal(E.right(O.none));
    });

    it('reads a repository', async () => {
      const { quay } = client([['GET /api/v1/repository/demo/app?includeTags=false', golden('get repo')]]);
      expect(await quay.getRepository('demo', 'app')()).to.deep.equal(
        E.right(O.some({ namespace: 'demo', name: 'app', isPublic: false, description: '' })),
      );
    });

    it('reads an organization’s e-mail as its admin, and none as another caller', async () => {
      const { quay } = client([
        ['GET /api/v1/organization/demo', golden('get org as admin')],
        ['GET /api/v1/organization/demo', golden('get org with repo:read-only token (not admin view)')],
      ]);
      expect(await quay.getOrganizationOwner('demo')()).to.deep.equal(
        E.right(O.some({ email: 'demo@example.com', isAdmin: true })),
      );
      expect(await quay.getOrganizationOwner('demo')()).to.deep.equal(
        E.right(O.some({ email: '', isAdmin: false })),
      );
    });

    it('creates a private image repository with one POST', async () => {
      const { quay, sent } = client([['POST /api/v1/repository', golden('create repo')]]);
      expect(await quay.ensureRepository('demo', 'app', 'built here')()).to.deep.equal(E.right('created'));
      expect(sent[0]?.body).to.deep.equal({
        namespace: 'demo',
        repository: 'app',
        visibility: 'private',
        description: 'built here',
        repo_kind: 'image',
      });
    });

    it('reads "Repository already exists" as unchanged', async () => {
      const { quay } = client([['POST /api/v1/repository', golden('create repo again')]]);
      expect(await quay.ensureRepository('demo', 'app', '')()).to.deep.equal(E.right('unchanged'));
    });

    it('follows next_page until Quay stops sending one', async () => {
      const { quay, calls } = client([
        [
          'GET /api/v1/repository?namespace=demo',
          json(200, { repositories: [{ namespace: 'demo', name: 'a' }], next_page: 'gAAAAA1' }),
        ],
        [
          'GET /api/v1/repository?namespace=demo&next_page=gAAAAA1',
          json(200, { repositories: [{ namespace: 'demo', name: 'b' }], next_page: 'gAAAAA2' }),
        ],
        ['GET /api/v1/repository?namespace=demo&next_page=gAAAAA2', golden('list repos in namespace')],
      ]);
      expect(await quay.listRepositories('demo')()).to.deep.equal(E.right(['a', 'b', 'app', 'team/app']));
      expect(calls()).to.have.length(3);
    });

    it('stops with an error when next_page repeats (Quay restarts at page one for a bad token)', async () => {
      const page = json(200, { repositories: [{ namespace: 'demo', name: 'a' }], next_page: 'gAAAAA1' });
      const { quay } = client([
        ['GET /api/v1/repository?namespace=demo', page],
        ['GET /api/v1/repository?namespace=demo&next_page=gAAAAA1', page],
      ]);
      const result = await quay.listRepositories('demo')();
      expect(E.isLeft(result) && result.left).to.deep.include({ _tag: 'QuayResponseInvalid' });
    });

    it('deletes a repository', async () => {
      const { quay } = client([['DELETE /api/v1/repository/demo/team/app', golden('delete repo')]]);
      expect(await quay.deleteRepository('demo', 'team/app')()).to.deep.equal(E.right('deleted'));
    });
  });

  describe('repository permissions', () => {
    it('lists direct permissions by name', async () => {
      const { quay } = client([
        [
          'GET /api/v1/repository/demo/app/permissions/user/',
          golden('repo user permissions (creator admin + prototypes applied)'),
        ],
      ]);
      const result = await quay.listRepositoryPermissions('demo', 'app')();
      expect(E.isRight(result) && [...result.right]).to.deep.equal([
        ['quayadmin', 'admin'],
        ['demo+builder', 'write'],
      ]);
    });

    it('sets a robot permission with its "+" encoded', async () => {
      const { quay, sent } = client([
        ['PUT /api/v1/repository/demo/app/permissions/user/demo%2Bviewer', golden('grant with encoded plus')],
      ]);
      expect(await quay.setRepositoryPermission('demo', 'app', 'demo+viewer', 'admin')()).to.deep.equal(
        E.right('updated'),
      );
      expect(sent[0]?.body).to.deep.equal({ role: 'admin' });
    });

    it('deletes a permission, and one already gone is unchanged', async () => {
      const { quay } = client([
        [
          'DELETE /api/v1/repository/demo/app/permissions/user/demo%2Bviewer',
          golden('delete user permission'),
        ],
        [
          'DELETE /api/v1/repository/demo/app/permissions/user/demo%2Bviewer',
          golden('delete user permission again'),
        ],
      ]);
      expect(await quay.deleteRepositoryPermission('demo', 'app', 'demo+viewer')()).to.deep.equal(
        E.right('deleted'),
      );
      expect(await quay.deleteRepositoryPermission('demo', 'app', 'demo+viewer')()).to.deep.equal(
        E.right('unchanged'),
      );
    });
  });

  describe('tags', () => {
    const tag = (name: string) => ({ name, manifest_digest: `sha256:${name}` });
    it('follows has_additional page by page, asking only for current tags', async () => {
      const { quay, calls } = client([
        [
          'GET /api/v1/repository/demo/app/tag/?page=1&limit=100&onlyActiveTags=true',
          json(200, { tags: [tag('a')], page: 1, has_additional: true }),
        ],
        [
          'GET /api/v1/repository/demo/app/tag/?page=2&limit=100&onlyActiveTags=true',
          json(200, { tags: [tag('b')], page: 2, has_additional: false }),
        ],
      ]);
      expect(await quay.listTags('demo', 'app')()).to.deep.equal(
        E.right(
          O.some([
            { name: 'a', manifestDigest: 'sha256:a' },
            { name: 'b', manifestDigest: 'sha256:b' },
          ]),
        ),
      );
      expect(calls()).to.have.length(2);
    });

    it("reads one tag's versions, history included, in one request (recorded specificTag answer)", async () => {
      const { quay, calls } = client([
        ['GET /api/v1/repository/demo/app/tag/?specificTag=v1&limit=100', golden('tags specificTag')],
      ]);
      expect(await quay.tagVersions('demo', 'app', 'v1')()).to.deep.equal(
        E.right(
          O.some([
            {
              manifestDigest: 'sha256:fc0b77b83d7c469589dade9cc1be7ffc29cf27c16db431c7dc7eabcbd71546ed',
              current: true,
            },
          ]),
        ),
      );
      expect(calls()).to.have.length(1);
    });

    it('marks ended versions, and keeps only the tag asked for', async () => {
      const { quay } = client([
        [
          'GET /api/v1/repository/demo/app/tag/?specificTag=v1&limit=100',
          json(200, {
            tags: [
              { ...tag('v1'), manifest_digest: 'sha256:new' },
              { ...tag('v1'), manifest_digest: 'sha256:old', end_ts: 1795593869 },
              tag('v10'),
            ],
            page: 1,
            has_additional: false,
          }),
        ],
      ]);
      expect(await quay.tagVersions('demo', 'app', 'v1')()).to.deep.equal(
        E.right(
          O.some([
            { manifestDigest: 'sha256:new', current: true },
            { manifestDigest: 'sha256:old', current: false },
          ]),
        ),
      );
    });

    it("reads a missing repository's tag versions as none (recorded 404)", async () => {
      const { quay } = client([
        ['GET /api/v1/repository/demo/nothere/tag/?specificTag=v1&limit=100', golden('tags of missing repo')],
      ]);
      expect(await quay.tagVersions('demo', 'nothere', 'v1')()).to.deep.equal(E.right(O.none));
    });

    it('reads a missing repository as none', async () => {
      const { quay } = client([
        [
          'GET /api/v1/repository/demo/nothere/tag/?page=1&limit=100&onlyActiveTags=true',
          golden('tags of missing repo'),
        ],
      ]);
      expect(await quay.listTags('demo', 'nothere')()).to.deep.equal(E.right(O.none));
    });
  });

  it('reads the current user', async () => {
    const { quay } = client([['GET /api/v1/user/', golden('current user (full scopes)')]]);
    expect(await quay.currentUser()()).to.deep.equal(
      E.right({ username: 'quayadmin', superUser: true, organizations: [] }),
    );
  });

  describe('call budget', () => {
    it('provisions a new namespace in 8 calls: organization, 3 robots, 3 prototypes and one re-read', async () => {
      const robot = golden('create robot, no body');
      const prototype = golden('create prototype for robot (QBO body shape)');
      const all = json(200, {
        prototypes: ['builder', 'default', 'deployer'].map((sa, i) => ({
          activating_user: null,
          delegate: { name: `demo+${sa}`, is_robot: true, kind: 'user' },
          role: i === 0 ? 'write' : 'read',
          id: `p${i}`,
        })),
      });
      const { quay, calls } = client([
        ['POST /api/v1/organization/', golden('create org')],
        ['PUT /api/v1/organization/demo/robots/builder', robot],
        ['PUT /api/v1/organization/demo/robots/default', robot],
        ['PUT /api/v1/organization/demo/robots/deployer', robot],
        ['POST /api/v1/organization/demo/prototypes', prototype],
        ['POST /api/v1/organization/demo/prototypes', prototype],
        ['POST /api/v1/organization/demo/prototypes', prototype],
        ['GET /api/v1/organization/demo/prototypes', all],
      ]);
      expect(await quay.ensureOrganization('demo')()).to.deep.equal(E.right('created'));
      for (const sa of ['builder', 'default', 'deployer']) await quay.ensureRobot('demo', sa, '')();
      // A new organization has no prototypes: the caller passes the empty list it knows.
      expect(
        await quay.ensureDefaultPermissions(
          'demo',
          [
            { robotName: 'demo+builder', role: 'write' },
            { robotName: 'demo+default', role: 'read' },
            { robotName: 'demo+deployer', role: 'read' },
          ],
          [],
        )(),
      ).to.deep.equal(E.right(['created', 'created', 'created']));
      expect(calls()).to.have.length(8);
    });

    it('checks an unchanged namespace in 2 calls: robots with tokens, prototypes', async () => {
      const prototypes = json(200, {
        prototypes: ['builder', 'default', 'deployer'].map((sa, i) => ({
          activating_user: null,
          delegate: { name: `demo+${sa}`, is_robot: true, kind: 'user' },
          role: i === 0 ? 'write' : 'read',
          id: `p${i}`,
        })),
      });
      const { quay, calls } = client([
        ['GET /api/v1/organization/demo/robots?token=true', golden('list robots')],
        ['GET /api/v1/organization/demo/prototypes', prototypes],
      ]);
      expect(E.isRight(await quay.listRobots('demo')())).to.equal(true);
      const listed = await quay.listDefaultPermissions('demo')();
      if (E.isLeft(listed)) throw new Error('no prototypes');
      for (const [sa, role] of [
        ['builder', 'write'],
        ['default', 'read'],
        ['deployer', 'read'],
      ] as const)
        expect(await quay.ensureDefaultPermission('demo', `demo+${sa}`, role, listed.right)()).to.deep.equal(
          E.right('unchanged'),
        );
      expect(calls()).to.have.length(2);
    });
  });

  it('keeps the token out of the messages of errors the operations build', async () => {
    const { quay } = client([
      ['POST /api/v1/organization/', json(400, { detail: `Invalid namespace ${SECRET}` })],
    ]);
    const result = await quay.ensureOrganization('demo')();
    expect(result).to.deep.equal(
      E.left({ _tag: 'QuayRejected', status: 400, message: 'Invalid namespace [token]' }),
    );
  });
});
