import { expect } from 'chai';
import { resyncStep } from '../../../../functions/resync/handle.js';
import { orphanCandidates } from '../../../../functions/resync/plan.js';
import { Resources } from '../../../../shared/kube/resources.js';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import { apiServerEvent, pingEvent } from '../../shared/fakes/events.js';
import { organizationEmail } from '../../../../shared/ownership.js';
import {
  IDENTITY,
  imageStream,
  namespace,
  quayIntegration,
  serviceAccount,
  world,
  type TestWorld,
} from '../../shared/fakes/env.js';

const ours = 'quay.redhat.com/quayintegrations';
const deliver = (w: TestWorld, event: unknown = pingEvent()) =>
  makeHandler(resyncStep, () => Promise.resolve(w.env))({ cloudevent: event });
const conditions = (w: TestWorld) =>
  (
    (
      w.kube.read(Resources.QuayIntegration, undefined, 'quay')?.status as
        | { conditions?: { type: string; status: string; reason: string; observedGeneration: number }[] }
        | undefined
    )?.conditions ?? []
  ).map((c) => [c.type, c.status, c.reason, c.observedGeneration]);
const project = (w: TestWorld, name: string, streams: string[] = []) => {
  w.kube.put(Resources.Namespace, namespace(name));
  for (const sa of ['builder', 'default', 'deployer'])
    w.kube.put(Resources.ServiceAccount, serviceAccount(name, sa));
  for (const is of streams) w.kube.put(Resources.ImageStream, imageStream(name, is));
};

