import { expect } from 'chai';
import { createEventRecorder, eventBody, microTime } from '../../../shared/kube/events.js';
import { Resources } from '../../../shared/kube/resources.js';
import { memoryLogger } from '../../../shared/log.js';
import { fakeKube } from './fakes/kube.js';

const ns = { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', uid: 'u-1' };
const build = { apiVersion: 'build.openshift.io/v1', kind: 'Build', name: 'b-1', namespace: 'team-a' };
const created = {
  type: 'Normal',
  reason: 'OrganizationCreated',
  action: 'CreateOrganization',
  note: 'created organization c1_team-a',
} as const;

const setup = (start = Date.parse('2026-12-03T10:00:00Z')) => {
  const kube = fakeKube();
  const log = memoryLogger();
  let clock = start;
  const recorder = createEventRecorder({ kube, instance: 'namespace', log, now: () => new Date(clock) });
  return {
    kube,
    log,
    recorder,
    advance: (ms: number) => {
      clock += ms;
    },
  };
};

describe('Kubernetes Events (shared/kube/events.ts)', () => {
  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(new Date('2026-12-03T10:00:00.123Z'))).to.equal('2026-12-03T10:00:00.123000Z');
  });

  it('reports a cluster-scoped object in default, as quay-bridge-<step>, with limits kept', () => {
    const body = eventBody('n.1', ns, { ...created, note: 'x'.repeat(2000) }, 'namespace', new Date(0));
    expect(body).to.deep.include({
      reportingController: 'quay-bridge',
      reportingInstance: 'quay-bridge-namespace',
      regarding: { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', uid: 'u-1' },
    });
    expect((body.metadata as { namespace: string }).namespace).to.equal('default');
    expect((body.note as string).length).to.equal(1024);
  });

  it('creates one Event, then counts repeats in its series instead of creating more', async () => {
    const w = setup();
    await w.recorder.record(build, created)();
    w.advance(1000);
    await w.recorder.record(build, created)();
    w.advance(1000);
    await w.recorder.record(build, created)();
    const events = w.kube.all(Resources.Event);
    expect(events).to.have.length(1);
    expect(events[0]?.metadata.namespace).to.equal('team-a');
    expect(events[0]?.['series']).to.deep.equal({
      count: 3,
      lastObservedTime: '2026-12-03T10:00:02.000000Z',
    });
  });

  it('counts repeats recorded while the first is still being created in its series (concurrent retries)', async () => {
    const w = setup();
    await Promise.all([1, 2, 3].map(() => w.recorder.record(build, created)()));
    const events = w.kube.all(Resources.Event);
    expect(events).to.have.length(1);
    expect((events[0]?.['series'] as { count: number } | undefined)?.count).to.equal(3);
  });

  it('starts a new Event for another note, and after the series window', async () => {
    const w = setup();
    await w.recorder.record(build, created)();
    await w.recorder.record(build, { ...created, note: 'another' })();
    w.advance(6 * 60_000);
    await w.recorder.record(build, created)();
    expect(w.kube.all(Resources.Event)).to.have.length(3);
  });

  it('starts a new series when the Event it counted in is gone', async () => {
    const w = setup();
    await w.recorder.record(build, created)();
    const first = w.kube.all(Resources.Event)[0];
    w.kube.remove(Resources.Event, 'team-a', first?.metadata.name ?? '');
    await w.recorder.record(build, created)();
    const events = w.kube.all(Resources.Event);
    expect(events).to.have.length(1);
    expect(events[0]?.metadata.name).to.not.equal(first?.metadata.name);
  });

  it('never fails: a refused write is a warning in the log', async () => {
    const w = setup();
    w.kube.failNext('create Event', { _tag: 'KubeForbidden', status: 403, message: 'events is forbidden' });
    await w.recorder.record(build, created)();
    expect(w.kube.all(Resources.Event)).to.have.length(0);
    expect(w.log.lines.map((l) => l['msg'])).to.deep.equal(['could not record an Event']);
  });
});
