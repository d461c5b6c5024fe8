// Quay down (every call answered 5xx) while a namespace is deleted: the namespace step cannot delete the
// organization, so it keeps our finalizer and the namespace stays Terminating (QBO crash-looped or dropped the
// finalizer here, docs/qbo-compatibility.md#b4, #b7); the broker gives up after its bounded retries. Once Quay is back and the event is
// delivered again (the adapter re-lists on restart; the resync reconciles), the organization is deleted and the
// namespace goes away: the world ends as a fault-free run ends.
import { expect } from 'chai';
import { deliver, inProcess } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { faultFreeBaseline } from '../../support/baseline.js';
import {
  cleanUp,
  createImageStream,
  createNamespace,
  deleteNamespace,
  expectConvergedTo,
  newScenario,
  provisioningProblems,
  stateOf,
  waitForProblemsGone,
} from '../../support/scenario.js';
import { startWorld, type World } from '../../support/world.js';

describe('fault tolerance: Quay down while a namespace is deleted', function () {
  this.timeout(240_000);
  const s = newScenario('qd');
  let w: World | undefined;
  let d: Dispatcher | undefined;

  before(async () => {
    w = await startWorld();
  });

  after(async () => {
    await d?.stop();
    if (w !== undefined) {
      w.quay.faults.errorRate5xx = 0;
      await cleanUp(w.rest, s);
      await w.stop();
    }
  });

  it('holds the namespace in Terminating until Quay is back, then deletes the organization and lets it go', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const baseline = await faultFreeBaseline(world, s.imageStreams);
    const transport = inProcess(world.stepEnv({ quayTimeoutMs: 1_000 }));
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport,
      namespaces: (n) => n.startsWith(s.runId),
      policy: { retry: 3, backoffMs: 100, maxBackoffMs: 400 },
    });
    await createNamespace(world.rest, s.keep);
    await createNamespace(world.rest, s.gone);
    for (const is of s.imageStreams) await createImageStream(world.rest, s.keep, is);
    await waitForProblemsGone(
      world,
      s,
      'both namespaces provisioned',
      (st) => [...provisioningProblems(st, 'keep', s.imageStreams), ...provisioningProblems(st, 'gone', [])],
      60_000,
    );
    await d.idle();

    world.quay.faults.errorRate5xx = 1;
    const logBefore = d.log.length;
    await deleteNamespace(world.rest, s.gone);
    // Wait until the deletion's events have been delivered and given up on.
    await waitForProblemsGone(
      world,
      s,
      'the deletion event handled',
      () =>
        d !== undefined &&
        d.log.slice(logBefore).some((e) => e.step === 'namespace' && e.event.name === s.gone)
          ? []
          : ['no namespace event yet'],
      30_000,
    );
    await d.idle();
    const held = await stateOf(world, s);
    const gone = held.namespaces['RUN-gone'];
    expect(gone, 'the namespace is still there').to.not.equal('absent');
    if (gone !== undefined && gone !== 'absent') {
      expect(gone.phase).to.equal('Terminating');
      expect(gone.finalizers).to.include('quay.redhat.com/quayintegrations');
    }
    expect(held.organizations, 'the organization is still there').to.have.property('openshift_RUN-gone');
    const givenUp = d.results.filter(
      (r) => r.verdict === 'dead-lettered' && r.step === 'namespace' && r.event.name === s.gone,
    );
    expect(givenUp.length, 'deletion events the broker gave up on').to.be.greaterThan(0);
    // Every answer while Quay was down asked for a retry: a 5xx, never a 4xx that would dead-letter at once.
    for (const r of givenUp) for (const a of r.attempts) expect(a.status).to.be.oneOf([500, 502, 503, 504]);

    world.quay.faults.errorRate5xx = 0;
    const again = givenUp[givenUp.length - 1];
    if (again === undefined) throw new Error('nothing to redeliver');
    const redelivered = await deliver(transport, 'namespace', again.event);
    expect(redelivered.verdict).to.equal('done');
    await expectConvergedTo(world, s, baseline.state);
  });
});
