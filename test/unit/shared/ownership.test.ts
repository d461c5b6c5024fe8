// The ownership marks and the decisions made from them (shared/ownership.ts), table-driven.
import { expect } from 'chai';
import {
  adoptedNamespaces,
  claimOf,
  markedDescription,
  organizationEmail,
  ownerToken,
  strictJudge,
  tokenOfDescription,
  tokenOfEmail,
  type ClusterIdentity,
  type Ownership,
} from '../../../shared/ownership.js';

const A: ClusterIdentity = { uid: '0b6a8d2e-1111-4c1e-9d55-000000000001', clusterID: 'c1' };
/** Another bridge on the same cluster whose clusterID differs only in case. */
const A_UPPER: ClusterIdentity = { ...A, clusterID: 'C1' };
/** The same clusterID on another cluster. */
const B: ClusterIdentity = { uid: '0b6a8d2e-2222-4c1e-9d55-000000000002', clusterID: 'c1' };
const ORG = 'c1_team-a';

describe('ownership marks (shared/ownership.ts)', () => {
  it('gives each identity its own token: case and cluster both count', () => {
    const tokens = [A, A_UPPER, B].map(ownerToken);
    expect(new Set(tokens).size).to.equal(3);
    for (const t of tokens) expect(t).to.match(/^qb-[0-9a-f]{20}$/);
    expect(ownerToken({ ...A })).to.equal(ownerToken(A));
  });

  it('reads back the token it writes, from an e-mail and from a description', () => {
    expect(tokenOfEmail(organizationEmail(A, ORG))).to.equal(ownerToken(A));
    expect(tokenOfDescription(markedDescription(A, 'ServiceAccount team-a/builder'))).to.equal(ownerToken(A));
    for (const other of ['c1_team-a@redhat.com', '', 'qb-0123@quay-bridge.invalid'])
      expect(tokenOfEmail(other), other).to.equal(undefined);
    for (const other of ['', 'quay-bridge: ServiceAccount team-a/builder', 'deploys'])
      expect(tokenOfDescription(other), other).to.equal(undefined);
  });

  it('makes valid, unique e-mails and descriptions Quay accepts (at most 254 and 255 characters)', () => {
    const long = `c1_${'n'.repeat(63)}`;
    expect(organizationEmail(A, long).length).to.be.at.most(254);
    expect(organizationEmail(A, ORG)).to.not.equal(organizationEmail(A, 'c1_team-b'));
    const d = markedDescription({ ...A, clusterID: 'x'.repeat(63) }, `ServiceAccount ns/${'s'.repeat(250)}`);
    expect(d.length).to.equal(255);
    expect(tokenOfDescription(d)).to.equal(ownerToken({ ...A, clusterID: 'x'.repeat(63) }));
  });

  describe('judging an organization by its e-mail', () => {
    const table: readonly [string, string, boolean, Ownership['_tag']][] = [
      ['our mark', organizationEmail(A, ORG), true, 'Ours'],
      ['QBO’s e-mail', `${ORG}@redhat.com`, true, 'Unmarked'],
      ['no e-mail', '', true, 'Unmarked'],
      [
        'the mark of the clusterID that differs only in case',
        organizationEmail(A_UPPER, ORG),
        true,
        'Foreign',
      ],
      ['the mark of the same clusterID on another cluster', organizationEmail(B, ORG), true, 'Foreign'],
      ['our mark copied from another organization', organizationEmail(A, 'c1_team-b'), true, 'Unmarked'],
      ['our mark, but the token’s user is not an admin', organizationEmail(A, ORG), false, 'NotAdmin'],
    ];
    for (const [what, email, isAdmin, want] of table)
      it(`${what} → ${want}`, () => {
        expect(strictJudge.organization(A, ORG, { email, isAdmin })._tag).to.equal(want);
      });
  });

  describe('judging an organization by its robots', () => {
    const ours = markedDescription(A, 'ServiceAccount team-a/builder');
    const theirs = markedDescription(A_UPPER, 'ServiceAccount team-a/builder');
    const table: readonly [string, readonly string[], Ownership['_tag'] | undefined][] = [
      ['a robot with our mark', [ours, ''], 'Ours'],
      ['only unmarked robots (QBO’s): they do not tell', ['', 'deploys'], undefined],
      ['no robots: they do not tell', [], undefined],
      ['another bridge’s robots', [theirs], 'Foreign'],
      ['ours and another bridge’s (both raced): the e-mail decides', [ours, theirs], undefined],
    ];
    for (const [what, descriptions, want] of table)
      it(`${what} → ${want ?? 'ask the e-mail'}`, () => {
        expect(strictJudge.robots(A, descriptions)?._tag).to.equal(want);
      });
  });

  it('counts a repository as made by this bridge only with this cluster’s mark', () => {
    expect(strictJudge.repository(A, markedDescription(A, 'ImageStream team-a/web'))).to.equal(true);
    expect(strictJudge.repository(A, '')).to.equal(false);
    expect(strictJudge.repository(A, markedDescription(A_UPPER, 'ImageStream team-a/web'))).to.equal(false);
  });

  describe('what to do with an organization (claimOf)', () => {
    const adopt = new Set(['team-a']);
    const table: readonly [string, Ownership, string, ReadonlySet<string>, string][] = [
      ['ours → use', { _tag: 'Ours' }, 'team-a', new Set(), 'Use'],
      ['missing → create (marked)', { _tag: 'Missing' }, 'team-a', new Set(), 'Create'],
      ['unmarked → refuse', { _tag: 'Unmarked' }, 'team-a', new Set(), 'Refuse'],
      ['unmarked, its namespace named for adoption → adopt', { _tag: 'Unmarked' }, 'team-a', adopt, 'Adopt'],
      ['unmarked, another namespace named → refuse', { _tag: 'Unmarked' }, 'team-b', adopt, 'Refuse'],
      [
        'foreign, even when named for adoption → refuse',
        { _tag: 'Foreign', token: 'qb-x' },
        'team-a',
        adopt,
        'Refuse',
      ],
      ['not admin, even when named → refuse', { _tag: 'NotAdmin' }, 'team-a', adopt, 'Refuse'],
    ];
    for (const [what, ownership, ns, names, want] of table)
      it(what, () => {
        expect(claimOf(ownership, `c1_${ns}`, ns, names)._tag).to.equal(want);
      });
  });

  it('reads the adoption annotation: namespace names, separated by commas or spaces; nothing else', () => {
    expect([...adoptedNamespaces(' team-a, team-b\nteam-c ,')]).to.deep.equal(['team-a', 'team-b', 'team-c']);
    expect([...adoptedNamespaces(undefined)]).to.deep.equal([]);
    expect([...adoptedNamespaces('*, Team-A, a_b')]).to.deep.equal([]);
  });
});
