import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { refusalOrMissing } from '../../../shared/sync/organization.js';
import type { SyncError } from '../../../shared/errors.js';
import { fakeKube } from '../shared/fakes/kube.js';
import { fakeQuay } from '../shared/fakes/quay.js';

describe('namespace effects: a 403 met while working in an organization', () => {
  const forbidden: SyncError = { _tag: 'QuayRejected', status: 403, message: 'Unauthorized' };
  const run = async (error: SyncError, orgExists: boolean) => {
    const quay = fakeQuay();
    if (orgExists) quay.addOrg('openshift_team-a');
    const result = await refusalOrMissing<never>('openshift_team-a')(error)({
      kube: fakeKube(),
      quay: O.some(quay),
    })();
    return { result, calls: quay.calls };
  };

  it('stays a refusal (dead-lettered) when the organization is there', async () => {
    const { result, calls } = await run(forbidden, true);
    expect(result).to.deep.equal(E.left(forbidden));
    expect(calls).to.deep.equal(['getOrganization(openshift_team-a)']);
  });

  it('becomes a 404 (retried) when the organization is gone: its namespace is being deleted, or it is yet to come', async () => {
    const { result } = await run(forbidden, false);
    expect(result).to.deep.equal(
      E.left({
        _tag: 'QuayRejected',
        status: 404,
        message: 'organization openshift_team-a does not exist (Quay answered 403: Unauthorized)',
      }),
    );
  });

  it('passes any other error through without asking Quay', async () => {
    const other: SyncError = { _tag: 'QuayRejected', status: 400, message: 'Invalid namespace' };
    const { result, calls } = await run(other, false);
    expect(result).to.deep.equal(E.left(other));
    expect(calls).to.deep.equal([]);
  });
});
