// Hostile tests of deletion and ownership (issue 11, points 3 and 4), against the real kube-apiserver and the Quay
// emulator over HTTP, each step served by faas-js-runtime and sent CloudEvents over HTTP as an attacker who reaches
// the broker or a step's Service would send them. Each attack is first shown to succeed against a deliberately
// weakened build of the check it is about (the steps built with the old plan, or with a judge that takes every
// organization and repository for this cluster's: the behaviour before marks existed), then to fail against the
// real build.
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { CloudEvent } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import faas from 'faas-js-runtime';
import { createProject, removeNamespace } from '../../../bench/convergence.js';
import { imageStreamStep } from '../../../functions/image-stream/handle.js';
import { namespaceStep, namespaceStepWith } from '../../../functions/namespace/handle.js';
import { planNamespace } from '../../../shared/sync/namespace-plan.js';
import { resyncStep } from '../../../functions/resync/handle.js';
import { serviceAccountStep } from '../../../functions/service-account/handle.js';
import { organizationName } from '../../../shared/names.js';
import { organizationEmail, OURS, type ClusterIdentity, type Judge } from '../../../shared/ownership.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import type { QuayClient } from '../../../shared/quay/types.js';
import type { StepEnv } from '../../../shared/runtime/env.js';
import { makeHandler, type Step } from '../../../shared/runtime/handler.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import { freePort } from '../../harness/index.js';
import { overHttp, type Transport } from '../../support/delivery.js';
import { CLUSTER_ID, INTEGRATION, startWorld, type World } from '../../support/world.js';
import { apiServerEvent, pingEvent } from '../../unit/shared/fakes/events.js';
import { withoutDeathTraps } from './world.js';

type StepKey = 'namespace' | 'service-account' | 'image-stream' | 'resync';

/** The judge of before: every organization and repository counts as this cluster's (names were the only proof). */
const credulous: Judge = { organization: () => OURS, robots: () => OURS, repository: () => true };

/** The namespace plan of before: a "delete" event confirmed by a 404, or by nothing at all, deletes. */
const trustingPlan: typeof planNamespace = (observed, settings) => {
  if (observed.action === 'delete' && E.isRight(settings)) {
    const org = organizationName(settings.right.organizationPrefix, observed.name);
    if (E.isRight(org))
      return {
        _tag: 'Finalize',
        namespace: O.getOrElse(() => ({ metadata: { name: observed.name } }))(observed.current),
        org: org.right,
      };
  }
  return planNamespace(observed, settings);
};

