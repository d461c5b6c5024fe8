import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { sharingReads } from '../../../shared/kube/shared-reads.js';
import { Resources, type ObjectRef } from '../../../shared/kube/resources.js';
import { withCallCounts } from '../../../shared/runtime/calls.js';
import { fakeKube } from './fakes/kube.js';

const ns: ObjectRef = { type: Resources.Namespace, name: 'team-a' };
const streams = { namespace: 'team-a', metadataOnly: true, fromCache: true, asOfEvent: true } as const;
const asOfEvent = { asOfEvent: true } as const;

/** A world whose clock the test moves: reads start at `clock.t`, events arrive at a time they are given. */
const world = () => {
  const kube = fakeKube();
  kube.put(Resources.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const clock = { t: 10 };
  const client = sharingReads(kube, { now: () => clock.t });
  /** Runs `task` as the work of an event that arrived at `arrived`; its kube calls are counted. */
  const asEvent = async <A>(
    arrived: number,
    task: TE.TaskEither<unknown, A>,
  ): Promise<[E.Either<unknown, A>, number]> => {
    const { result, calls } = await withCallCounts(() => task(), { wall: arrived, mono: arrived });
    return [result, calls.kube];
  };
  return { kube, client, clock, asEvent };
};

describe('sharingReads: a read is shared by the events that arrived before it started', () => {
  it('two events that arrived before a GET started take its answer: one call', async () => {
    const w = world();
    const [first, firstCalls] = await w.asEvent(5, w.client.get(ns, asOfEvent));
    const [second, secondCalls] = await w.asEvent(8, w.client.get(ns, asOfEvent));
    expect([firstCalls, secondCalls]).to.deep.equal([1, 0]);
    expect(second).to.deep.equal(first);
    expect(w.kube.calls.filter((c) => c.startsWith('get'))).to.have.length(1);
  });

  it('an event that arrived after the read started reads again (the read may predate its change)', async () => {
    const w = world();
    await w.asEvent(5, w.client.get(ns, asOfEvent));
    // Arrived at the very moment the read started: not after it, so not sure to be in it.
    const [, atStart] = await w.asEvent(10, w.client.get(ns, asOfEvent));
    expect(atStart).to.equal(1);
    w.clock.t = 20;
    const [, later] = await w.asEvent(15, w.client.get(ns, asOfEvent));
    expect(later).to.equal(1);
  });

  it('a read under way is joined, not repeated', async () => {
    const w = world();
    const [a, b] = await Promise.all([
      w.asEvent(1, w.client.get(ns, asOfEvent)),
      w.asEvent(2, w.client.get(ns, asOfEvent)),
    ]);
    expect(a[1] + b[1]).to.equal(1);
    expect(b[0]).to.deep.equal(a[0]);
  });

  it('outside the work of an event (no arrival known) every read is made', async () => {
    const w = world();
    await w.client.get(ns, asOfEvent)();
    await w.client.get(ns, asOfEvent)();
    expect(w.kube.calls.filter((c) => c.startsWith('get'))).to.have.length(2);
  });

  it('a read that wants the object as it is now (no asOfEvent: a check right before acting) is always made', async () => {
    const w = world();
    await w.asEvent(5, w.client.get(ns, asOfEvent));
    const [, now] = await w.asEvent(6, w.client.get(ns));
    expect(now).to.equal(1);
  });

  it('a write to the object ends the sharing: an event that arrived before it still reads again', async () => {
    const w = world();
    await w.asEvent(5, w.client.get(ns, asOfEvent));
    await w.asEvent(6, w.client.patch(ns, { type: 'merge', body: { metadata: { labels: { a: 'b' } } } }));
    const [after, calls] = await w.asEvent(7, w.client.get(ns, asOfEvent));
    expect(calls).to.equal(1);
    expect(
      E.isRight(after) && (after.right as { metadata: { labels?: object } }).metadata.labels,
    ).to.deep.equal({
      a: 'b',
    });
  });

  it('a 404 is an answer and is shared; any other failure is not kept', async () => {
    const w = world();
    const gone: ObjectRef = { type: Resources.Namespace, name: 'gone' };
    const [missing] = await w.asEvent(5, w.client.get(gone, asOfEvent));
    const [, again] = await w.asEvent(6, w.client.get(gone, asOfEvent));
    expect(E.isLeft(missing) && (missing.left as { _tag: string })._tag).to.equal('KubeNotFound');
    expect(again).to.equal(0);
    w.kube.failNext('get Namespace', { _tag: 'KubeUnavailable', status: 503, message: 'etcd is away' });
    w.clock.t = 30;
    const [failed] = await w.asEvent(25, w.client.get(ns, asOfEvent));
    expect(E.isLeft(failed)).to.equal(true);
    const [retried, retriedCalls] = await w.asEvent(26, w.client.get(ns, asOfEvent));
    expect([E.isRight(retried), retriedCalls]).to.deep.equal([true, 1]);
  });

  it('lists asked as of the event are shared until a write in that namespace; the consistent one never is', async () => {
    const w = world();
    const [, first] = await w.asEvent(5, w.client.list(Resources.ImageStream, streams));
    const [, shared] = await w.asEvent(6, w.client.list(Resources.ImageStream, streams));
    const [, consistent] = await w.asEvent(6, w.client.list(Resources.ImageStream, { namespace: 'team-a' }));
    const [, consistentAgain] = await w.asEvent(
      6,
      w.client.list(Resources.ImageStream, { namespace: 'team-a' }),
    );
    expect([first, shared, consistent, consistentAgain]).to.deep.equal([1, 0, 1, 1]);
    await w.asEvent(
      7,
      w.client.create(Resources.ImageStream, 'team-a', {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'app', namespace: 'team-a' },
      }),
    );
    const [listed, afterWrite] = await w.asEvent(7, w.client.list(Resources.ImageStream, streams));
    expect(afterWrite).to.equal(1);
    expect(E.isRight(listed) && listed.right).to.have.length(1);
  });

  it('keeps at most `max` reads, the oldest going first', async () => {
    const kube = fakeKube();
    const client = sharingReads(kube, { max: 2, now: () => 10 });
    const refs = ['a', 'b', 'c'].map((name): ObjectRef => ({ type: Resources.Namespace, name }));
    const count = async (ref: ObjectRef): Promise<number> =>
      (await withCallCounts(() => client.get(ref, asOfEvent)(), { wall: 5, mono: 5 })).calls.kube;
    for (const ref of refs) await count(ref);
    expect([
      await count(refs[2] as ObjectRef),
      await count(refs[1] as ObjectRef),
      await count(refs[0] as ObjectRef),
    ]).to.deep.equal([0, 0, 1]);
  });
});