describe('resync step (handle)', () => {
  it('reports an organization without this cluster’s mark on the QuayIntegration and the Namespace, and leaves it alone', async () => {
    const w = world();
    project(w, 'team-a');
    w.quay.addOrg('openshift_team-a', 'someone@example.com');
    expect((await deliver(w)).statusCode).to.equal(204);
    expect(w.quay.orgs.get('openshift_team-a')?.robots.size).to.equal(0);
    expect(conditions(w).find((c) => c[0] === 'OrganizationsOwned')).to.deep.equal([
      'OrganizationsOwned',
      'False',
      'OrganizationsNotOurs',
      1,
    ]);
    expect(w.events.recorded.map((e) => `${e.regarding.name} ${e.event.reason}`)).to.deep.equal([
      'team-a OrganizationNotOurs',
      'quay ResyncFailed', // the pass's counts, with the namespace among the failed
    ]);
  });

  it('sweeps only organizations with this cluster’s mark whose namespace is gone', async () => {
    const w = world();
    w.quay.addOrg('openshift_gone');
    w.quay.addOrg('openshift_gone-unmarked', '');
    w.quay.addOrg(
      'openshift_gone-other',
      organizationEmail({ ...IDENTITY, clusterID: 'OpenShift' }, 'openshift_gone-other'),
    );
    expect((await deliver(w)).statusCode).to.equal(204);
    expect([...w.quay.orgs.keys()].sort()).to.deep.equal(['openshift_gone-other', 'openshift_gone-unmarked']);
  });

  it('picks up objects that existed before any event: organization, robots, default permissions, Secrets, links, repositories', async () => {
    const w = world();
    project(w, 'team-a', ['web', 'api']);
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    const org = w.quay.orgs.get('openshift_team-a');
    expect([...(org?.robots.keys() ?? [])].sort()).to.deep.equal([
      'openshift_team-a+builder',
      'openshift_team-a+default',
      'openshift_team-a+deployer',
    ]);
    expect(org?.prototypes.map((p) => `${p.delegate.name}=${p.role}`).sort()).to.deep.equal([
      'openshift_team-a+builder=write',
      'openshift_team-a+default=read',
      'openshift_team-a+deployer=read',
    ]);
    for (const repo of ['web', 'api'])
      expect(org?.repos.get(repo)?.get('openshift_team-a+builder')).to.equal('write');
    for (const sa of ['builder', 'default', 'deployer']) {
      expect(w.kube.read(Resources.Secret, 'team-a', `${sa}-quay-openshift`)?.type).to.equal(
        'kubernetes.io/dockerconfigjson',
      );
      expect(w.kube.read(Resources.ServiceAccount, 'team-a', sa)?.imagePullSecrets).to.deep.equal([
        { name: `${sa}-quay-openshift` },
      ]);
    }
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
    expect(conditions(w)).to.deep.equal([
      ['Ready', 'True', 'Synced', 1],
      ['CredentialsValid', 'True', 'TokenAccepted', 1],
      ['QuayReachable', 'True', 'Answered', 1],
      ['OrganizationsOwned', 'True', 'AllMarked', 1],
    ]);
  });

  it('costs two Quay calls per unchanged namespace, one per unchanged ImageStream, and one for the sweep', async () => {
    const w = world();
    project(w, 'team-a', ['web']);
    project(w, 'team-b');
    await deliver(w);
    w.quay.calls.length = 0;
    await deliver(w);
    expect([...w.quay.calls].sort()).to.deep.equal(
      [
        'currentUser()',
        'listRobots(openshift_team-a)',
        'listDefaultPermissions(openshift_team-a)',
        'listRepositoryPermissions(openshift_team-a,web)',
        'listRobots(openshift_team-b)',
        'listDefaultPermissions(openshift_team-b)',
      ].sort(),
    );
  });

  it('provisions a new namespace with at most eight Quay calls', async () => {
    const w = world();
    await deliver(w);
    project(w, 'team-c');
    w.quay.calls.length = 0;
    await deliver(w);
    const forTeamC = w.quay.calls.filter((c) => c.includes('openshift_team-c'));
    expect(forTeamC.length).to.be.at.most(8);
    expect(forTeamC).to.include('ensureOrganization(openshift_team-c)');
  });

  it('sweeps an organization of this cluster whose namespace is gone, and nothing else', async () => {
    const w = world({ spec: { denylistNamespaces: ['team-d'] } });
    project(w, 'team-d');
    w.quay.addOrg('openshift_gone');
    w.quay.addOrg('openshift_team-d');
    w.quay.addOrg('east_gone');
    w.quay.addOrg('openshift');
    w.quay.memberOf.add('openshift_a_b');
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    expect([...w.quay.orgs.keys()].sort()).to.deep.equal(['east_gone', 'openshift', 'openshift_team-d']);
    expect(w.log.lines[0]?.details).to.include({ swept: 1 });
  });

  it('never sweeps the organization of a namespace that exists, even if the namespace list missed it', () => {
    expect(
      orphanCandidates('openshift', ['openshift_a', 'openshift_b', 'other_c'], new Set(['a'])),
    ).to.deep.equal([{ org: 'openshift_b', namespace: 'b' }]);
  });

  it('docs/qbo-compatibility.md#b12: one failing repository does not stop the others, and Ready says which failed', async () => {
    const w = world();
    project(w, 'team-a', ['a1', 'a2']);
    w.quay.fail('ensureRepository', { _tag: 'QuayRejected', status: 402, message: 'Payment Required' }, 1);
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    const repos = [...(w.quay.orgs.get('openshift_team-a')?.repos.keys() ?? [])];
    expect(repos).to.deep.equal(['a2']);
    expect(conditions(w)[0]).to.deep.equal(['Ready', 'False', 'SyncFailed', 1]);
    await deliver(w);
    expect(conditions(w)[0]).to.deep.equal(['Ready', 'True', 'Synced', 1]);
  });

  it('ignores a status-only change of the QuayIntegration (its own status write), so it cannot loop', async () => {
    const w = world();
    await deliver(w);
    const qi = w.kube.read(Resources.QuayIntegration, undefined, 'quay');
    w.quay.calls.length = 0;
    const answer = await deliver(w, apiServerEvent('update', qi ?? {}));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.log.lines[1]).to.include({ outcome: 'ignored' });
  });

  it('resyncs on a spec change of the QuayIntegration, and rewrites the conditions only when they change', async () => {
    const w = world();
    await deliver(w);
    const stored = () =>
      (
        w.kube.read(Resources.QuayIntegration, undefined, 'quay')?.status as
          { conditions?: unknown } | undefined
      )?.conditions;
    const before = stored();
    await deliver(w);
    expect(stored()).to.deep.equal(before);
    const qi = w.kube.put(Resources.QuayIntegration, {
      ...quayIntegration({ denylistNamespaces: ['x'] }),
      metadata: { name: 'quay', generation: 2 },
      status: w.kube.read(Resources.QuayIntegration, undefined, 'quay')?.status,
    });
    await deliver(w, apiServerEvent('update', qi));
    expect(conditions(w).map((c) => c[3])).to.deep.equal([2, 2, 2, 2]);
  });

  it('docs/qbo-compatibility.md#b4: with no QuayIntegration, releases every finalizer of ours and deletes nothing', async () => {
    const w = world({ integration: false });
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: ['x', ours] }));
    w.kube.put(
      Resources.Namespace,
      namespace('team-b', { finalizers: ['redhatcop.redhat.io/quayintegrations'] }),
    );
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal(['x']);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-b')?.metadata.finalizers).to.deep.equal([]);
    expect(w.quay.calls).to.deep.equal([]);
  });

  it('reports several QuayIntegrations on each of them, and does nothing else (204, no hot loop)', async () => {
    const w = world();
    w.kube.put(Resources.QuayIntegration, quayIntegration({}, 'second'));
    project(w, 'team-a');
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    expect(conditions(w)[0]).to.deep.equal(['Ready', 'False', 'SeveralQuayIntegrations', 1]);
    expect(w.quay.calls).to.deep.equal([]);
  });

  it('reports a missing credentials key as CredentialsValid False (docs/qbo-compatibility.md#b1: the configured key is the one read)', async () => {
    const w = world({
      spec: { credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token', key: 'oauth' } },
    });
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(204);
    expect(conditions(w)).to.deep.equal([
      ['Ready', 'False', 'KeyMissing', 1],
      ['CredentialsValid', 'False', 'KeyMissing', 1],
      ['QuayReachable', 'Unknown', 'KeyMissing', 1],
    ]);
  });

  it('validates a rejected token once, reports it, and does not ask Quay again until something changes', async () => {
    const w = world();
    w.quay.fail('currentUser', { _tag: 'QuayAuthFailed', status: 401, message: 'invalid_token' });
    await deliver(w);
    await deliver(w);
    expect(conditions(w)[1]).to.deep.equal(['CredentialsValid', 'False', 'TokenRejected', 1]);
    expect(w.quay.calls).to.deep.equal(['currentUser()']);
  });

  it('answers 503 and reports QuayReachable False when Quay cannot be reached', async () => {
    const w = world();
    w.quay.fail('currentUser', { _tag: 'QuayUnreachable', message: 'connect ETIMEDOUT' });
    const answer = await deliver(w);
    expect(answer.statusCode).to.equal(503);
    expect(conditions(w)[2]).to.deep.equal(['QuayReachable', 'False', 'QuayUnreachable', 1]);
  });

  it('writes namespaces synced and failed and the time of the pass, for kubectl get', async () => {
    const w = world();
    project(w, 'team-a', ['a1']);
    project(w, 'team-b', ['b1']);
    w.quay.fail('ensureRepository', { _tag: 'QuayRejected', status: 402, message: 'Payment Required' }, 1);
    await deliver(w);
    const status = w.kube.read(Resources.QuayIntegration, undefined, 'quay')?.status as Record<
      string,
      unknown
    >;
    expect(status).to.deep.include({ namespacesSynced: 1, namespacesFailed: 1 });
    expect(status['lastResyncTime']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('resyncs once for each new value of the resync-requested annotation, never for its own status write', async () => {
    const w = world();
    await deliver(w);
    const annotate = (value: string) => {
      const qi = w.kube.read(Resources.QuayIntegration, undefined, 'quay');
      return w.kube.put(Resources.QuayIntegration, {
        ...qi,
        metadata: { ...qi?.metadata, annotations: { 'quay.redhat.com/resync-requested': value } },
      });
    };
    const current = () => w.kube.read(Resources.QuayIntegration, undefined, 'quay');
    const outcome = async (event: unknown) => {
      await deliver(w, event);
      return (w.log.lines.at(-1) as { outcome?: string }).outcome;
    };
    const requested = apiServerEvent('update', annotate('1700000000'));
    expect(await outcome(requested)).to.equal('unchanged'); // a pass ran
    expect((current()?.status as { lastResyncRequest?: string }).lastResyncRequest).to.equal('1700000000');
    // The pass's own status write, and the same request delivered again once handled: no pass.
    expect(await outcome(apiServerEvent('update', current() ?? {}))).to.equal('ignored');
    expect(await outcome(requested)).to.equal('ignored');
    // A new value: one more pass.
    expect(await outcome(apiServerEvent('update', annotate('1700000060')))).to.equal('unchanged');
    expect((current()?.status as { lastResyncRequest?: string }).lastResyncRequest).to.equal('1700000060');
  });
});