describe('hostile: deletions need proof, and only this cluster’s organizations are used or deleted', function () {
  this.timeout(180_000);
  let w: World | undefined;
  const servers: Server[] = [];
  let strict: Transport;
  let weakened: Transport;
  let admin: QuayClient;
  let uid = '';
  const namespaces: string[] = [];

  const world = (): World => {
    if (w === undefined) throw new Error('no world');
    return w;
  };

  /** Every step served over HTTP by faas-js-runtime with `env`; the URL of each. */
  const serve = async (steps: Record<StepKey, Step<StepEnv>>, env: StepEnv): Promise<Transport> => {
    const urls = new Map<string, string>();
    for (const [name, step] of Object.entries(steps)) {
      const port = await freePort();
      servers.push(
        await withoutDeathTraps(() =>
          faas.start(
            makeHandler(step, () => Promise.resolve(env)),
            { port },
          ),
        ),
      );
      urls.set(name, `http://127.0.0.1:${port}/`);
    }
    return overHttp((step) => urls.get(step) ?? '');
  };

  const send = async (t: Transport, step: StepKey, event: CloudEvent<unknown>): Promise<number | undefined> =>
    (await t(step, event)).status;

  const orgs = (): string[] =>
    world()
      .quay.state()
      .organizations.map((o) => o.name);
  const repos = (org: string): string[] =>
    world()
      .quay.state()
      .repositories.filter((r) => r.namespace === org)
      .map((r) => r.name);
  const robots = (org: string): string[] =>
    world()
      .quay.state()
      .robots.filter((r) => r.name.startsWith(`${org}+`))
      .map((r) => r.name);

  const ok = <A>(r: E.Either<unknown, A>): A => {
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    return r.right;
  };

  const patchIntegration = async (spec: Record<string, unknown>, annotations?: Record<string, string>) => {
    const r = await world().rest.request(
      'PATCH',
      `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}`,
      { ...(annotations === undefined ? {} : { metadata: { annotations } }), spec },
      'application/merge-patch+json',
    );
    expect(r.status, r.body).to.equal(200);
  };

  const project = async (name: string): Promise<void> => {
    namespaces.push(name);
    await createProject(world().rest, name);
  };
  const object = async (path: string): Promise<object> => {
    const r = await world().rest.request('GET', path);
    expect(r.status, `GET ${path}`).to.equal(200);
    return r.json as object;
  };

  /** A namespace provisioned through its events (organization, robots, Secrets), as the broker would deliver them. */
  const provisioned = async (t: Transport, name: string): Promise<void> => {
    await project(name);
    expect(
      await send(t, 'namespace', apiServerEvent('add', await object(`/api/v1/namespaces/${name}`))),
    ).to.equal(204);
    for (const sa of ['builder', 'default', 'deployer'])
      expect(
        await send(
          t,
          'service-account',
          apiServerEvent('add', await object(`/api/v1/namespaces/${name}/serviceaccounts/${sa}`)),
        ),
      ).to.equal(204);
  };

  /** A Quay user other than the bridge's, with a full-scope token. */
  const otherUser = async (username: string): Promise<{ token: string; quay: QuayClient }> => {
    const res = await fetch(`${world().quay.url}/api/v1/superuser/users/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world().quay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, email: `${username}@example.com` }),
    });
    expect(res.status).to.equal(200);
    const token = world().quay.createToken(username, [
      'org:admin',
      'repo:admin',
      'repo:create',
      'repo:read',
      'repo:write',
      'user:admin',
      'user:read',
    ]);
    return { token, quay: createQuayClient({ apiUrl: world().quay.url, token: new Token(token) }) };
  };

  /** `username` makes `org` and adds the bridge's user to its owners team (Quay adds directly without mail). */
  const squat = async (squatter: { token: string; quay: QuayClient }, org: string): Promise<void> => {
    expect(ok(await squatter.quay.ensureOrganization(org)())).to.equal('created');
    const res = await fetch(`${world().quay.url}/api/v1/organization/${org}/team/owners/members/quayadmin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${squatter.token}`, 'content-type': 'application/json' },
    });
    expect(res.status, await res.text()).to.equal(200);
  };

  before(async function () {
    this.timeout(300_000);
    w = await startWorld({ standIn: false });
    const env = w.stepEnv();
    strict = await serve(
      {
        namespace: namespaceStep,
        'service-account': serviceAccountStep,
        'image-stream': imageStreamStep,
        resync: resyncStep,
      },
      env,
    );
    weakened = await serve(
      {
        namespace: namespaceStepWith(trustingPlan),
        'service-account': serviceAccountStep,
        'image-stream': imageStreamStep,
        resync: resyncStep,
      },
      { ...w.stepEnv(), judge: credulous },
    );
    admin = createQuayClient({ apiUrl: w.quay.url, token: new Token(w.quay.adminToken) });
    uid = ((await object('/api/v1/namespaces/kube-system')) as { metadata: { uid: string } }).metadata.uid;
  });

  after(async function () {
    this.timeout(120_000);
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (w === undefined) return;
    for (const ns of namespaces) await removeNamespace(w.rest, ns);
    await w.stop();
  });

  const me = (): ClusterIdentity => ({ uid, clusterID: CLUSTER_ID });

  it('a forged "delete" for a namespace that does not exist, or is not terminating, deletes no organization', async () => {
    // Organizations of namespaces that are not there: one the bridge made (its mark), one made in Quay by hand.
    const targets = (tag: string) => ({
      marked: `${CLUSTER_ID}_ghost-${tag}`,
      byHand: `${CLUSTER_ID}_ci-${tag}`,
      live: `live-${tag}`,
    });
    for (const [tag, transport] of [
      ['weak', weakened],
      ['real', strict],
    ] as const) {
      const t = targets(tag);
      ok(await admin.ensureOrganization(t.marked, organizationEmail(me(), t.marked))());
      ok(await admin.ensureOrganization(t.byHand)());
      await provisioned(strict, t.live);
      for (const name of [`ghost-${tag}`, `ci-${tag}`, t.live])
        expect(
          await send(
            transport,
            'namespace',
            apiServerEvent('delete', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
          ),
          `${tag}: forged delete of ${name}`,
        ).to.be.oneOf([204, 422]);
      const left = orgs();
      const gone = [t.marked, t.byHand, `${CLUSTER_ID}_${t.live}`].filter((o) => !left.includes(o));
      if (tag === 'weak')
        expect(gone, 'the attack works against the trusting plan').to.deep.equal([
          t.marked,
          t.byHand,
          `${CLUSTER_ID}_${t.live}`,
        ]);
      else expect(gone, 'the forged events deleted nothing').to.deep.equal([]);
    }
  });

  it('a forged ImageStream "delete" deletes no repository the bridge did not make, nor one whose ImageStream exists', async () => {
    await patchIntegration({ deleteRepositoriesWithImageStreams: true });
    for (const [tag, transport] of [
      ['weak', weakened],
      ['real', strict],
    ] as const) {
      const ns = `pushed-${tag}`;
      const org = `${CLUSTER_ID}_${ns}`;
      await provisioned(strict, ns);
      // CI pushed a repository that no ImageStream stands for; the bridge made `web` for its ImageStream.
      ok(await admin.ensureRepository(org, 'ci-app', '')());
      const web = await world().rest.request(
        'POST',
        `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams`,
        {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'web', namespace: ns },
          spec: {},
        },
      );
      expect(web.status).to.equal(201);
      expect(await send(strict, 'image-stream', apiServerEvent('add', web.json as object))).to.equal(204);
      expect(repos(org).sort()).to.deep.equal(['ci-app', 'web']);
      for (const name of ['ci-app', 'web'])
        expect(
          await send(
            transport,
            'image-stream',
            apiServerEvent('delete', {
              apiVersion: 'image.openshift.io/v1',
              kind: 'ImageStream',
              metadata: { name, namespace: ns },
            }),
          ),
        ).to.equal(204);
      if (tag === 'weak')
        expect(
          repos(org),
          'the attack works against a judge that takes every repository for ours',
        ).to.deep.equal(['web']);
      else expect(repos(org).sort(), 'the forged events deleted nothing').to.deep.equal(['ci-app', 'web']);
    }
    // The proof that does count: the ImageStream really gone, the repository marked by this cluster's bridge.
    const del = await world().rest.request(
      'DELETE',
      `/apis/image.openshift.io/v1/namespaces/pushed-real/imagestreams/web`,
    );
    expect(del.status).to.equal(200);
    expect(
      await send(
        strict,
        'image-stream',
        apiServerEvent('delete', {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'web', namespace: 'pushed-real' },
        }),
      ),
    ).to.equal(204);
    expect(repos(`${CLUSTER_ID}_pushed-real`)).to.deep.equal(['ci-app']);
    await patchIntegration({ deleteRepositoriesWithImageStreams: null });
  });

  it('a squatted organization is reported and never used (no robot, no Secret pointing into it) or deleted', async () => {
    const mallory = await otherUser('mallory');
    for (const [tag, transport] of [
      ['weak', weakened],
      ['real', strict],
    ] as const) {
      const ns = `squat-${tag}`;
      const org = `${CLUSTER_ID}_${ns}`;
      await squat(mallory, org);
      await project(ns);
      const nsEvent = apiServerEvent('add', await object(`/api/v1/namespaces/${ns}`));
      await send(transport, 'namespace', nsEvent);
      const answers: (number | undefined)[] = [];
      for (const sa of ['builder', 'default', 'deployer'])
        answers.push(
          await send(
            transport,
            'service-account',
            apiServerEvent('add', await object(`/api/v1/namespaces/${ns}/serviceaccounts/${sa}`)),
          ),
        );
      const secret = await world().rest.request(
        'GET',
        `/api/v1/namespaces/${ns}/secrets/builder-quay-${CLUSTER_ID}`,
      );
      if (tag === 'weak') {
        expect(
          robots(org),
          'the attack works against a judge that takes every organization for ours',
        ).to.have.length(3);
        expect(secret.status).to.equal(200);
        continue;
      }
      expect(answers, 'dead-lettered, not retried').to.deep.equal([422, 422, 422]);
      expect(robots(org)).to.deep.equal([]);
      expect(secret.status).to.equal(404);
      // The resync reports it on the QuayIntegration, and on the Namespace.
      expect(await send(transport, 'resync', pingEvent())).to.equal(204);
      expect(robots(org)).to.deep.equal([]);
      const qi = (await object(`/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}`)) as {
        status?: { conditions?: { type: string; status: string; message: string }[] };
      };
      const owned = qi.status?.conditions?.find((c) => c.type === 'OrganizationsOwned');
      expect(owned?.status).to.equal('False');
      expect(owned?.message).to.include(org);
      const events = (await object(`/apis/events.k8s.io/v1/namespaces/default/events`)) as {
        items: { reason: string; regarding: { kind: string; name: string } }[];
      };
      expect(
        events.items.filter((e) => e.regarding.name === ns).map((e) => `${e.regarding.kind} ${e.reason}`),
      ).to.include('Namespace OrganizationNotOurs');
      // Deleting the namespace lets it go and leaves the squatter's organization alone.
      const del = await world().rest.request('DELETE', `/api/v1/namespaces/${ns}`);
      expect(del.status).to.equal(200);
      const terminating = await object(`/api/v1/namespaces/${ns}`);
      expect(await send(transport, 'namespace', apiServerEvent('update', terminating))).to.equal(422);
      expect(orgs()).to.include(org);
      const after = (await object(`/api/v1/namespaces/${ns}`).catch(() => ({ metadata: {} }))) as {
        metadata: { finalizers?: string[] };
      };
      expect(after.metadata.finalizers ?? []).to.not.include('quay.redhat.com/quayintegrations');
    }
  });

  it('with look-alike clusterIDs on one Quay (C1 and c1; an organizationPrefix equal to another clusterID), one bridge’s sweep never deletes another’s organizations', async () => {
    // Only the sweep is under test: no namespace is in scope.
    const scope = { allowlistNamespaces: ['no-such-namespace'] };
    const bridges = [
      {
        name: 'C1',
        spec: { ...scope, clusterID: 'C1', organizationPrefix: null },
        id: { uid, clusterID: 'C1' },
      },
      {
        name: 'c1',
        spec: { ...scope, clusterID: 'c1', organizationPrefix: null },
        id: { uid, clusterID: 'c1' },
      },
      {
        name: 'other with prefix c1',
        spec: { ...scope, clusterID: 'other', organizationPrefix: 'c1' },
        id: { uid, clusterID: 'other' },
      },
    ];
    // Each bridge made one organization of a namespace that is gone (with its mark, as it makes them).
    const seed = (tag: string): Map<string, string> => {
      const made = new Map<string, string>();
      bridges.forEach((b, i) => made.set(b.name, `c1_gone-${tag}-${i}`));
      return made;
    };
    for (const [tag, transport] of [
      ['weak', weakened],
      ['real', strict],
    ] as const) {
      const made = seed(tag);
      for (const b of bridges) {
        const org = made.get(b.name) ?? '';
        ok(await admin.ensureOrganization(org, organizationEmail(b.id, org))());
      }
      for (const b of bridges) {
        await patchIntegration(b.spec);
        const before = new Set(orgs());
        expect(await send(transport, 'resync', pingEvent()), b.name).to.equal(204);
        const swept = [...before].filter((o) => !orgs().includes(o) && o.startsWith(`c1_gone-${tag}`));
        if (tag === 'weak') {
          // The first sweep already takes every organization with the prefix: the attack works.
          if (b === bridges[0]) expect(swept.sort(), b.name).to.deep.equal([...made.values()].sort());
        } else expect(swept, `${b.name} swept only its own`).to.deep.equal([made.get(b.name)]);
      }
    }
    await patchIntegration({ clusterID: CLUSTER_ID, organizationPrefix: null, allowlistNamespaces: null });
  });

  it('adopts an unmarked organization only for a namespace the QuayIntegration names, and marks it', async () => {
    const ns = 'adopted';
    const org = `${CLUSTER_ID}_${ns}`;
    // Made before quay-bridge, as QBO makes them (its e-mail, robots without a description).
    ok(await admin.ensureOrganization(org)());
    ok(await admin.ensureRobot(org, 'builder', '')());
    await project(ns);
    const sa = async () =>
      send(
        strict,
        'service-account',
        apiServerEvent('add', await object(`/api/v1/namespaces/${ns}/serviceaccounts/builder`)),
      );
    expect(await sa(), 'not named for adoption: refused').to.equal(422);
    await patchIntegration({}, { 'quay.redhat.com/adopt-organizations': `other, ${ns}` });
    expect(await sa(), 'named: adopted').to.equal(204);
    const owner = ok(await admin.getOrganizationOwner(org)());
    expect(O.isSome(owner) && owner.value.email).to.equal(organizationEmail(me(), org));
    const secret = await world().rest.request(
      'GET',
      `/api/v1/namespaces/${ns}/secrets/builder-quay-${CLUSTER_ID}`,
    );
    expect(secret.status).to.equal(200);
    await patchIntegration({}, { 'quay.redhat.com/adopt-organizations': '' });
    // Adopted once: the mark stays, the annotation is no longer needed.
    expect(await sa()).to.equal(204);
  });
});
