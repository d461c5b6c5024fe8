import { expect } from 'chai';
import { paths } from '../../../shared/quay/paths.js';

describe('Quay API paths', () => {
  const cases: ReadonlyArray<[string, string, string]> = [
    // The routes that end in "/" are sent with it (a 308 otherwise), the others without.
    ['the current user, with its slash', paths.currentUser(), '/api/v1/user/'],
    ['organization creation, with its slash', paths.organizations(), '/api/v1/organization/'],
    ['an organization', paths.organization('demo'), '/api/v1/organization/demo'],
    ['the robot list, without a slash', paths.robots('demo'), '/api/v1/organization/demo/robots'],
    ['a robot', paths.robot('demo', 'builder'), '/api/v1/organization/demo/robots/builder'],
    [
      'a regenerate',
      paths.robotRegenerate('demo', 'builder'),
      '/api/v1/organization/demo/robots/builder/regenerate',
    ],
    ['the prototype list, without a slash', paths.prototypes('demo'), '/api/v1/organization/demo/prototypes'],
    ['a prototype', paths.prototype('demo', 'dc44fdda'), '/api/v1/organization/demo/prototypes/dc44fdda'],
    ['repository creation, without a slash', paths.repositories(), '/api/v1/repository'],
    ['a repository', paths.repository('demo', 'app'), '/api/v1/repository/demo/app'],
    [
      'a repository whose name has a slash',
      paths.repository('demo', 'team/app'),
      '/api/v1/repository/demo/team/app',
    ],
    [
      'user permissions, with the slash',
      paths.userPermissions('demo', 'app'),
      '/api/v1/repository/demo/app/permissions/user/',
    ],
    [
      'a robot permission, its "+" encoded',
      paths.userPermission('demo', 'app', 'demo+viewer'),
      '/api/v1/repository/demo/app/permissions/user/demo%2Bviewer',
    ],
    ['tags, with the slash', paths.tags('demo', 'team/app'), '/api/v1/repository/demo/team/app/tag/'],
    // A name can never reach another route.
    [
      'a name with a slash stays one segment',
      paths.robot('demo', 'a/../../x'),
      '/api/v1/organization/demo/robots/a%2F..%2F..%2Fx',
    ],
    ['a name with a query stays in the path', paths.organization('a?b=c'), '/api/v1/organization/a%3Fb%3Dc'],
    // ".." stays ".." (the URL parser would undo %2E too); the transport refuses to send such a path.
    [
      'a ".." repository segment is left for the transport to refuse',
      paths.repository('demo', '../x'),
      '/api/v1/repository/demo/../x',
    ],
  ];
  for (const [name, actual, expected] of cases)
    it(name, () => {
      expect(actual).to.equal(expected);
    });
});
