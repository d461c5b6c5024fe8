// Hostile tenant, memory: mallory (edit in her namespace, impersonated) makes a burst of ImageStreams of ~1.4 MB each
// (etcd takes about 1.5 MB per object). The resync and the service-account step list ImageStreams only for their
// names; what they read is measured on the real API server's answers (a recording KubeClient around the production
// one): metadata only, whatever the streams hold. The weakened build is the same steps with the old full lists
// (the recording client drops `metadataOnly`), which read every byte mallory wrote.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { resyncStep } from '../../../functions/resync/handle.js';
import { serviceAccountStep } from '../../../functions/service-account/handle.js';
import type { KubeClient, ListOptions } from '../../../shared/kube/client.js';
import type { ResourceType } from '../../../shared/kube/resources.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import type { StepEnv } from '../../../shared/runtime/env.js';
import { makeHandler } from '../../../shared/runtime/handler.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import type { KubeRest } from '../../event-path/kube-rest.js';
import { CLUSTER_ID, startWorld, type World } from '../../support/world.js';
import { apiServerEvent, pingEvent } from '../../unit/shared/fakes/events.js';
import { ok, tenantWithEdit } from './tenant.js';

const STREAMS = 6;
const PAYLOAD = 1_400_000;

interface ListRead {
  readonly kind: string;
  readonly options: ListOptions;
  readonly items: readonly unknown[];
  /** The items as JSON: what the step holds in memory of this answer. */
  readonly bytes: number;
}

/** The production client, recording every list answer; `weakened` sends lists as the bridge did before (full). */
const recording = (kube: KubeClient, reads: ListRead[], weakened: boolean): KubeClient => ({
  ...kube,
  list: (type: ResourceType, options: ListOptions = {}) => {
    const { metadataOnly: _dropped, ...full } = options;
    const sent = weakened ? full : options;
    return pipe(
      kube.list(type, sent),
      TE.tap((items) => {
        reads.push({ kind: type.kind, options: sent, items, bytes: JSON.stringify(items).length });
        return TE.right(undefined);
      }),
    );
  },
});

