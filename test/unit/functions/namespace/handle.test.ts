import { expect } from 'chai';
import { namespaceStep } from '../../../../functions/namespace/handle.js';
import type { Namespace } from '../../../../shared/kube/objects.js';
import { Resources } from '../../../../shared/kube/resources.js';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import { apiServerEvent } from '../../shared/fakes/events.js';
import { ORGANIZATION_ANNOTATION } from '../../../../shared/names.js';
import { ADOPT_ANNOTATION, organizationEmail } from '../../../../shared/ownership.js';
import {
  costOfDelivery,
  KUBE_SYSTEM_UID,
  namespace,
  ourEmail,
  world,
  type TestWorld,
} from '../../shared/fakes/env.js';

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
  describe('own echoes, from memory (docs/design.md#own-echoes)', () => {
    const unavailable = { _tag: 'KubeUnavailable', status: undefined, message: 'connection reset' } as const;
    const current = (w: TestWorld): Namespace => {
      const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
      if (ns === undefined) throw new Error('no namespace team-a');
      return ns;
    };
    /** A write by someone else (a tenant's label, say): a new resourceVersion. */
    const labelled = (w: TestWorld, labels: Record<string, string>): Namespace => {
      const ns = current(w);
      return w.kube.put(Resources.Namespace, { ...ns, metadata: { ...ns.metadata, labels } });
    };
    /**
     * Delivers team-a's add and answers the namespace as each of the step's patches left it; `meanwhile(n)` runs
     * just before its patch n (from 1), once the state the previous patch left was taken.
     */
    const provisioned = async (w: TestWorld, meanwhile: (n: number) => void = () => undefined) => {
      const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
      const left: Namespace[] = [];
      let n = 0;
      w.kube.onPatch = (ref) => {
        if (ref.type !== Resources.Namespace) return;
        if (n > 0) left.push(current(w));
        n += 1;
        meanwhile(n);
      };
      const answer = await deliver(w, apiServerEvent('add', ns));
      w.kube.onPatch = () => undefined;
      left.push(current(w));
      expect(answer.statusCode).to.equal(204);
      return left;
    };
    /** Delivers and answers the calls it cost (kube and Quay) and its log line. */
    const costOf = (w: TestWorld, event: unknown) => costOfDelivery(w, deliver, event);
    const update = (ns: Namespace) => apiServerEvent('update', ns);

    it('costs no call at all for the events of its own writes: its finalizer’s and its stamp’s, each at its version', async () => {
      const w = world();
      const [finalizer, stamp, ...more] = await provisioned(w);
      expect(more, 'two patches').to.deep.equal([]);
      expect(finalizer?.metadata.finalizers).to.deep.equal([ours]);
      expect(stamp?.metadata.annotations?.[ORGANIZATION_ANNOTATION]).to.equal(
        'quay.example.com/openshift_team-a',
      );
      for (const [what, ns] of [
        ['finalizer', finalizer],
        ['stamp', stamp],
      ] as const) {
        const cost = await costOf(w, update(ns as Namespace));
        expect(cost.status, what).to.equal(204);
        expect(cost.calls, what).to.deep.equal([]);
        expect(cost.line, what).to.include({ outcome: 'unchanged', kubeCalls: 0, quayCalls: 0 });
        expect(cost.line?.reason, what).to.match(/its own echo/);
      }
    });

    it('processes a delete event, another uid, or a version written by someone else after its writes', async () => {
      const cases: Record<string, (w: TestWorld, stamp: Namespace) => unknown> = {
        'a delete event at the version it left': (_w, stamp) => apiServerEvent('delete', stamp),
        'another uid (a forged event, or a namespace made again)': (_w, stamp) =>
          update({ ...stamp, metadata: { ...stamp.metadata, uid: 'uid-other' } }),
        'a label set by a tenant after its writes': (w) => update(labelled(w, { team: 'blue' })),
        'an annotation set by a tenant after its writes': (w) => {
          const ns = current(w);
          return update(
            w.kube.put(Resources.Namespace, {
              ...ns,
              metadata: { ...ns.metadata, annotations: { ...ns.metadata.annotations, note: 'x' } },
            }),
          );
        },
      };
      for (const [name, eventOf] of Object.entries(cases)) {
        const w = world();
        const [, stamp] = await provisioned(w);
        const cost = await costOf(w, eventOf(w, stamp as Namespace));
        expect(cost.status, name).to.equal(204);
        expect(cost.calls, name).to.include('get Namespace /team-a');
        expect(cost.line?.reason, name).not.to.match(/its own echo/);
      }
    });

    it('processes what someone else wrote between its two writes, and takes no version of its own that shows it', async () => {
      const w = world();
      let tenant: Namespace | undefined;
      const [finalizer, stamp] = await provisioned(w, (n) => {
        if (n === 2) tenant = labelled(w, { team: 'blue' });
      });
      expect(stamp?.metadata.labels).to.deep.equal({ team: 'blue' });
      const costs = [];
      for (const ns of [finalizer, tenant, stamp])
        costs.push((await costOf(w, update(ns as Namespace))).calls);
      const [ofFinalizer, ofTenant, ofStamp] = costs;
      expect(ofFinalizer, 'its finalizer’s echo').to.deep.equal([]);
      expect(ofTenant, 'the tenant’s label').to.include('get Namespace /team-a');
      // Its stamp patch answered a version that also shows the label: not taken for an echo of its own.
      expect(ofStamp, 'its stamp’s, showing the label').to.include('get Namespace /team-a');
    });

    it('takes no version its finalizer patch answered when it shows more than its finalizer (written meanwhile)', async () => {
      const w = world();
      const [finalizer, stamp] = await provisioned(w, (n) => {
        if (n !== 1) return;
        const ns = current(w);
        w.kube.put(Resources.Namespace, {
          ...ns,
          metadata: { ...ns.metadata, finalizers: [ours], labels: { team: 'blue' } },
        });
      });
      expect((await costOf(w, update(finalizer as Namespace))).calls).to.include('get Namespace /team-a');
      expect((await costOf(w, update(stamp as Namespace))).calls).to.deep.equal([]);
    });

    it('remembers nothing of a reconcile that failed: its finalizer’s echo is processed, and finishes the work', async () => {
      const w = world();
      const ns = w.kube.put(Resources.Namespace, namespace('team-a'));
      w.quay.fail('ensureOrganization', { _tag: 'QuayUnreachable', message: 'connect ECONNREFUSED' }, 1);
      expect((await deliver(w, apiServerEvent('add', ns))).statusCode).to.equal(503);
      const finalizer = current(w);
      expect(finalizer.metadata.finalizers).to.deep.equal([ours]);
      const cost = await costOf(w, update(finalizer));
      expect(cost.status).to.equal(204);
      expect(cost.calls).to.include('ensureOrganization(openshift_team-a)');
      expect(current(w).metadata.annotations?.[ORGANIZATION_ANNOTATION]).to.equal(
        'quay.example.com/openshift_team-a',
      );
    });

    it('forgets what it remembered once a later handling fails: the versions its writes left are processed again', async () => {
      const w = world();
      const [finalizer, stamp] = await provisioned(w);
      const later = labelled(w, { team: 'blue' });
      w.kube.failNext('get Namespace /team-a', unavailable);
      expect((await costOf(w, update(later))).status).to.equal(503);
      for (const ns of [finalizer, stamp])
        expect((await costOf(w, update(ns as Namespace))).calls).to.include('get Namespace /team-a');
    });

    it('keeps what it remembered when a later event finds the namespace provisioned already', async () => {
      const w = world();
      const [finalizer, stamp] = await provisioned(w);
      const cost = await costOf(w, update(labelled(w, { team: 'blue' })));
      expect(cost.line).to.include({ outcome: 'unchanged' });
      expect(cost.calls).to.include('get Namespace /team-a');
      for (const ns of [finalizer, stamp])
        expect((await costOf(w, update(ns as Namespace))).calls).to.deep.equal([]);
    });
  });
});
