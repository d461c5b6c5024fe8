// What a platform engineer sees of the bridge's work, read back from the real kube-apiserver: the Kubernetes Events
// each step records on the objects it acts on (only changes and failures; repeats counted in one series).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import got from 'got';
import { Resources, type ResourceType } from '../../../shared/kube/resources.js';
import { apiServerEvent, pingEvent } from '../../unit/shared/fakes/events.js';
import { CLUSTER_ID, QI_NAME, startWorld, type World } from './world.js';

interface KubeEvent {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly type: string;
  readonly reason: string;
  readonly action: string;
  readonly note: string;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly regarding: { readonly kind: string; readonly name: string; readonly uid?: string };
  readonly series?: { readonly count: number };
}

const SAS = ['builder', 'default', 'deployer'] as const;

describe('Kubernetes Events of the sync steps, on the real API server', function () {
  this.timeout(180_000);
  let w: World;
  let started = false;
  const namespaces = ['ev-a', 'ev-ro'];

  before(async function () {
    this.timeout(300_000);
    w = await startWorld({ denylistNamespaces: ['quay-bridge'] });
    started = true;
  });
  after(async function () {
    this.timeout(120_000);
    if (!started) return;
    w.quay.faults.readOnly = false;
    for (const ns of namespaces) {
      await w.kube.patch(
        { type: Resources.Namespace, name: ns },
        { type: 'merge', body: { metadata: { finalizers: null } } },
      )();
      await w.kube.delete({ type: Resources.Namespace, name: ns })();
    }
    await w.stop();
  });

  const must = async <A>(te: () => Promise<E.Either<{ readonly message: string }, A>>): Promise<A> => {
    const r = await te();
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  };

  /** Events about one object (namespaced ones in its namespace, cluster-scoped ones in default). */
  const eventsAbout = async (kind: string, name: string, namespace = 'default'): Promise<KubeEvent[]> =>
    ((await must(w.kube.list(Resources.Event, { namespace }))) as KubeEvent[]).filter(
      (e) => e.regarding.kind === kind && e.regarding.name === name,
    );
  const reasons = (events: readonly KubeEvent[]) => events.map((e) => e.reason).sort();

  const obj = async (type: ResourceType, name: string, namespace?: string) =>
    (await w.mustGet(type, name, namespace)) as { metadata: { uid: string } };

  /** A namespace with its three ServiceAccounts (made by the OpenShift stand-in). */
  const project = async (name: string) => {
    await must(w.kube.create(Resources.Namespace, undefined, { metadata: { name } }));
    for (const sa of SAS)
      await w.until(`ServiceAccount ${name}/${sa}`, async () => {
        const o = (await w.get(Resources.ServiceAccount, sa, name)) as
          { imagePullSecrets?: unknown[] } | undefined;
        return (o?.imagePullSecrets ?? []).length > 0 ? o : undefined;
      });
  };

  it('reports the organization, robots, Secrets and repository it made, once, and nothing for unchanged work', async () => {
    await project('ev-a');
    const nsEvent = apiServerEvent('add', await obj(Resources.Namespace, 'ev-a'));
    expect((await w.deliver('namespace', nsEvent)).status).to.equal(204);
    for (const sa of SAS)
      expect(
        (
          await w.deliver(
            'service-account',
            apiServerEvent('add', await obj(Resources.ServiceAccount, sa, 'ev-a')),
          )
        ).status,
      ).to.equal(204);
    await must(
      w.kube.create(Resources.ImageStream, 'ev-a', {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'web' },
        spec: {},
      }),
    );
    expect(
      (
        await w.deliver(
          'image-stream',
          apiServerEvent('add', await obj(Resources.ImageStream, 'web', 'ev-a')),
        )
      ).status,
    ).to.equal(204);

    const onNamespace = await eventsAbout('Namespace', 'ev-a');
    expect(reasons(onNamespace)).to.deep.equal(['OrganizationCreated']);
    expect(onNamespace[0]).to.deep.include({
      type: 'Normal',
      action: 'CreateOrganization',
      note: `Quay organization ${CLUSTER_ID}_ev-a created`,
      reportingController: 'quay-bridge',
      reportingInstance: 'quay-bridge-namespace',
    });
    // The uid is what `kubectl describe` matches Events by.
    expect(onNamespace[0]?.regarding.uid).to.equal((await obj(Resources.Namespace, 'ev-a')).metadata.uid);

    const builder = await eventsAbout('ServiceAccount', 'builder', 'ev-a');
    // One Event for a ServiceAccount provisioned at once (each Event is a write to etcd).
    expect(reasons(builder)).to.deep.equal(['RobotCreated']);
    expect(builder.find((e) => e.reason === 'RobotCreated')?.note).to.equal(
      `Quay robot ${CLUSTER_ID}_ev-a+builder created; its credentials in Secret builder-quay-${CLUSTER_ID.toLowerCase()}, linked as a pull and push secret`,
    );
    expect(builder.every((e) => e.reportingInstance === 'quay-bridge-service-account')).to.equal(true);
    const stream = await eventsAbout('ImageStream', 'web', 'ev-a');
    expect(reasons(stream)).to.deep.equal(['RepositoryCreated']);
    expect(stream[0]?.note).to.match(new RegExp(`^private Quay repository ${CLUSTER_ID}_ev-a/web created`));

    // The same events again change nothing, and report nothing.
    const before = (await must(w.kube.list(Resources.Event, { namespace: 'ev-a' }))).length;
    expect((await w.deliver('namespace', nsEvent)).status).to.equal(204);
    expect(
      (
        await w.deliver(
          'service-account',
          apiServerEvent('update', await obj(Resources.ServiceAccount, 'builder', 'ev-a')),
        )
      ).status,
    ).to.equal(204);
    expect((await must(w.kube.list(Resources.Event, { namespace: 'ev-a' }))).length).to.equal(before);
    expect(reasons(await eventsAbout('Namespace', 'ev-a'))).to.deep.equal(['OrganizationCreated']);
    const unchanged = (await eventsAbout('Namespace', 'ev-a'))[0];
    expect(unchanged?.series).to.equal(undefined);
  });

  it('counts a failure retried by the broker in one Event series, not one Event per retry', async () => {
    await must(w.kube.create(Resources.Namespace, undefined, { metadata: { name: 'ev-ro' } }));
    const event = apiServerEvent('add', await obj(Resources.Namespace, 'ev-ro'));
    w.quay.faults.readOnly = true; // every write answered 503, as Quay in read-only mode does
    try {
      for (let i = 0; i < 3; i++) expect((await w.deliver('namespace', event)).status).to.equal(503);
    } finally {
      w.quay.faults.readOnly = false;
    }
    const failures = await eventsAbout('Namespace', 'ev-ro');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.deep.include({
      type: 'Warning',
      reason: 'QuayUnavailable',
      action: 'CreateOrganization',
    });
    expect(failures[0]?.series?.count).to.equal(3);

    // Once Quay takes writes again, the retry succeeds and says so.
    expect((await w.deliver('namespace', event)).status).to.equal(204);
    expect(reasons(await eventsAbout('Namespace', 'ev-ro'))).to.deep.equal([
      'OrganizationCreated',
      'QuayUnavailable',
    ]);
  });

  it('reports a resync that changed something on the QuayIntegration, with its counts, and a quiet one not at all', async () => {
    // A robot deleted in Quay: the resync re-creates it.
    const robot = `${CLUSTER_ID}_ev-a+deployer`;
    const deleted = await fetch(`${w.quay.url}/api/v1/organization/${CLUSTER_ID}_ev-a/robots/deployer`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${w.quay.adminToken}` },
    });
    expect(deleted.status).to.equal(204);
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const qi = await obj(Resources.QuayIntegration, QI_NAME);
    // This world's QuayIntegration only (by uid): other test files' worlds made one of the same name before.
    const aboutThisOne = async () =>
      (await eventsAbout('QuayIntegration', QI_NAME)).filter((e) => e.regarding.uid === qi.metadata.uid);
    const onQi = await aboutThisOne();
    expect(reasons(onQi)).to.deep.equal(['Resynced']);
    expect(onQi[0]?.regarding.uid).to.equal(qi.metadata.uid);
    expect(onQi[0]?.note).to.match(/ namespaces, .*: [1-9]\d* changed, 0 failed/);
    expect(w.quay.state().robots.some((r) => r.name === robot)).to.equal(true);
    // …and on the ServiceAccount, what it repaired.
    const repaired = (await eventsAbout('ServiceAccount', 'deployer', 'ev-a')).filter(
      (e) => e.reportingInstance === 'quay-bridge-resync',
    );
    expect(reasons(repaired)).to.deep.equal(['RobotRecreated', 'SecretWritten']);
    expect(repaired.find((e) => e.reason === 'RobotRecreated')?.note).to.equal(
      `Quay robot ${robot} was missing and is created again`,
    );

    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const again = await aboutThisOne();
    expect(again).to.have.length(1);
    expect(again[0]?.series).to.equal(undefined);
  });

  /** `kubectl get quayintegration` as the API server prints it (server-side printing, what kubectl asks for). */
  const table = async (): Promise<{ columns: string[]; cells: unknown[] }> => {
    const res = await got(`${w.cp.serverUrl}/apis/quay.redhat.com/v1/quayintegrations`, {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      https: {
        certificate: readFileSync(w.cp.pki.adminCert),
        key: readFileSync(w.cp.pki.adminKey),
        certificateAuthority: readFileSync(w.cp.pki.caCert),
      },
    }).json<{ kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>();
    expect(res.kind).to.equal('Table');
    expect(res.rows).to.have.length(1);
    return { columns: res.columnDefinitions.map((c) => c.name), cells: res.rows[0]?.cells ?? [] };
  };
  const lastResyncLine = () =>
    w.logs.filter((l) => l['step'] === 'resync' && l['msg'] === 'event handled').at(-1) ?? {};
  const qiStatus = async () =>
    ((await w.mustGet(Resources.QuayIntegration, QI_NAME)) as { status: Record<string, unknown> }).status;

  it('prints Ready, cluster ID, Quay, namespaces synced and failed, and the last resync in kubectl get', async () => {
    expect((await w.deliver('resync', pingEvent())).status).to.equal(204);
    const status = await qiStatus();
    const { columns, cells } = await table();
    expect(columns).to.deep.equal([
      'Name',
      'Ready',
      'Cluster ID',
      'Quay',
      'Synced',
      'Failed',
      'Last Resync',
      'Age',
    ]);
    expect(cells.slice(0, 6)).to.deep.equal([
      QI_NAME,
      'True',
      CLUSTER_ID,
      w.quay.url,
      status['namespacesSynced'],
      0,
    ]);
    // A date column is printed as an age, as kubectl shows it.
    expect(cells[6]).to.match(/^\d+s$/);
    // ev-a and ev-ro at least; every namespace in scope is counted.
    expect(status['namespacesSynced']).to.be.a('number').and.at.least(2);
    expect(status['lastResyncTime']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('resyncs once for a new value of quay.redhat.com/resync-requested, and not for its own status write', async () => {
    const value = String(Math.floor(Date.now() / 1000));
    await must(
      w.kube.patch(
        { type: Resources.QuayIntegration, name: QI_NAME },
        { type: 'merge', body: { metadata: { annotations: { 'quay.redhat.com/resync-requested': value } } } },
      ),
    );
    const requested = apiServerEvent('update', await w.mustGet(Resources.QuayIntegration, QI_NAME));
    w.quay.resetCounts();
    expect((await w.deliver('resync', requested)).status).to.equal(204);
    expect(lastResyncLine()['outcome']).to.not.equal('ignored');
    expect(w.quay.totalRequests()).to.be.greaterThan(0); // a pass asks Quay
    expect((await qiStatus())['lastResyncRequest']).to.equal(value);

    // The event of that status write, and the request's event again (a broker redelivery): no pass.
    w.quay.resetCounts();
    const written = apiServerEvent('update', await w.mustGet(Resources.QuayIntegration, QI_NAME));
    expect((await w.deliver('resync', written)).status).to.equal(204);
    expect(lastResyncLine()).to.include({ outcome: 'ignored' });
    expect((await w.deliver('resync', requested)).status).to.equal(204);
    expect(lastResyncLine()).to.include({ outcome: 'ignored' });
    expect(w.quay.totalRequests()).to.equal(0);
  });
});