describe('hostile tenant: a burst of 1.4 MB ImageStreams against the resync and the service-account step', function () {
  this.timeout(300_000);
  const suffix = randomBytes(3).toString('hex');
  const mallory = `mallory-${suffix}`;
  const org = `${CLUSTER_ID}_${mallory}`;
  let w: World | undefined;
  let admin: KubeRest;

  const world = (): World => {
    if (w === undefined) throw new Error('no world');
    return w;
  };

  before(async () => {
    w = await startWorld();
    admin = w.rest;
    ok(
      `namespace ${mallory}`,
      await admin.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: mallory },
      }),
    );
    const tenant = await tenantWithEdit(w, admin, 'mallory', mallory);
    for (let i = 0; i < STREAMS; i++)
      ok(
        `mallory creates ImageStream big-${i}`,
        await tenant.request('POST', `/apis/image.openshift.io/v1/namespaces/${mallory}/imagestreams`, {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: `big-${i}` },
          spec: { tags: [{ name: 'v1', annotations: { ballast: 'x'.repeat(PAYLOAD) } }] },
        }),
      );
  });

  after(async () => {
    if (w === undefined) return;
    await w.rest.request('DELETE', `/api/v1/namespaces/${mallory}`);
    await w.stop();
  });

  const imageStreamReads = (reads: readonly ListRead[]) => reads.filter((r) => r.kind === 'ImageStream');
  const envWith = (reads: ListRead[], weakened: boolean): StepEnv => {
    const env = world().stepEnv();
    return { ...env, kube: recording(env.kube, reads, weakened) };
  };
  /**
   * Removes mallory's builder robot in Quay, so that the next pass makes it again and grants it every repository; and
   * its Secret, whose stamp would otherwise let a ServiceAccount event be answered from the cluster alone.
   */
  const dropBuilderRobot = async (): Promise<void> => {
    const quay = createQuayClient({ apiUrl: world().quay.url, token: new Token(world().quay.adminToken) });
    try {
      expect(E.isRight(await quay.deleteRobot(org, 'builder')())).to.equal(true);
    } finally {
      quay.close();
    }
    const secret = await admin.request(
      'DELETE',
      `/api/v1/namespaces/${mallory}/secrets/builder-quay-${CLUSTER_ID.toLowerCase()}`,
    );
    expect([200, 404]).to.include(secret.status);
  };
  const builder = async () =>
    ok(
      'read builder',
      await admin.request('GET', `/api/v1/namespaces/${mallory}/serviceaccounts/builder`),
    ) as object;

  it('the resync reads names only (the weakened full list reads every megabyte mallory wrote)', async () => {
    const written = STREAMS * PAYLOAD;

    const weak: ListRead[] = [];
    const a = await makeHandler(resyncStep, () => Promise.resolve(envWith(weak, true)))({
      cloudevent: pingEvent(),
    });
    expect(a.statusCode).to.equal(204);
    const weakBytes = imageStreamReads(weak).reduce((n, r) => n + r.bytes, 0);
    expect(weakBytes).to.be.greaterThan(written);

    await dropBuilderRobot();
    const real: ListRead[] = [];
    const b = await makeHandler(resyncStep, () => Promise.resolve(envWith(real, false)))({
      cloudevent: pingEvent(),
    });
    expect(b.statusCode).to.equal(204);
    const lists = imageStreamReads(real);
    // One cluster-wide list (the resync grants a re-created robot from it, without a list of its own).
    expect(lists.map((r) => r.options.namespace ?? '*')).to.deep.equal(['*']);
    for (const r of lists) {
      expect(r.options.metadataOnly).to.equal(true);
      for (const item of r.items as { kind?: string; spec?: unknown; status?: unknown }[]) {
        expect(item.kind).to.equal('PartialObjectMetadata');
        expect(item).to.not.have.property('spec');
        expect(item).to.not.have.property('status');
      }
    }
    const mine = lists.flatMap((r) =>
      (r.items as { metadata: { namespace: string; name: string } }[])
        .filter((i) => i.metadata.namespace === mallory)
        .map((i) => i.metadata.name),
    );
    expect(new Set(mine)).to.deep.equal(new Set(Array.from({ length: STREAMS }, (_, i) => `big-${i}`)));
    // Names and metadata only: a few hundred bytes per stream, not the megabytes.
    expect(lists.reduce((n, r) => n + r.bytes, 0)).to.be.lessThan(written / 100);
    // And the work was done: every stream's repository exists in Quay.
    const repos = world()
      .quay.state()
      .repositories.filter((r) => r.namespace === org)
      .map((r) => r.name);
    for (let i = 0; i < STREAMS; i++) expect(repos).to.include(`big-${i}`);
  });

  it('the service-account step reads names only when it grants a new robot the existing repositories', async () => {
    const weak: ListRead[] = [];
    await dropBuilderRobot();
    const a = await makeHandler(serviceAccountStep, () => Promise.resolve(envWith(weak, true)))({
      cloudevent: apiServerEvent('update', await builder()),
    });
    expect(a.statusCode).to.equal(204);
    expect(imageStreamReads(weak).reduce((n, r) => n + r.bytes, 0)).to.be.greaterThan(STREAMS * PAYLOAD);

    await dropBuilderRobot();
    const real: ListRead[] = [];
    const b = await makeHandler(serviceAccountStep, () => Promise.resolve(envWith(real, false)))({
      cloudevent: apiServerEvent('update', await builder()),
    });
    expect(b.statusCode).to.equal(204);
    const lists = imageStreamReads(real);
    // From the watch cache, then a consistent list for what the cache did not have yet (docs/design.md#robot-grants).
    expect(
      lists.map((r) => [r.options.namespace, r.options.metadataOnly, r.options.fromCache]),
    ).to.deep.equal([
      [mallory, true, true],
      [mallory, true, false],
    ]);
    for (const r of lists) expect(r.items).to.have.length(STREAMS);
    expect(lists.reduce((n, r) => n + r.bytes, 0)).to.be.lessThan((STREAMS * PAYLOAD) / 100);
  });
});
