// The sync steps against the real kube-apiserver and the Quay emulator, each step served over HTTP by
// faas-js-runtime, driven by ApiServerSource-format CloudEvents built from the API server's own objects.
import { expect } from 'chai';
import type { CloudEvent } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { Resources, type ResourceType } from '../../../shared/kube/resources.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import { organizationEmail } from '../../../shared/ownership.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import { apiServerEvent, pingEvent, type Action } from '../../unit/shared/fakes/events.js';
import { CLUSTER_ID, startWorld, type StepName, type World } from './world.js';

type Obj = Record<string, unknown> & { metadata: { name: string; finalizers?: string[]; uid?: string } };
const SAS = ['builder', 'default', 'deployer'] as const;
const ROLES: Record<string, string> = { builder: 'write', default: 'read', deployer: 'read' };
const ours = 'quay.redhat.com/quayintegrations';
const orgOf = (ns: string) => `${CLUSTER_ID}_${ns}`;

describe('sync steps over HTTP, against the kube-apiserver and the Quay emulator', function () {
  this.timeout(180_000);
  let w: World;
  let started = false;

  before(async function () {
    this.timeout(300_000);
    w = await startWorld({ denylistNamespaces: ['fn-denied', 'quay-bridge'] });
    started = true;
  });
  after(async function () {
    this.timeout(120_000);
    if (!started) return;
    for (const ns of ['fn-a', 'fn-fwd', 'fn-rev', 'fn-dup', 'fn-denied', 'fn-pre', 'fn-new'])
      await w.kube.delete({ type: Resources.Namespace, name: ns })();
    // Our finalizers must not keep the test namespaces: release what a failed test may have left.
    for (const ns of ['fn-a', 'fn-fwd', 'fn-rev', 'fn-dup', 'fn-denied', 'fn-pre', 'fn-new', 'quay-bridge'])
      await w.kube.patch(
        { type: Resources.Namespace, name: ns },
        { type: 'merge', body: { metadata: { finalizers: null } } },
      )();
    await w.stop();
  });

  const obj = async (type: ResourceType, name: string, namespace?: string) =>
    (await w.mustGet(type, name, namespace)) as Obj;
  const eventOf = async (
    type: ResourceType,
    action: Action,
    name: string,
    namespace?: string,
  ): Promise<CloudEvent<unknown>> => apiServerEvent(action, await obj(type, name, namespace));

  /** A namespace, once the stand-in has made its three project ServiceAccounts (with their dockercfg links). */
  const project = async (name: string, imageStreams: readonly string[] = []) => {
    const created = await w.kube.create(Resources.Namespace, undefined, { metadata: { name } })();
    if (E.isLeft(created)) throw new Error(created.left.message);
    for (const sa of SAS)
      await w.until(`ServiceAccount ${name}/${sa}`, async () => {
        const o = (await w.get(Resources.ServiceAccount, sa, name)) as
          { imagePullSecrets?: unknown[] } | undefined;
        return (o?.imagePullSecrets ?? []).length > 0 ? o : undefined;
      });
    for (const is of imageStreams) {
      const r = await w.kube.create(Resources.ImageStream, name, {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: is },
        spec: {},
      })();
      if (E.isLeft(r)) throw new Error(r.left.message);
    }
  };

  const scenario = async (ns: string): Promise<{ step: StepName; event: CloudEvent<unknown> }[]> => [
    { step: 'namespace', event: await eventOf(Resources.Namespace, 'add', ns) },
    ...(await Promise.all(
      SAS.map(async (sa) => ({
        step: 'service-account' as const,
        event: await eventOf(Resources.ServiceAccount, 'add', sa, ns),
      })),
    )),
    { step: 'image-stream', event: await eventOf(Resources.ImageStream, 'add', 'web', ns) },
  ];

  /** What the bridge made for a namespace, with the organization name factored out, to compare namespaces. */
  const stateOf = async (ns: string) => {
    const s = w.quay.state();
    const org = orgOf(ns);
    const strip = (n: string) => n.split(org).join('<org>');
    const robots = s.robots.filter((r) => r.name.startsWith(`${org}+`));
    const secrets = await Promise.all(
      SAS.map(async (sa) => {
        const secret = (await w.get(Resources.Secret, `${sa}-quay-${CLUSTER_ID}`, ns)) as
          | (Obj & {
              type?: string;
              data?: Record<string, string>;
              metadata: {
                labels?: Record<string, string>;
                ownerReferences?: { kind: string; name: string }[];
              };
            })
          | undefined;
        if (secret === undefined) return 'missing';
        const config = JSON.parse(
          Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8'),
        ) as {
          auths: Record<string, { auth?: string }>;
        };
        const robot = robots.find((r) => r.name === `${org}+${sa}`);
        const auth = config.auths[w.quay.registryHost]?.auth;
        return {
          type: secret.type,
          managedBy: secret.metadata.labels?.['app.kubernetes.io/managed-by'],
          owner: secret.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`),
          hosts: Object.keys(config.auths),
          authIsRobot:
            robot !== undefined && auth === Buffer.from(`${robot.name}:${robot.token}`).toString('base64'),
        };
      }),
    );
    const links = await Promise.all(
      SAS.map(async (sa) => {
        const o = (await obj(Resources.ServiceAccount, sa, ns)) as Obj & {
          secrets?: { name: string }[];
          imagePullSecrets?: { name: string }[];
        };
        const norm = (l: { name: string }[] | undefined) =>
          (l ?? []).map((r) => (r.name.includes('-dockercfg-') ? '<dockercfg>' : r.name));
        return { secrets: norm(o.secrets), imagePullSecrets: norm(o.imagePullSecrets) };
      }),
    );
    return {
      organization: s.organizations.some((o) => o.name === org),
      robots: robots.map((r) => strip(r.name)).sort(),
      prototypes: s.prototypes
        .filter((p) => p.org === org)
        .map((p) => `${strip(p.delegate.name)}=${p.role}`)
        .sort(),
      repositories: s.repositories
        .filter((r) => r.namespace === org)
        .map((r) => ({
          name: r.name,
          visibility: r.visibility,
          permissions: Object.entries(r.userPermissions)
            .map(([u, role]) => `${strip(u)}=${role}`)
            .sort(),
        })),
      finalizers: (await obj(Resources.Namespace, ns)).metadata.finalizers,
      secrets,
      links,
    };
  };

  it('namespace → organization, then each ServiceAccount → robot, default permission, Secret and both links', async () => {
    await project('fn-a');
    expect(await w.deliver('namespace', await eventOf(Resources.Namespace, 'add', 'fn-a'))).to.deep.equal({
      status: 204,
      body: '',
    });
    for (const sa of SAS) {
      const answer = await w.deliver(
        'service-account',
        await eventOf(Resources.ServiceAccount, 'add', sa, 'fn-a'),
        sa === 'default' ? 'structured' : 'binary',
      );
      expect(answer, sa).to.deep.equal({ status: 204, body: '' });
    }
    const s = await stateOf('fn-a');
    expect(s.organization).to.equal(true);
    expect(s.finalizers).to.deep.equal([ours]);
    expect(s.robots).to.deep.equal(['<org>+builder', '<org>+default', '<org>+deployer']);
    expect(s.prototypes).to.deep.equal(['<org>+builder=write', '<org>+default=read', '<org>+deployer=read']);
    for (const secret of s.secrets)
      expect(secret).to.deep.equal({
        type: 'kubernetes.io/dockerconfigjson',
        managedBy: 'quay-bridge',
        owner: [
          secret === s.secrets[0]
            ? 'ServiceAccount/builder'
            : secret === s.secrets[1]
              ? 'ServiceAccount/default'
              : 'ServiceAccount/deployer',
        ],
        hosts: [w.quay.registryHost],
        authIsRobot: true,
      });
    SAS.forEach((sa, i) => {
      expect(s.links[i], sa).to.deep.equal({
        secrets: ['<dockercfg>', `${sa}-quay-${CLUSTER_ID}`],
        imagePullSecrets: ['<dockercfg>', `${sa}-quay-${CLUSTER_ID}`],
      });
    });
  });

  it('ImageStream → private repository with an explicit permission for each robot', async () => {
    const r = await w.kube.create(Resources.ImageStream, 'fn-a', {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: { name: 'web' },
      spec: {},
    })();
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(
      (await w.deliver('image-stream', await eventOf(Resources.ImageStream, 'add', 'web', 'fn-a'))).status,
    ).to.equal(204);
    const repo = w.quay.state().repositories.find((x) => x.namespace === orgOf('fn-a') && x.name === 'web');
    expect(repo?.visibility).to.equal('private');
    for (const sa of SAS) expect(repo?.userPermissions[`${orgOf('fn-a')}+${sa}`], sa).to.equal(ROLES[sa]);
  });

  it('leaves a denied namespace untouched', async () => {
    await project('fn-denied');
    const before = await obj(Resources.Namespace, 'fn-denied');
    expect(
      (await w.deliver('namespace', await eventOf(Resources.Namespace, 'add', 'fn-denied'))).status,
    ).to.equal(204);
    for (const sa of SAS)
      expect(
        (await w.deliver('service-account', await eventOf(Resources.ServiceAccount, 'add', sa, 'fn-denied')))
          .status,
      ).to.equal(204);
    expect((await obj(Resources.Namespace, 'fn-denied')).metadata).to.deep.equal(before.metadata);
    expect(w.quay.state().organizations.map((o) => o.name)).to.not.include(orgOf('fn-denied'));
    for (const sa of SAS)
      expect(await w.get(Resources.Secret, `${sa}-quay-${CLUSTER_ID}`, 'fn-denied')).to.equal(undefined);
  });

  it('ends in the same Quay and cluster state whether a scenario’s events come in order, each five times, or in reverse', async () => {
    for (const ns of ['fn-fwd', 'fn-dup', 'fn-rev']) await project(ns, ['web']);
    for (const { step, event } of await scenario('fn-fwd'))
      expect((await w.deliver(step, event)).status).to.equal(204);
    for (const { step, event } of await scenario('fn-dup'))
      for (let i = 0; i < 5; i++) expect((await w.deliver(step, event)).status).to.equal(204);
    for (const { step, event } of (await scenario('fn-rev')).reverse())
      expect((await w.deliver(step, event)).status).to.equal(204);
    const fwd = await stateOf('fn-fwd');
    expect(fwd.repositories[0]?.permissions).to.include.members([
      '<org>+builder=write',
      '<org>+default=read',
      '<org>+deployer=read',
    ]);
    expect(await stateOf('fn-dup')).to.deep.equal(fwd);
    expect(await stateOf('fn-rev')).to.deep.equal(fwd);
  });

  it('picks up objects that existed before any event, on resync, and writes Ready on the QuayIntegration', async () => {
    await project('fn-pre', ['web']);
    expect(await w.deliver('resync', pingEvent())).to.deep.equal({ status: 204, body: '' });
    const s = await stateOf('fn-pre');
    expect(s.robots).to.have.length(3);
    expect(s.prototypes).to.deep.equal(['<org>+builder=write', '<org>+default=read', '<org>+deployer=read']);
    expect(s.secrets.every((x) => typeof x === 'object' && x.authIsRobot)).to.equal(true);
    expect(s.repositories[0]?.permissions).to.include('<org>+builder=write');
    const qi = (await w.mustGet(Resources.QuayIntegration, 'quay')) as {
      metadata: { generation: number };
      status?: { conditions?: { type: string; status: string; observedGeneration: number }[] };
    };
    expect(qi.status?.conditions?.map((c) => [c.type, c.status, c.observedGeneration])).to.deep.equal([
      ['Ready', 'True', qi.metadata.generation],
      ['CredentialsValid', 'True', qi.metadata.generation],
      ['QuayReachable', 'True', qi.metadata.generation],
      ['OrganizationsOwned', 'True', qi.metadata.generation],
    ]);
  });

  it('restores a robot Secret deleted by hand: from a Secret event, and from the resync', async () => {
    const name = `builder-quay-${CLUSTER_ID}`;
    const secret = await obj(Resources.Secret, name, 'fn-pre');
    await w.kube.delete({ type: Resources.Secret, namespace: 'fn-pre', name })();
    expect(
      (await w.deliver('service-account', apiServerEvent('delete', secret, { mode: 'ref' }))).status,
    ).to.equal(204);
    expect((await stateOf('fn-pre')).secrets[0]).to.include({ authIsRobot: true });
    await w.kube.delete({
      type: Resources.Secret,
      namespace: 'fn-pre',
      name: `deployer-quay-${CLUSTER_ID}`,
    })();
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    expect((await stateOf('fn-pre')).secrets[2]).to.include({ authIsRobot: true });
  });

  it('recreates a robot deleted in Quay and updates its Secret, at the resync (the cluster cannot show that drift)', async () => {
    const quay = createQuayClient({ apiUrl: w.quay.url, token: new Token(w.quay.adminToken) });
    const del = await quay.deleteRobot(orgOf('fn-pre'), 'default')();
    expect(E.isRight(del) && del.right).to.equal('deleted');
    // The ServiceAccount's own event finds everything as the bridge left it in the cluster: no Quay call.
    w.quay.resetCounts();
    expect(
      (
        await w.deliver(
          'service-account',
          await eventOf(Resources.ServiceAccount, 'update', 'default', 'fn-pre'),
        )
      ).status,
    ).to.equal(204);
    expect(w.quay.totalRequests()).to.equal(0);
    expect((await stateOf('fn-pre')).secrets[1]).to.include({ authIsRobot: false });
    // The resync asks Quay, and repairs it.
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    expect((await stateOf('fn-pre')).secrets[1]).to.include({ authIsRobot: true });
  });

  it('removes a duplicate default permission at the resync (a creator does not re-read its add: docs/design.md#default-permissions)', async () => {
    const org = orgOf('fn-pre');
    // The second prototype a racing delivery may leave: the same robot, the same role (Quay accepts it).
    const posted = await fetch(`${w.quay.url}/api/v1/organization/${org}/prototypes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.quay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'write', delegate: { kind: 'user', name: `${org}+builder` } }),
    });
    expect(posted.status).to.equal(200);
    expect((await stateOf('fn-pre')).prototypes).to.deep.equal([
      '<org>+builder=write',
      '<org>+builder=write',
      '<org>+default=read',
      '<org>+deployer=read',
    ]);
    // No event shows it (the cluster did not change): the ServiceAccount's echo leaves it to the resync.
    expect(
      (
        await w.deliver(
          'service-account',
          await eventOf(Resources.ServiceAccount, 'update', 'builder', 'fn-pre'),
        )
      ).status,
    ).to.equal(204);
    expect((await stateOf('fn-pre')).prototypes).to.have.length(4);
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    expect((await stateOf('fn-pre')).prototypes).to.deep.equal([
      '<org>+builder=write',
      '<org>+default=read',
      '<org>+deployer=read',
    ]);
  });

  it('sweeps an organization of this cluster whose namespace is gone, and never another cluster’s or an unmarked one', async () => {
    const quay = createQuayClient({ apiUrl: w.quay.url, token: new Token(w.quay.adminToken) });
    const kubeSystem = (await obj(Resources.Namespace, 'kube-system')).metadata.uid ?? '';
    const me = { uid: kubeSystem, clusterID: CLUSTER_ID };
    // Made as the bridge makes them (its mark), by someone else with the same prefix (none), by another cluster.
    for (const [org, email] of [
      [orgOf('fn-gone'), organizationEmail(me, orgOf('fn-gone'))],
      [orgOf('fn-gone-unmarked'), undefined],
      ['other_fn-gone', organizationEmail({ ...me, clusterID: 'other' }, 'other_fn-gone')],
    ] as const)
      expect(E.isRight(await quay.ensureOrganization(org, email)())).to.equal(true);
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const orgs = w.quay.state().organizations.map((o) => o.name);
    expect(orgs).to.not.include(orgOf('fn-gone'));
    expect(orgs).to.include(orgOf('fn-gone-unmarked'));
    expect(orgs).to.include('other_fn-gone');
    expect(orgs).to.include(orgOf('fn-pre'));
  });

  it('costs at most two Quay calls per unchanged namespace (plus one per ImageStream and one for the sweep)', async () => {
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    w.quay.resetCounts();
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const counts = Object.fromEntries(w.quay.requestCounts());
    // Every allowed namespace of the cluster has its organization (quay-bridge's own namespace too).
    const managed = w.quay.state().organizations.filter((o) => o.name.startsWith(`${CLUSTER_ID}_`));
    expect(managed.length).to.be.at.least(5);
    const streams = 5;
    console.log(
      `      unchanged resync: ${w.quay.totalRequests()} Quay requests for ${managed.length} namespaces and ${streams} ImageStreams: ${JSON.stringify(counts)}`,
    );
    expect(w.quay.totalRequests()).to.be.at.most(2 * managed.length + streams + 1);
    const unchanged = w.quay.totalRequests();

    await project('fn-new');
    w.quay.resetCounts();
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const forNew = w.quay.totalRequests() - unchanged;
    console.log(
      `      a new namespace with its three ServiceAccounts, provisioned by the resync: ${forNew} Quay requests`,
    );
    expect(forNew).to.be.at.most(7);
    expect((await stateOf('fn-new')).prototypes).to.have.length(3);

    // The per-event path, from the steps' own log lines (the fn-fwd scenario, delivered once in order).
    const perEvent = w.logs
      .filter((l) => l.namespace === 'fn-fwd' || (l.kind === 'Namespace' && l.name === 'fn-fwd'))
      .map((l) => `${String(l.step)}:${String(l.name)}=${String(l.quayCalls)}`);
    console.log(
      `      per-event Quay requests for a new namespace (fn-fwd, first delivery of each): ${perEvent.slice(0, 5).join(' ')}`,
    );
    expect(w.logs.every((l) => typeof l.quayCalls === 'number' && typeof l.durationMs === 'number')).to.equal(
      true,
    );
  });

  it('on namespace deletion deletes the organization, then lets the namespace go', async () => {
    const deleted = await w.kube.delete({ type: Resources.Namespace, name: 'fn-a' })();
    expect(E.isRight(deleted)).to.equal(true);
    const terminating = await obj(Resources.Namespace, 'fn-a');
    expect(terminating.metadata).to.have.property('deletionTimestamp');
    expect((await w.deliverUntilDone('namespace', apiServerEvent('update', terminating))).status).to.equal(
      204,
    );
    expect(w.quay.state().organizations.map((o) => o.name)).to.not.include(orgOf('fn-a'));
    await w.until('namespace fn-a gone', async () =>
      (await w.get(Resources.Namespace, 'fn-a')) === undefined ? true : undefined,
    );
    expect((await w.deliver('namespace', apiServerEvent('delete', terminating))).status).to.equal(204);
  });

  it('writes one structured log line per event, and never a token', () => {
    const text = JSON.stringify(w.logs);
    expect(text).to.not.include(w.quay.adminToken);
    for (const r of w.quay.state().robots) expect(text).to.not.include(r.token);
    expect(
      w.logs.every(
        (l) => typeof l.id === 'string' && typeof l.step === 'string' && typeof l.outcome === 'string',
      ),
    ).to.equal(true);
  });
});
