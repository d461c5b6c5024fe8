// Hostile tenant, build step: a user with the `edit` ClusterRole in namespace mallory-… (impersonated through the real
// authorizer) forges Builds — annotation, spec.output, status edited to Complete with a digest of her choosing — and
// the build step runs as its own ServiceAccount under the install's RBAC (knative/), which may create
// ImageStreamImports in every namespace. Each attack is first played against the step with the check that stops it
// switched off (makeBuildStep's Checks), where it succeeds, then against the real step, where it is refused: nothing
// imported, the Build not marked, a Warning Event on it, and a final answer (no retry storm).
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { CloudEvent } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { makeBuildStep } from '../../../functions/build/handle.js';
import { ALL_CHECKS, type Checks } from '../../../functions/build/plan.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import { makeHandler } from '../../../shared/runtime/handler.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import { applyInstallOrThrow } from '../../event-path/install.js';
import type { KubeRest } from '../../event-path/kube-rest.js';
import { renderInstall } from '../../event-path/manifests.js';
import { eventually } from '../../openshift-standin/wait.js';
import { BRIDGE_NAMESPACE, CLUSTER_ID, startWorld, type World } from '../../support/world.js';
import { impersonating, ok, tenantWithEdit } from './tenant.js';

const A = 'quay-registry-operator.quay.redhat.com/';
const BUILD_SA = `system:serviceaccount:${BRIDGE_NAMESPACE}:quay-bridge-build`;
const digest = (seed: string): string =>
  `sha256:${Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64)}`;

