import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import {
  CreatedRepository,
  decodeBody,
  OrganizationView,
  PrototypeList,
  PrototypeView,
  RepositoryList,
  RepositoryView,
  RobotList,
  RobotView,
  TagList,
  UserPermissions,
  UserPermissionView,
  UserView,
} from '../../../shared/quay/codecs.js';
import { toPrototype } from '../../../shared/quay/prototypes.js';
import { goldenBody, response } from './golden.js';

const decodes = (codec: t.Decoder<unknown, unknown>, note: string): void => {
  const result = codec.decode(goldenBody(note));
  expect(E.isRight(result), `${codec.name} on "${note}"`).to.equal(true);
};

describe('Quay response codecs', () => {
  describe('decode the recorded answers of a real Quay', () => {
    const cases: ReadonlyArray<[t.Decoder<unknown, unknown>, string]> = [
      [UserView, 'current user (full scopes)'],
      [OrganizationView, 'get org as admin'],
      [OrganizationView, 'get org anonymous'],
      [OrganizationView, 'get org with repo:read-only token (not admin view)'],
      [RobotView, 'create robot, no body'],
      [RobotView, 'create robot with body'],
      [RobotView, 'get robot'],
      [RobotView, 'regenerate robot token'],
      [RobotList, 'list robots'],
      [RobotList, 'list robots token=false permissions=true'],
      [PrototypeView, 'create prototype for robot (QBO body shape)'],
      [PrototypeView, 'create prototype for team'],
      [PrototypeView, 'update prototype role'],
      [PrototypeList, 'list prototypes'],
      [PrototypeList, 'list prototypes (empty)'],
      [RepositoryView, 'get repo'],
      [RepositoryView, 'get repo includeTags=false'],
      [RepositoryView, 'repo with tags'],
      [CreatedRepository, 'create repo'],
      [CreatedRepository, 'create repo with slash (EXTENDED_REPOSITORY_NAMES)'],
      [RepositoryList, 'list repos in namespace'],
      [UserPermissions, 'repo user permissions (creator admin + prototypes applied)'],
      [UserPermissionView, 'grant robot read'],
      [UserPermissionView, 'grant with encoded plus'],
      [TagList, 'tags of empty repo'],
      [TagList, 'tags after push of v1 and latest'],
      [TagList, 'tags page size 1'],
    ];
    for (const [codec, note] of cases)
      it(`${codec.name} decodes "${note}"`, () => {
        decodes(codec, note);
      });
  });

  it('keeps fields the codec does not name (non-exact)', () => {
    const decoded = RobotView.decode(goldenBody('get robot'));
    expect(E.isRight(decoded) && 'unstructured_metadata' in decoded.right).to.equal(true);
  });

  it('reads a robot prototype and a team prototype into the contract type', () => {
    const list = PrototypeList.decode(goldenBody('list prototypes'));
    if (E.isLeft(list)) throw new Error('does not decode');
    expect(list.right.prototypes.map(toPrototype)).to.deep.equal([
      {
        id: '1ebe6ff4-daf1-4607-aa3f-1f178062ccb3',
        role: 'write',
        delegate: { kind: 'user', name: 'demo+builder', isRobot: true },
      },
      {
        id: 'dc44fdda-59a6-4526-bb9b-fd1d6d984268',
        role: 'write',
        delegate: { kind: 'user', name: 'demo+builder', isRobot: true },
      },
      {
        id: 'c1fc2504-436c-409b-a2a4-abdb751cf2e4',
        role: 'read',
        delegate: { kind: 'team', name: 'owners' },
      },
    ]);
  });

  it('reads an activating user', () => {
    const view = {
      id: 'p',
      role: 'read',
      delegate: { kind: 'team', name: 't' },
      activating_user: { name: 'alice' },
    };
    const decoded = PrototypeView.decode(view);
    if (E.isLeft(decoded)) throw new Error('does not decode');
    expect(toPrototype(decoded.right)).to.include({ activatingUser: 'alice' });
  });

  describe('decodeBody says what failed, without echoing values', () => {
    const at = { method: 'GET' as const, path: '/api/v1/organization/demo/robots/builder' };
    const failure = (codec: t.Decoder<unknown, unknown>, res: ReturnType<typeof response>) =>
      decodeBody(codec)({ ...res, ...at });

    it('names a missing token', () => {
      const body = JSON.stringify({ name: 'demo+builder', description: '' });
      expect(failure(RobotView, response(200, body))).to.deep.equal(
        E.left({
          _tag: 'QuayResponseInvalid',
          status: 200,
          message:
            'GET /api/v1/organization/demo/robots/builder answered 200 with a body that does not decode: token: expected string, got nothing',
        }),
      );
    });

    it('names a role Quay should never send, without quoting long values', () => {
      const body = JSON.stringify({
        prototypes: [{ id: 'x', role: 'owner', delegate: { kind: 'user', name: 'o+r', is_robot: true } }],
      });
      const result = failure(PrototypeList, response(200, body));
      expect(result).to.deep.equal(
        E.left({
          _tag: 'QuayResponseInvalid',
          status: 200,
          message: `GET ${at.path} answered 200 with a body that does not decode: prototypes.role: expected "read" | "write" | "admin", got "owner"`,
        }),
      );
    });

    it('does not echo a robot token that sits where a name should be', () => {
      const token = 'A'.repeat(64);
      const result = failure(
        RobotView,
        response(200, JSON.stringify({ name: 1, description: token, token })),
      );
      expect(JSON.stringify(result)).not.to.include(token);
      expect(JSON.stringify(result)).to.include('name: expected string, got 1');
    });

    it('says when the body is not JSON at all', () => {
      expect(
        failure(RobotView, response(200, '<html>proxy login</html>', { 'content-type': 'text/html' })),
      ).to.deep.equal(
        E.left({
          _tag: 'QuayResponseInvalid',
          status: 200,
          message: `GET ${at.path} answered 200 with a body that does not decode: it is not JSON but an HTML page`,
        }),
      );
    });

    it('says when the body is empty', () => {
      const result = failure(RobotView, response(200, ''));
      expect(E.isLeft(result) && 'message' in result.left && result.left.message).to.match(
        /not JSON but an empty body$/,
      );
    });
  });
});
