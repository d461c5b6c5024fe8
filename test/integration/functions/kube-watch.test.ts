// The kube client's watch of one object (KubeClient.waitFor), against the real API server: the version another
// writer makes is seen as soon as it is made, and nothing (no error) when nothing comes in time or the object goes.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { sharedControlPlane } from '../../harness/index.js';
import type { KubeClient } from '../../../shared/kube/client.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { Resources, type ObjectRef } from '../../../shared/kube/resources.js';

const labelled = (o: unknown): boolean =>
  (o as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.['watch-test'] === 'seen';

describe('kube client: waitFor, a watch of one object for a moment', function () {
  this.timeout(60_000);
  let kube: KubeClient;
  let waitFor: NonNullable<KubeClient['waitFor']>;
  const ns = (name: string): ObjectRef => ({ type: Resources.Namespace, name });

  const fresh = async (name: string): Promise<string> => {
    const made = await kube.create(Resources.Namespace, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    })();
    if (E.isLeft(made)) throw new Error(made.left.message);
    return (made.right as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  };

  before(async () => {
    const cp = await sharedControlPlane();
    kube = createKubeClient(cp.kubeConfig, { fieldManager: 'kube-watch-test' });
    if (kube.waitFor === undefined) throw new Error('the http client has no waitFor');
    waitFor = kube.waitFor;
  });

  it('answers with the later version that another writer makes while it waits', async () => {
    const rv = await fresh('watch-seen');
    const waiting = waitFor(ns('watch-seen'), rv, labelled, 10_000)();
    // An unrelated change first (not accepted), then the one waited for.
    await kube.patch(ns('watch-seen'), { type: 'merge', body: { metadata: { labels: { other: 'x' } } } })();
    await kube.patch(ns('watch-seen'), {
      type: 'merge',
      body: { metadata: { labels: { 'watch-test': 'seen' } } },
    })();
    const seen = await waiting;
    expect(E.isRight(seen) && O.isSome(seen.right) && labelled(seen.right.value)).to.equal(true);
  });

  it('answers none when nothing comes in time, and when the object is deleted', async () => {
    const rv = await fresh('watch-none');
    const quiet = await waitFor(ns('watch-none'), rv, labelled, 300)();
    expect(quiet).to.deep.equal(E.right(O.none));
    const waiting = waitFor(ns('watch-none'), rv, labelled, 10_000)();
    await kube.delete(ns('watch-none'))();
    expect(await waiting).to.deep.equal(E.right(O.none));
  });

  it('sees nothing of the version it started from (the read before it has it already)', async () => {
    const rv = await fresh('watch-from');
    await kube.patch(ns('watch-from'), {
      type: 'merge',
      body: { metadata: { labels: { 'watch-test': 'seen' } } },
    })();
    const labelledRv = await kube.get(ns('watch-from'))();
    const after = E.isRight(labelledRv)
      ? (labelledRv.right as { metadata: { resourceVersion: string } }).metadata.resourceVersion
      : rv;
    expect(await waitFor(ns('watch-from'), after, labelled, 300)()).to.deep.equal(E.right(O.none));
  });
});