describe('hostile tenant: forged Builds against the build step (real API server, edit role, impersonation)', function () {
  this.timeout(180_000);
  const suffix = randomBytes(3).toString('hex');
  const mallory = `mallory-${suffix}`;
  const victim = `victim-${suffix}`;
  const orgOf = (ns: string): string => `${CLUSTER_ID}_${ns}`;
  const MALLORY_DIGEST = digest(`mallory-${suffix}`);
  const VICTIM_DIGEST = digest(`victim-${suffix}`);
  const NOWHERE_DIGEST = digest(`nowhere-${suffix}`);
  let w: World | undefined;
  let admin: KubeRest;
  let tenant: KubeRest;
  let host = '';

  const world = (): World => {
    if (w === undefined) throw new Error('no world');
    return w;
  };

  before(async () => {
    w = await startWorld();
    host = w.quay.registryHost;
    admin = w.rest;
    await applyInstallOrThrow(w.kubeConfig, renderInstall());
    for (const ns of [mallory, victim])
      ok(
        `namespace ${ns}`,
        await admin.request('POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns },
        }),
      );
    tenant = await tenantWithEdit(w, admin, 'mallory', mallory);
    // Quay as the bridge left it: both organizations with their repository `app`, each with its own image at v1.
    const quay = createQuayClient({ apiUrl: w.quay.url, token: new Token(w.quay.adminToken) });
    try {
      for (const ns of [mallory, victim]) {
        if (E.isLeft(await quay.ensureOrganization(orgOf(ns))()))
          throw new Error(`organization ${orgOf(ns)}`);
        if (E.isLeft(await quay.ensureRepository(orgOf(ns), 'app', 'test')())) throw new Error('repository');
      }
    } finally {
      quay.close();
    }
    w.quay.pushTag(orgOf(mallory), 'app', 'v1', MALLORY_DIGEST);
    w.quay.pushTag(orgOf(victim), 'app', 'v1', VICTIM_DIGEST);
    // The victim's ImageStream, whose tag its deployments follow.
    ok(
      'victim ImageStream',
      await admin.request('POST', `/apis/image.openshift.io/v1/namespaces/${victim}/imagestreams`, {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'app' },
        spec: {
          tags: [
            {
              name: 'v1',
              from: { kind: 'DockerImage', name: `${host}/${orgOf(victim)}/app@${VICTIM_DIGEST}` },
            },
          ],
        },
      }),
    );
  });

  after(async () => {
    if (w === undefined) return;
    for (const ns of [mallory, victim]) await w.rest.request('DELETE', `/api/v1/namespaces/${ns}`);
    await w.stop();
  });

  /** The build step as its ServiceAccount, with `checks`. */
  const step = (checks: Checks) =>
    makeHandler(makeBuildStep(checks), () =>
      Promise.resolve(world().stepEnv({ kubeConfig: impersonating(world(), BUILD_SA) })),
    );

  /** Mallory creates a Build and edits it to Complete, as `edit` lets her; returns it as she left it. */
  const forge = async (
    name: string,
    o: { readonly destination: string; readonly output: string; readonly digest: string },
  ): Promise<unknown> => {
    ok(
      `mallory creates Build ${name}`,
      await tenant.request('POST', `/apis/build.openshift.io/v1/namespaces/${mallory}/builds`, {
        apiVersion: 'build.openshift.io/v1',
        kind: 'Build',
        metadata: {
          name,
          annotations: {
            [`${A}quay-registry-operator-managed`]: 'true',
            [`${A}destination-imagestream`]: o.destination,
          },
        },
        spec: {
          serviceAccount: 'builder',
          source: { type: 'Git', git: { uri: 'https://example.com/app.git' } },
          strategy: { type: 'Docker', dockerStrategy: {} },
          output: {
            to: { kind: 'DockerImage', name: o.output },
            pushSecret: { name: `builder-quay-${CLUSTER_ID}` },
          },
        },
      }),
    );
    return ok(
      `mallory edits Build ${name} to Complete`,
      await tenant.request(
        'PATCH',
        `/apis/build.openshift.io/v1/namespaces/${mallory}/builds/${name}`,
        { status: { phase: 'Complete', output: { to: { imageDigest: o.digest } } } },
        'application/merge-patch+json',
      ),
    );
  };

  /** The ApiServerSource's event for the Build, handed to the step. */
  const deliver = async (handler: ReturnType<typeof step>, build: unknown) => {
    const name = (build as { metadata: { name: string } }).metadata.name;
    return handler({
      cloudevent: new CloudEvent({
        id: randomBytes(8).toString('hex'),
        type: 'dev.knative.apiserver.resource.update',
        source: world().cp.serverUrl,
        subject: `/apis/build.openshift.io/v1/namespaces/${mallory}/builds/${name}`,
        datacontenttype: 'application/json',
        data: build as object,
        kind: 'Build',
        apiversion: 'build.openshift.io/v1',
        name,
        namespace: mallory,
      }),
    });
  };

  /** The ImageStream, or undefined when the API server answers 404. */
  const imageStream = async (ns: string, name: string) => {
    const a = await admin.request('GET', `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams/${name}`);
    if (a.status === 404) return undefined;
    return ok(`read ImageStream ${ns}/${name}`, a) as {
      metadata: { resourceVersion: string };
      spec?: { tags?: { name: string; from?: { name?: string } }[] };
    };
  };
  const tagFrom = async (ns: string, name: string, tag: string) =>
    (await imageStream(ns, name))?.spec?.tags?.find((t) => t.name === tag)?.from?.name;
  const marked = async (name: string) =>
    (
      (await admin.request('GET', `/apis/build.openshift.io/v1/namespaces/${mallory}/builds/${name}`))
        .json as {
        metadata: { annotations?: Record<string, string> };
      }
    ).metadata.annotations?.[`${A}destination-imagestreamtag-imported`];
  const eventsOn = async (name: string) =>
    (
      (await admin.request('GET', `/apis/events.k8s.io/v1/namespaces/${mallory}/events`)).json as {
        items: { type: string; reason: string; note: string; regarding: { name: string; kind: string } }[];
      }
    ).items.filter((e) => e.regarding.kind === 'Build' && e.regarding.name === name);

  it('mallory cannot import into the victim namespace herself (the deputy is the only way)', async () => {
    const a = await tenant.request(
      'POST',
      `/apis/image.openshift.io/v1/namespaces/${victim}/imagestreamimports`,
      {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStreamImport',
        metadata: { name: 'app' },
        spec: {
          import: true,
          images: [{ from: { kind: 'DockerImage', name: `${host}/x/y@${MALLORY_DIGEST}` } }],
        },
      },
    );
    expect(a.status).to.equal(403);
  });

  it('cross-namespace: a destination annotation naming the victim namespace', async () => {
    const attack = {
      destination: `${victim}/app:v1`,
      output: `${host}/${orgOf(mallory)}/app:v1`,
      digest: MALLORY_DIGEST,
    };
    // Weakened (no confinement): the bridge sets the victim's tag to mallory's image.
    const weak = await deliver(step({ ...ALL_CHECKS, confine: false }), await forge('xns-weak', attack));
    expect(weak.statusCode).to.equal(204);
    expect(await tagFrom(victim, 'app', 'v1')).to.equal(`${host}/${orgOf(mallory)}/app@${MALLORY_DIGEST}`);
    // Put the victim's tag back, then the real step.
    ok(
      'restore the victim tag',
      await admin.request(
        'PATCH',
        `/apis/image.openshift.io/v1/namespaces/${victim}/imagestreams/app`,
        {
          spec: {
            tags: [
              {
                name: 'v1',
                from: { kind: 'DockerImage', name: `${host}/${orgOf(victim)}/app@${VICTIM_DIGEST}` },
              },
            ],
          },
        },
        'application/merge-patch+json',
      ),
    );
    const before = (await imageStream(victim, 'app'))?.metadata.resourceVersion;
    const real = await deliver(step(ALL_CHECKS), await forge('xns', attack));
    expect(real.statusCode).to.equal(422);
    expect(real.body).to.include('not imported (CrossNamespaceImport)');
    expect((await imageStream(victim, 'app'))?.metadata.resourceVersion).to.equal(before);
    expect(await imageStream(mallory, 'app')).to.equal(undefined);
    expect(await marked('xns')).to.equal(undefined);
    expect((await eventsOn('xns')).map((e) => [e.type, e.reason])).to.deep.equal([
      ['Warning', 'CrossNamespaceImport'],
    ]);
  });

  it("cross-organization: spec.output.to naming the victim's Quay repository (and its real digest)", async () => {
    const attack = {
      destination: `${mallory}/stolen:v1`,
      output: `${host}/${orgOf(victim)}/app:v1`,
      digest: VICTIM_DIGEST,
    };
    // Weakened: the victim's private image lands in mallory's ImageStream (the digest check passes: it is real).
    const weak = await deliver(step({ ...ALL_CHECKS, confine: false }), await forge('xorg-weak', attack));
    expect(weak.statusCode).to.equal(204);
    expect(await tagFrom(mallory, 'stolen', 'v1')).to.equal(`${host}/${orgOf(victim)}/app@${VICTIM_DIGEST}`);
    ok(
      'drop the stolen ImageStream',
      await admin.request('DELETE', `/apis/image.openshift.io/v1/namespaces/${mallory}/imagestreams/stolen`),
    );
    await eventually('the stolen ImageStream gone', async () =>
      (await imageStream(mallory, 'stolen')) === undefined ? true : undefined,
    );

    const real = await deliver(step(ALL_CHECKS), await forge('xorg', attack));
    expect(real.statusCode).to.equal(422);
    expect(real.body).to.include('not imported (ForeignRepository)');
    expect(await imageStream(mallory, 'stolen')).to.equal(undefined);
    expect(await marked('xorg')).to.equal(undefined);
    expect((await eventsOn('xorg')).map((e) => e.reason)).to.deep.equal(['ForeignRepository']);
  });

  for (const [what, forged, label] of [
    [
      "a foreign digest (the victim's, real in Quay but not in mallory's repository)",
      () => VICTIM_DIGEST,
      'foreign',
    ],
    ['an unknown digest (in no repository at all)', () => NOWHERE_DIGEST, 'unknown'],
  ] as const)
    it(`a Build edited to Complete with ${what}`, async () => {
      const attack = {
        destination: `${mallory}/app:v1`,
        output: `${host}/${orgOf(mallory)}/app:v1`,
        digest: forged(),
      };
      // Weakened (no digest check): the import of a digest mallory never pushed is made and reported a success.
      const weak = await deliver(
        step({ ...ALL_CHECKS, verifyDigest: false }),
        await forge(`${label}-weak`, attack),
      );
      expect(weak.statusCode).to.equal(204);
      expect(await tagFrom(mallory, 'app', 'v1')).to.equal(`${host}/${orgOf(mallory)}/app@${forged()}`);
      ok(
        'drop the ImageStream',
        await admin.request('DELETE', `/apis/image.openshift.io/v1/namespaces/${mallory}/imagestreams/app`),
      );
      await eventually('the ImageStream gone', async () =>
        (await imageStream(mallory, 'app')) === undefined ? true : undefined,
      );

      const real = await deliver(step(ALL_CHECKS), await forge(label, attack));
      expect(real.statusCode).to.equal(422);
      expect(real.body).to.include('not imported (UnknownDigest)');
      expect(real.body).to.include(`Quay has no version of ${orgOf(mallory)}/app:v1 with digest ${forged()}`);
      expect(await imageStream(mallory, 'app')).to.equal(undefined);
      expect(await marked(label)).to.equal(undefined);
      expect((await eventsOn(label)).map((e) => [e.type, e.reason])).to.deep.equal([
        ['Warning', 'UnknownDigest'],
      ]);
      // The same event again (a redelivery): refused again, still nothing imported, one Event (its series counts).
      expect((await deliver(step(ALL_CHECKS), await forge(`${label}-again`, attack))).statusCode).to.equal(
        422,
      );
      expect(await imageStream(mallory, 'app')).to.equal(undefined);
    });

  it('the control: the Build mallory really pushed is imported into her own ImageStream, with a Normal Event', async () => {
    const honest = await forge('honest', {
      destination: `${mallory}/app:v1`,
      output: `${host}/${orgOf(mallory)}/app:v1`,
      digest: MALLORY_DIGEST,
    });
    const a = await deliver(step(ALL_CHECKS), honest);
    expect(a.statusCode).to.equal(204);
    expect(await tagFrom(mallory, 'app', 'v1')).to.equal(`${host}/${orgOf(mallory)}/app@${MALLORY_DIGEST}`);
    expect(await marked('honest')).to.equal('true');
    expect((await eventsOn('honest')).map((e) => [e.type, e.reason])).to.deep.equal([['Normal', 'Imported']]);
  });
});
