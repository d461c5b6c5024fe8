import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { namespaceReports } from '../../../../functions/namespace/events.js';
import type { SyncError } from '../../../../shared/errors.js';
import { memoryEvents } from '../../../../shared/kube/events.js';
import { failureReport, reporting } from '../../../../shared/runtime/report.js';

const ns = { metadata: { name: 'team-a', uid: 'u-1' } };
const provision = {
  _tag: 'Provision',
  namespace: ns,
  org: 'c1_team-a',
  addFinalizer: true,
  dropLegacyFinalizer: false,
  stamp: 'quay.example.com/c1_team-a',
  ensured: false,
} as const;
const regarding = { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', uid: 'u-1' };

describe('step reports (shared/runtime/report.ts, functions/*/events.ts)', () => {
  it('reports a change, and nothing for unchanged or ignored work', () => {
    const of = namespaceReports(provision);
    expect(of(E.right({ outcome: 'created' }))).to.deep.equal([
      {
        regarding,
        event: {
          type: 'Normal',
          reason: 'OrganizationCreated',
          action: 'CreateOrganization',
          note: 'Quay organization c1_team-a created',
        },
      },
    ]);
    expect(of(E.right({ outcome: 'unchanged' }))).to.deep.equal([]);
    expect(of(E.right({ outcome: 'updated' }))).to.deep.equal([]);
    expect(
      namespaceReports({ _tag: 'Ignore', reason: 'out of scope' })(
        E.left({ _tag: 'QuayUnreachable', message: 'x' }),
      ),
    ).to.deep.equal([]);
  });

  it('warns of failures the operator can act on, not of races the step retries by itself', () => {
    const warn = (e: SyncError) => failureReport(regarding, 'CreateOrganization', e, 'OrganizationRefused');
    expect(warn({ _tag: 'InvalidName', message: 'too long' })?.event).to.deep.equal({
      type: 'Warning',
      reason: 'OrganizationRefused',
      action: 'CreateOrganization',
      note: 'too long',
    });
    expect(warn({ _tag: 'QuayUnavailable', status: 503, message: 'down' })?.event.reason).to.equal(
      'QuayUnavailable',
    );
    expect(warn({ _tag: 'KubeConflict', message: 'rv' })).to.equal(undefined);
    expect(warn({ _tag: 'KubeNotFound', message: 'gone' })).to.equal(undefined);
    expect(warn({ _tag: 'NotConfigured', reason: 'NoSettings', message: 'none' })).to.equal(undefined);
  });

  it('records after the work and leaves its result as it was', async () => {
    const events = memoryEvents();
    const failure: SyncError = { _tag: 'QuayUnreachable', message: 'ECONNREFUSED' };
    const result = await reporting(events, namespaceReports(provision))(TE.left(failure))();
    expect(result).to.deep.equal(E.left(failure));
    expect(events.recorded.map((r) => r.event.reason)).to.deep.equal(['QuayUnreachable']);
  });
});
