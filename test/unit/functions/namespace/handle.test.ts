import { expect } from 'chai';
import { namespaceStep } from '../../../../functions/namespace/handle.js';
import { Resources } from '../../../../shared/kube/resources.js';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import { apiServerEvent } from '../../shared/fakes/events.js';
import { ORGANIZATION_ANNOTATION } from '../../../../shared/names.js';
import { ADOPT_ANNOTATION, organizationEmail } from '../../../../shared/ownership.js';
import { KUBE_SYSTEM_UID, namespace, ourEmail, world, type TestWorld } from '../../shared/fakes/env.js';

const ours = 'quay.redhat.com/quayintegrations';
const legacy = 'redhatcop.redhat.io/quayintegrations';

const deliver = (w: TestWorld, event: unknown) =>
  makeHandler(namespaceStep, () => Promise.resolve(w.env))({ cloudevent: event });

describe('namespace step (handle)', () => {
  it('adds the finalizer and creates the organization, answering 204 with an empty body', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer).to.deep.include({ statusCode: 204, body: '' });
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
    expect([...w.quay.orgs.keys()]).to.deep.equal(['openshift_team-a']);
    expect(w.log.lines).to.have.length(1);
    expect(w.log.lines[0]).to.include({
      step: 'namespace',
      kind: 'Namespace',
      name: 'team-a',
      outcome: 'created',
      status: 204,
      quayCalls: 2,
    });
    // GET /api/v1/user/ once for this token, then the organization create.
    expect(w.quay.calls).to.deep.equal(['currentUser()', 'ensureOrganization(openshift_team-a)']);
  });

  it('works on two events of one namespace one after the other: the second finds the first one’s stamp', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    await w.env.settings.configured()();
    w.quay.calls.length = 0;
    // Our finalizer's update comes back while the add is still at work.
    const answers = await Promise.all([
      deliver(w, apiServerEvent('add', ns)),
      deliver(w, apiServerEvent('update', ns)),
    ]);
    expect(answers.map((a) => a.statusCode)).to.deep.equal([204, 204]);
    expect(w.quay.calls).to.deep.equal(['ensureOrganization(openshift_team-a)']);
    expect(w.log.lines.map((l) => l.quayCalls)).to.deep.equal([1, 0]);
  });

  it('stamps the namespace once its organization is ensured; its own echo then asks Quay nothing', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    await deliver(w, apiServerEvent('add', ns));
    const stamped = w.kube.read(Resources.Namespace, undefined, 'team-a');
    expect(stamped?.metadata.annotations).to.deep.equal({
      'quay-bridge.quay.redhat.com/organization': 'quay.example.com/openshift_team-a',
    });
    w.quay.calls.length = 0;
    expect((await deliver(w, apiServerEvent('update', stamped ?? {}))).statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.log.lines[1]).to.include({ outcome: 'unchanged', quayCalls: 0 });
  });

  it('asks Quay when the stamp names another Quay (the QuayIntegration moved)', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
    const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
    w.kube.put(Resources.Namespace, {
      ...ns,
      metadata: {
        ...ns?.metadata,
        annotations: { 'quay-bridge.quay.redhat.com/organization': 'old-quay.example.com/openshift_team-a' },
      },
    });
    await deliver(w, apiServerEvent('update', ns ?? {}));
    expect(w.quay.calls).to.include('ensureOrganization(openshift_team-a)');
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.annotations).to.deep.equal({
      'quay-bridge.quay.redhat.com/organization': 'quay.example.com/openshift_team-a',
    });
  });

  it('removes the stamp with the finalizer when the namespace leaves scope', async () => {
    const w = world({ spec: { denylistNamespaces: ['team-a'] } });
    w.kube.put(Resources.Namespace, {
      ...namespace('team-a', { finalizers: [ours] }),
      metadata: {
        name: 'team-a',
        finalizers: [ours],
        annotations: {
          'quay-bridge.quay.redhat.com/organization': 'quay.example.com/openshift_team-a',
          x: 'y',
        },
      },
    });
    const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
    await deliver(w, apiServerEvent('update', ns ?? {}));
    const after = w.kube.read(Resources.Namespace, undefined, 'team-a');
    expect(after?.metadata.finalizers).to.deep.equal([]);
    expect(after?.metadata.annotations).to.deep.equal({ x: 'y' });
  });

  it('reads the namespace again instead of trusting the event (a stale add for a namespace now terminating)', async () => {
    const w = world();
    const stale = namespace('team-a');
    w.kube.put(
      Resources.Namespace,
      namespace('team-a', { finalizers: [ours], deletionTimestamp: '2026-11-25T10:00:00Z' }),
    );
    w.quay.addOrg('openshift_team-a');
    const answer = await deliver(w, apiServerEvent('add', stale));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(false);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([]);
  });

  it('on deletion deletes the organization first, then removes our finalizer and the legacy one (docs/qbo-compatibility.md#b4)', async () => {
    const w = world();
    const ns = w.kube.put(
      Resources.Namespace,
      namespace('team-a', { finalizers: ['other', ours, legacy], deletionTimestamp: '2026-11-25T10:00:00Z' }),
    );
    w.quay.addOrg('openshift_team-a');
    const answer = await deliver(w, apiServerEvent('update', ns));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.size).to.equal(0);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([
      'other',
    ]);
  });

  it('docs/qbo-compatibility.md#b4: keeps the finalizer and answers 503 when Quay fails to delete the organization (no orphan, no crash)', async () => {
    const w = world();
    const ns = w.kube.put(
      Resources.Namespace,
      namespace('team-a', { finalizers: [ours], deletionTimestamp: '2026-11-25T10:00:00Z' }),
    );
    w.quay.addOrg('openshift_team-a');
    w.quay.fail('deleteOrganization', { _tag: 'QuayUnavailable', status: 502, message: 'an HTML page' });
    const answer = await deliver(w, apiServerEvent('update', ns));
    expect(answer.statusCode).to.equal(503);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(true);
  });

  it('docs/qbo-compatibility.md#b7: answers 503 on a transport error while creating the organization, instead of crashing', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    w.quay.fail('ensureOrganization', { _tag: 'QuayUnreachable', message: 'connect ECONNREFUSED' });
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(503);
    expect(answer.body).to.match(/ECONNREFUSED/);
  });

  it('docs/qbo-compatibility.md#b2: retries (502) a refused organization create rather than swallowing it', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    w.quay.fail('ensureOrganization', {
      _tag: 'QuayRejected',
      status: 400,
      message: 'Username is not available',
    });
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(502);
    expect(answer.body).to.match(/Username is not available/);
  });

  it('docs/qbo-compatibility.md#b2: without a QuayIntegration answers 204 and touches nothing (no 5-second hot loop)', async () => {
    const w = world({ integration: false });
    const ns = w.kube.put(Resources.Namespace, namespace('openshift-monitoring'));
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.log.lines[0]).to.include({ outcome: 'ignored' });
  });

  it('docs/qbo-compatibility.md#b4: releases the finalizer of a terminating namespace when the credentials Secret is missing', async () => {
    const w = world({ secret: false });
    const ns = w.kube.put(
      Resources.Namespace,
      namespace('team-a', { finalizers: [ours], deletionTimestamp: '2026-11-25T10:00:00Z' }),
    );
    const answer = await deliver(w, apiServerEvent('update', ns));
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([]);
    expect(w.quay.calls).to.deep.equal([]);
  });

  it('leaves a denied namespace untouched', async () => {
    const w = world({ spec: { denylistNamespaces: ['team-a'] } });
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    const before = w.kube.read(Resources.Namespace, undefined, 'team-a');
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')).to.deep.equal(before);
    expect(w.quay.calls.filter((c) => !c.startsWith('currentUser'))).to.deep.equal([]);
  });

  it('never deletes on a delete event, even when the namespace is gone: the orphan sweep decides', async () => {
    const w = world();
    w.quay.addOrg('openshift_team-a');
    const answer = await deliver(w, apiServerEvent('delete', namespace('team-a')));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(true);
    expect(w.quay.calls.filter((c) => !c.startsWith('currentUser'))).to.deep.equal([]);
  });

  const terminating = (w: TestWorld) =>
    w.kube.put(
      Resources.Namespace,
      namespace('team-a', { finalizers: [ours], deletionTimestamp: '2026-11-25T10:00:00Z' }),
    );

  it('on termination deletes only an organization that carries this cluster’s mark, and lets the namespace go', async () => {
    const cases = [
      { what: 'ours', email: ourEmail('openshift_team-a'), deleted: true, status: 204 },
      { what: 'unmarked (QBO, squatter)', email: 'openshift_team-a@redhat.com', deleted: false, status: 422 },
      {
        what: 'another cluster’s',
        email: organizationEmail({ uid: KUBE_SYSTEM_UID, clusterID: 'OpenShift' }, 'openshift_team-a'),
        deleted: false,
        status: 422,
      },
      {
        what: 'our mark copied from another organization',
        email: ourEmail('openshift_team-b'),
        deleted: false,
        status: 422,
      },
    ];
    for (const c of cases) {
      const w = world();
      w.quay.addOrg('openshift_team-a', c.email);
      const answer = await deliver(w, apiServerEvent('update', terminating(w)));
      expect(answer.statusCode, c.what).to.equal(c.status);
      expect(w.quay.orgs.has('openshift_team-a'), c.what).to.equal(!c.deleted);
      expect(
        w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers,
        c.what,
      ).to.deep.equal([]);
      expect(
        w.events.recorded.map((e) => `${e.regarding.name} ${e.event.reason}`),
        c.what,
      ).to.deep.equal(c.deleted ? ['team-a OrganizationDeleted'] : ['team-a OrganizationNotOurs']);
    }
  });

  it('stamps a namespace only once its existing organization is proven this cluster’s (one GET); an unmarked one is reported', async () => {
    for (const [email, status, stamped] of [
      [ourEmail('openshift_team-a'), 204, true],
      ['openshift_team-a@redhat.com', 422, false],
    ] as const) {
      const w = world();
      w.quay.addOrg('openshift_team-a', email);
      const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
      const answer = await deliver(w, apiServerEvent('add', ns));
      expect(answer.statusCode, email).to.equal(status);
      expect(w.quay.calls.filter((c) => !c.startsWith('currentUser'))).to.deep.equal([
        'ensureOrganization(openshift_team-a)',
        'getOrganizationOwner(openshift_team-a)',
      ]);
      const annotations = w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.annotations as
        Record<string, string> | undefined;
      expect(annotations?.[ORGANIZATION_ANNOTATION] !== undefined, email).to.equal(stamped);
      expect(w.events.recorded.length, email).to.equal(stamped ? 0 : 1);
    }
  });

  it('deletes an unmarked organization on termination when the QuayIntegration adopts its namespace', async () => {
    const w = world({ annotations: { [ADOPT_ANNOTATION]: 'team-b, team-a' } });
    w.quay.addOrg('openshift_team-a', 'openshift_team-a@redhat.com');
    const answer = await deliver(w, apiServerEvent('update', terminating(w)));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(false);
  });

  it('never deletes the organization of a namespace that exists again, whatever the event says', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
    w.quay.addOrg('openshift_team-a');
    const answer = await deliver(w, apiServerEvent('delete', namespace('team-a')));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(true);
  });

  it('answers 422 and never calls Quay for an undecodable event', async () => {
    const w = world();
    const answer = await deliver(w, {
      id: 'x',
      source: 's',
      type: 'dev.knative.apiserver.resource.add',
      kind: 'Namespace',
      apiversion: 'v1',
      name: 'a',
      data: { metadata: { name: 42 } },
    });
    expect(answer.statusCode).to.equal(422);
    expect(answer.body).to.match(/metadata\.name: expected string, got 42/);
    expect(w.quay.calls).to.deep.equal([]);
  });

  it('answers 422 for an event about another kind (misrouted by a Trigger)', async () => {
    const w = world();
    const answer = await deliver(
      w,
      apiServerEvent('add', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'builder', namespace: 'a' },
      }),
    );
    expect(answer.statusCode).to.equal(422);
    expect(answer.body).to.match(/handles Namespace, not ServiceAccount/);
  });

  it('answers 422 for an organization name Quay would refuse, and does not retry it', async () => {
    const w = world();
    const long = 'n'.repeat(250);
    const ns = w.kube.put(Resources.Namespace, namespace(long));
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(422);
    expect(answer.body).to.match(/not a valid Quay name/);
    expect(w.quay.calls.filter((c) => !c.startsWith('currentUser'))).to.deep.equal([]);
  });

  it('converges when the same event is delivered five times', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
    const event = apiServerEvent('add', ns);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await deliver(w, event)).statusCode);
    expect(statuses).to.deep.equal([204, 204, 204, 204, 204]);
    expect([...w.quay.orgs.keys()]).to.deep.equal(['openshift_team-a']);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
    expect(w.log.lines.map((l) => l.outcome)).to.deep.equal([
      'created',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
  });

  it('adds the finalizer without a resourceVersion lock: a finalizer written meanwhile is kept, nothing re-read', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: ['a'] }));
    let once = true;
    w.kube.onPatch = () => {
      if (!once) return;
      once = false;
      const current = w.kube.read(Resources.Namespace, undefined, 'team-a');
      w.kube.put(Resources.Namespace, {
        ...current,
        metadata: { ...current?.metadata, finalizers: ['a', 'b'] },
      });
    };
    const answer = await deliver(w, apiServerEvent('add', ns));
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([
      'a',
      'b',
      ours,
    ]);
    // One read (the step's own), no 409 and re-read between the finalizer and the organization's stamp.
    expect(w.kube.calls.filter((c) => c === 'get Namespace /team-a')).to.have.length(1);
  });

  it('takes the locked path when the namespace started terminating before the finalizer reached it', async () => {
    const w = world();
    const ns = w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: ['a'] }));
    w.kube.onPatch = () => {
      const current = w.kube.read(Resources.Namespace, undefined, 'team-a');
      if (current?.metadata.deletionTimestamp !== undefined) return;
      w.kube.put(Resources.Namespace, {
        ...current,
        metadata: { ...current?.metadata, deletionTimestamp: '2026-11-25T10:00:00Z' },
      });
    };
    await deliver(w, apiServerEvent('add', ns));
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal(['a']);
  });
});
