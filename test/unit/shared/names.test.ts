import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  byCodeUnits,
  isAllowedNamespace,
  namespaceOfOrganization,
  organizationName,
  organizationPrefix,
  robotName,
  robotSecretName,
} from '../../../shared/names.js';

describe('names', () => {
  describe('isAllowedNamespace (QBO IsAllowedNamespace order)', () => {
    const cases: ReadonlyArray<[string, { allow?: string[]; deny?: string[] }, boolean]> = [
      ['team-a', {}, true],
      ['default', {}, false],
      ['openshift', {}, false],
      ['management-infra', {}, false],
      ['openshift-monitoring', {}, false],
      ['kube-system', {}, false],
      ['kube-public', {}, false],
      ['openshiftish', {}, true], // only the exact name or the "openshift-" prefix is denied
      ['kubeflow', {}, true],
      ['team-a', { deny: ['team-a'] }, false],
      ['team-a', { allow: ['team-b'] }, false], // a non-empty allow list admits only its members
      ['team-b', { allow: ['team-b'] }, true],
      ['openshift-foo', { allow: ['openshift-foo'] }, true], // the allow list overrides the default deny
      ['default', { allow: ['default'] }, true],
      ['team-a', { allow: ['team-a'], deny: ['team-a'] }, false], // the deny list always wins
    ];
    for (const [ns, lists, expected] of cases) {
      it(`${expected ? 'allows' : 'denies'} ${ns} with ${JSON.stringify(lists)}`, () => {
        expect(
          isAllowedNamespace(ns, { allowlistNamespaces: lists.allow, denylistNamespaces: lists.deny }),
        ).to.equal(expected);
      });
    }
  });

  describe('organizationName', () => {
    it('is <prefix>_<namespace>', () => {
      expect(organizationName('openshift', 'team-a')).to.deep.equal(E.right('openshift_team-a'));
    });
    it("reports a name Quay would refuse (double hyphen) with Quay's rule", () => {
      const result = organizationName('openshift', 'a--b');
      expect(E.isLeft(result) && result.left.message).to.equal(
        'organization "openshift_a--b" for namespace "a--b" is not a valid Quay name: ' +
          'Namespace must match expression ^([a-z0-9]+(?:[._-][a-z0-9]+)*)$',
      );
    });
    it('reports a name over 255 characters', () => {
      const result = organizationName('p'.repeat(200), 'n'.repeat(60));
      expect(E.isLeft(result) && result.left.message).to.match(/between 2 and 255 characters/);
    });
  });

  describe('organizationPrefix', () => {
    it('lowercases clusterID', () =>
      expect(organizationPrefix({ clusterID: 'Prod-EU' })).to.equal('prod-eu'));
    it('prefers organizationPrefix when set (QBO ignored it: PROJQUAY-4157)', () =>
      expect(organizationPrefix({ clusterID: 'prod', organizationPrefix: 'Shared' })).to.equal('shared'));
    it('ignores an empty organizationPrefix', () =>
      expect(organizationPrefix({ clusterID: 'prod', organizationPrefix: '' })).to.equal('prod'));
  });

  describe("namespaceOfOrganization (which organizations are this cluster's)", () => {
    const cases: ReadonlyArray<[string, string, string | undefined]> = [
      ['openshift', 'openshift_team-a', 'team-a'],
      ['openshift', 'other_team-a', undefined],
      ['openshift', 'openshift', undefined],
      ['a', 'a_b_team', undefined], // cluster "a" must not claim cluster "a_b"'s organizations
      ['openshift', 'openshift_Team', undefined],
      ['openshift', 'openshift_', undefined],
    ];
    for (const [prefix, org, expected] of cases) {
      it(`${org} with prefix ${prefix} → ${String(expected)}`, () =>
        expect(namespaceOfOrganization(prefix, org)).to.equal(expected));
    }
  });

  it('byCodeUnits orders Kubernetes names and dockerconfig keys as localeCompare did (same order, same stamps)', () => {
    const names = [
      'team-b',
      'team-a',
      'a1',
      'a-1',
      'a.b',
      'ab',
      '1a',
      'z',
      'a',
      'auths',
      'auth',
      'username',
      'password',
    ];
    expect([...names].sort(byCodeUnits)).to.deep.equal([...names].sort((a, b) => a.localeCompare(b)));
    expect(byCodeUnits('a', 'a')).to.equal(0);
  });

  it('names robots <org>+<sa>', () =>
    expect(robotName('openshift_team-a', 'builder')).to.equal('openshift_team-a+builder'));

  it('docs/qbo-compatibility.md#b3: lowercases the clusterID in robot Secret names', () =>
    expect(robotSecretName('builder', 'Prod')).to.equal('builder-quay-prod'));
});
