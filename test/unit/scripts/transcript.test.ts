import { expect } from 'chai';
import { newEventLines, noteLogLine, summaryLine, type Totals } from '../../../scripts/transcript.js';

describe('the npm start transcript (scripts/transcript.ts)', () => {
  it('sums the events handled, their Quay calls and the 5xx answers from the steps’ log lines', () => {
    const t: Totals = { events: 0, quayCalls: 0, errors: 0, kubeEvents: 0 };
    noteLogLine(t, JSON.stringify({ msg: 'event handled', status: 204, quayCalls: 2 }));
    noteLogLine(t, JSON.stringify({ msg: 'event handled', status: 503, quayCalls: 4 }));
    noteLogLine(t, JSON.stringify({ msg: 'could not record an Event' }));
    noteLogLine(t, 'not json');
    expect(t).to.deep.equal({ events: 2, quayCalls: 6, errors: 1, kubeEvents: 0 });
    expect(summaryLine(t, 30.2)).to.equal(
      '-- after 30 s: 2 events handled, 6 Quay calls, 1 errors (5xx answers, retried), 0 Kubernetes Events recorded',
    );
  });

  it('shows each Event of the bridge once, and a repeat when its series counts one more', () => {
    const seen = new Map<string, number>();
    const event = (count?: number) => ({
      metadata: { uid: 'u1' },
      reportingController: 'quay-bridge',
      type: 'Normal',
      reason: 'OrganizationCreated',
      note: 'Quay organization local_demo created',
      regarding: { kind: 'Namespace', name: 'demo' },
      ...(count === undefined ? {} : { series: { count } }),
    });
    const other = { metadata: { uid: 'u2' }, reportingController: 'kubelet', reason: 'Pulled' };
    expect(newEventLines([event(), other], seen)).to.have.length(1);
    expect(newEventLines([event(), other], seen)).to.deep.equal([]);
    const [line] = newEventLines([event(3)], seen);
    expect(line).to.match(
      /^event +Namespace +demo +Normal OrganizationCreated: Quay organization local_demo created \(x3\)$/,
    );
  });
});
