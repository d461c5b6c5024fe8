import { expect } from 'chai';
import { paths, routeOf } from '../../../../shared/quay/paths.js';
import { kindLabel, metrics, observeQuayRequest } from '../../../../shared/runtime/metrics.js';

describe('metrics labels (shared/runtime/metrics.ts)', () => {
  it('names every path of the Quay client by its route template, never by the names in it', () => {
    const org = 'c1_team-a';
    const cases: [string, string][] = [
      [paths.currentUser(), '/api/v1/user/'],
      [paths.organizations(), '/api/v1/organization/'],
      [paths.organization(org), '/api/v1/organization/{org}'],
      [paths.robots(org), '/api/v1/organization/{org}/robots'],
      [paths.robot(org, 'builder'), '/api/v1/organization/{org}/robots/{robot}'],
      [paths.robotRegenerate(org, 'builder'), '/api/v1/organization/{org}/robots/{robot}/regenerate'],
      [paths.prototypes(org), '/api/v1/organization/{org}/prototypes'],
      [paths.prototype(org, 'abc'), '/api/v1/organization/{org}/prototypes/{prototype}'],
      [paths.repositories(), '/api/v1/repository'],
      [paths.repository(org, 'web'), '/api/v1/repository/{repo}'],
      [paths.repository(org, 'a/b'), '/api/v1/repository/{repo}'],
      [paths.userPermissions(org, 'web'), '/api/v1/repository/{repo}/permissions/user/'],
      [
        paths.userPermission(org, 'a/b', `${org}+builder`),
        '/api/v1/repository/{repo}/permissions/user/{username}',
      ],
      [paths.tags(org, 'web'), '/api/v1/repository/{repo}/tag/'],
      [`${paths.robots(org)}?permissions=true&token=true`, '/api/v1/organization/{org}/robots'],
      ['/api/v1/superuser/users/', 'other'],
    ];
    expect(cases.map(([p]) => routeOf(p))).to.deep.equal(cases.map(([, r]) => r));
  });

  it('keeps the kind label to the kinds the bridge serves', () => {
    expect(kindLabel('Namespace')).to.equal('Namespace');
    expect(kindLabel(undefined)).to.equal('none');
    expect(kindLabel('team-a-secret-project')).to.equal('other');
  });

  it('counts a retry and a 429 besides the request itself', async () => {
    const before = async () => (await metrics.quayRetries.get()).values.reduce((a, v) => a + v.value, 0);
    const limited = async () => (await metrics.quayRateLimited.get()).values.reduce((a, v) => a + v.value, 0);
    const [r0, l0] = [await before(), await limited()];
    observeQuayRequest({ method: 'GET', path: paths.robots('o'), status: 429, durationMs: 3, attempt: 2 });
    observeQuayRequest({ method: 'GET', path: paths.robots('o'), status: 200, durationMs: 3, attempt: 1 });
    expect([(await before()) - r0, (await limited()) - l0]).to.deep.equal([1, 1]);
  });
});
