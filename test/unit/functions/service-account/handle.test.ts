import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import sinon from 'sinon';
import { serviceAccountStep } from '../../../../functions/service-account/handle.js';
import { Resources } from '../../../../shared/kube/resources.js';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import { createSettingsSource } from '../../../../shared/settings/load.js';
import { apiServerEvent } from '../../shared/fakes/events.js';
import { EXPECTED_ECHO_TTL_MS } from '../../../../shared/runtime/own-echoes.js';
import { ORGANIZATION_ANNOTATION, organizationStamp } from '../../../../shared/names.js';
import { markedDescription, organizationEmail } from '../../../../shared/ownership.js';
import {
  costOfDelivery,
  IDENTITY,
  imageStream,
  namespace,
  quayIntegration,
  serviceAccount,
  world,
  type TestWorld,
} from '../../shared/fakes/env.js';

const ours = 'quay.redhat.com/quayintegrations';
const deliver = (w: TestWorld, event: unknown) =>
  makeHandler(serviceAccountStep, () => Promise.resolve(w.env))({ cloudevent: event });

const secretConfig = (w: TestWorld, name = 'builder-quay-openshift') => {
  const s = w.kube.read(Resources.Secret, 'team-a', name);
  const data = (s?.data as Record<string, string> | undefined)?.['.dockerconfigjson'];
  return data === undefined
    ? undefined
    : (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as {
        auths: Record<string, { auth: string; username: string; password: string }>;
      });
};

/**
 * The robot Secret without the bridge's stamp (as an older version or QBO left it): the next event cannot tell from
 * the cluster that Quay holds what it should, so it asks Quay.
 */
const unstamp = (w: TestWorld, name = 'builder-quay-openshift') => {
  const s = w.kube.read(Resources.Secret, 'team-a', name);
  w.kube.put(Resources.Secret, { ...s, metadata: { ...s?.metadata, annotations: {} } });
};

/** Another writer changes namespace team-a's metadata just before the step's next patch of it is applied. */
const meanwhileOnNamespace = (w: TestWorld, metadata: Record<string, unknown>) => {
  w.kube.onPatch = (ref) => {
    if (ref.type.kind !== 'Namespace') return;
    const current = w.kube.read(Resources.Namespace, undefined, 'team-a');
    w.kube.put(Resources.Namespace, { ...current, metadata: { ...current?.metadata, ...metadata } });
  };
};

/** A provisioned namespace with its builder ServiceAccount. */
const setup = (w: TestWorld) => {
  w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
  w.quay.addOrg('openshift_team-a');
  return w.kube.put(
    Resources.ServiceAccount,
    serviceAccount('team-a', 'builder', { secrets: [{ name: 'builder-dockercfg-1' }] }),
  );
};

describe('service-account step (handle)', () => {
  describe("a namespace being provisioned: the namespace step's stamp waited for (docs/design.md#stamp-wait)", () => {
    const stampOf = (w: TestWorld) =>
      organizationStamp(new URL(w.clients[0]?.apiUrl ?? 'https://quay.example.com').host, 'openshift_team-a');
    /** The cluster's watch: `then` is what it sees (and what is done meanwhile) once the event waits. */
    const watching = (w: TestWorld, then: 'stamped' | 'nothing' | 'refused') => {
      const waits: string[] = [];
      Object.assign(w.kube, {
        waitFor: (ref: { name: string }, resourceVersion: string, accept: (o: unknown) => boolean) => () => {
          waits.push(`${ref.name}@${resourceVersion}`);
          if (then === 'refused')
            return Promise.resolve(E.left({ _tag: 'KubeForbidden', message: 'watch namespaces: forbidden' }));
          if (then === 'nothing') return Promise.resolve(E.right(O.none));
          // The namespace step proves the organization and stamps the namespace meanwhile.
          const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
          const stamped = w.kube.put(Resources.Namespace, {
            ...ns,
            metadata: { ...ns?.metadata, annotations: { [ORGANIZATION_ANNOTATION]: stampOf(w) } },
          });
          return Promise.resolve(E.right(accept(stamped) ? O.some(stamped) : O.none));
        },
      });
      return waits;
    };

    it('takes the stamp written while it waited: no Quay call for the proof', async () => {
      const w = world();
      const sa = setup(w);
      const waits = watching(w, 'stamped');
      const answer = await deliver(w, apiServerEvent('add', sa));
      expect(answer.statusCode).to.equal(204);
      expect(waits).to.have.length(1);
      expect(w.quay.calls.filter((c) => c.startsWith('getOrganizationOwner'))).to.deep.equal([]);
      expect(w.quay.orgs.get('openshift_team-a')?.robots.has('openshift_team-a+builder')).to.equal(true);
    });

    for (const then of ['nothing', 'refused'] as const)
      it(`asks Quay as before when ${then === 'nothing' ? 'no stamp came in time' : 'the watch is refused'}`, async () => {
        const w = world();
        const sa = setup(w);
        const waits = watching(w, then);
        const answer = await deliver(w, apiServerEvent('add', sa));
        expect(answer.statusCode).to.equal(204);
        expect(waits).to.have.length(1);
        expect(w.quay.calls.filter((c) => c.startsWith('getOrganizationOwner'))).to.have.length(1);
        expect(w.quay.orgs.get('openshift_team-a')?.robots.has('openshift_team-a+builder')).to.equal(true);
      });

    it('does not wait for a namespace already stamped, nor for one that is being deleted', async () => {
      for (const meta of [{ annotations: 'stamp' }, { deletionTimestamp: '2026-12-03T10:00:00Z' }] as const) {
        const w = world();
        const sa = setup(w);
        const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
        w.kube.put(Resources.Namespace, {
          ...ns,
          metadata: {
            ...ns?.metadata,
            ...('annotations' in meta
              ? {
                  annotations: {
                    [ORGANIZATION_ANNOTATION]: organizationStamp('quay.example.com', 'openshift_team-a'),
                  },
                }
              : meta),
          },
        });
        const waits = watching(w, 'stamped');
        await deliver(w, apiServerEvent('add', sa));
        expect(waits, JSON.stringify(meta)).to.deep.equal([]);
      }
    });
  });

  it('makes no robot and no Secret in an organization without this cluster’s mark: 422, and an Event on the Namespace', async () => {
    for (const email of [
      'openshift_team-a@redhat.com',
      organizationEmail({ ...IDENTITY, clusterID: 'OPENSHIFT' }, 'openshift_team-a'),
    ]) {
      const w = world();
      const sa = setup(w);
      w.quay.orgs.get('openshift_team-a')!.email = email;
      const answer = await deliver(w, apiServerEvent('add', sa));
      expect(answer.statusCode, email).to.equal(422);
      expect(w.quay.orgs.get('openshift_team-a')?.robots.size).to.equal(0);
      expect(w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift')).to.equal(undefined);
      expect(
        w.events.recorded.map((e) => `${e.regarding.kind}/${e.regarding.name} ${e.event.reason}`),
      ).to.deep.equal(['Namespace/team-a OrganizationNotOurs']);
    }
  });

  it('uses an existing robot for free when its description carries this cluster’s mark, and proves an unmarked one by the organization', async () => {
    for (const [description, calls] of [
      [markedDescription(IDENTITY, 'ServiceAccount team-a/builder'), ['getRobot']],
      ['', ['getRobot', 'getOrganizationOwner']],
    ] as const) {
      const w = world();
      const sa = setup(w);
      await deliver(w, apiServerEvent('add', sa));
      const org = w.quay.orgs.get('openshift_team-a');
      const robot = org?.robots.get('openshift_team-a+builder');
      if (robot !== undefined) org?.robots.set(robot.name, { ...robot, description });
      // Not the bridge's own echo (its Secret's stamp gone): Quay is asked. Nor is the namespace stamped (the first
      // event's claim stamped it): the organization is not proven yet.
      const ns = w.kube.read(Resources.Namespace, undefined, 'team-a');
      if (ns !== undefined)
        w.kube.put(Resources.Namespace, { ...ns, metadata: { ...ns.metadata, annotations: {} } });
      const secret = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
      if (secret !== undefined)
        w.kube.put(Resources.Secret, { ...secret, metadata: { ...secret.metadata, annotations: {} } });
      w.quay.calls.length = 0;
      expect((await deliver(w, apiServerEvent('update', sa))).statusCode).to.equal(204);
      expect(
        w.quay.calls.map((c) => c.replace(/\(.*/, '')).filter((c) => c !== 'listDefaultPermissions'),
        description,
      ).to.deep.equal(calls);
    }
  });

  it('provisions the robot, its default permission, the Secret and both links', async () => {
    const w = world();
    const sa = setup(w);
    const answer = await deliver(w, apiServerEvent('add', sa));
    expect(answer).to.deep.include({ statusCode: 204, body: '' });
    const org = w.quay.orgs.get('openshift_team-a');
    const robot = org?.robots.get('openshift_team-a+builder');
    expect(robot).to.not.equal(undefined);
    expect(org?.prototypes.map((p) => [p.delegate.name, p.role])).to.deep.equal([
      ['openshift_team-a+builder', 'write'],
    ]);
    const auth = secretConfig(w)?.auths['quay.example.com'];
    expect(auth?.auth).to.equal(
      Buffer.from(`openshift_team-a+builder:${robot?.token ?? ''}`).toString('base64'),
    );
    const secret = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    expect(secret).to.deep.include({ type: 'kubernetes.io/dockerconfigjson' });
    expect(secret?.metadata.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'quay-bridge' });
    expect(secret?.metadata.ownerReferences).to.deep.equal([
      { apiVersion: 'v1', kind: 'ServiceAccount', name: 'builder', uid: sa.metadata.uid },
    ]);
    const linked = w.kube.read(Resources.ServiceAccount, 'team-a', 'builder');
    expect(linked?.secrets).to.deep.equal([
      { name: 'builder-dockercfg-1' },
      { name: 'builder-quay-openshift' },
    ]);
    expect(linked?.imagePullSecrets).to.deep.equal([{ name: 'builder-quay-openshift' }]);
    expect(w.log.lines[0]).to.include({
      outcome: 'created',
      kind: 'ServiceAccount',
      name: 'builder',
      namespace: 'team-a',
    });
  });

  it('costs no call at all for its own echoes: its link patch’s (by version) and its Secret’s (expected)', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const linked = w.kube.read(Resources.ServiceAccount, 'team-a', 'builder') ?? {};
    w.quay.calls.length = 0;
    w.kube.calls.length = 0;
    expect((await deliver(w, apiServerEvent('update', linked))).statusCode).to.equal(204);
    const secret = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift') ?? {};
    expect((await deliver(w, apiServerEvent('add', secret, { mode: 'ref' }))).statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.kube.calls).to.deep.equal([]);
    expect(w.log.lines.slice(1).map((l) => [l.outcome, l.quayCalls, l.kubeCalls])).to.deep.equal([
      ['unchanged', 0, 0],
      ['unchanged', 0, 0],
    ]);
  });

  it('costs no Quay call for an echo it cannot know from memory (another process wrote): the Secret stamped, linked, the finalizer in place', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const linked = w.kube.read(Resources.ServiceAccount, 'team-a', 'builder') ?? {};
    const secret = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift') ?? {};
    // Another step process, with a memory of its own, gets the echoes.
    const other = { ...w, env: { ...w.env } };
    w.quay.calls.length = 0;
    w.kube.calls.length = 0;
    expect((await deliver(other, apiServerEvent('update', linked))).statusCode).to.equal(204);
    expect((await deliver(other, apiServerEvent('add', secret, { mode: 'ref' }))).statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.kube.calls.filter((c) => !c.startsWith('get') && !c.startsWith('list'))).to.deep.equal([]);
    expect(w.log.lines.slice(1).map((l) => [l.outcome, l.quayCalls])).to.deep.equal([
      ['unchanged', 0],
      ['unchanged', 0],
    ]);
  });

  it('reads the robot Secret beside the ServiceAccount, its namespace and the settings, once, under the last settings’ name', async () => {
    const w = world();
    const sa = setup(w);
    await w.env.settings.configured()(); // the last settings: the guess of the Secret's name
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let secretWhileHeld = false;
    const kube: typeof w.env.kube = {
      ...w.kube,
      list: (type, options) =>
        type.kind !== 'QuayIntegration'
          ? w.kube.list(type, options)
          : async () => {
              await held;
              return w.kube.list(type, options)();
            },
    };
    w.kube.calls.length = 0;
    const settings = createSettingsSource({ kube, ttlMs: 0, makeQuay: () => w.quay });
    await w.env.settings.configured()();
    const answer = makeHandler(serviceAccountStep, () =>
      Promise.resolve({ ...w.env, kube, settings: { ...settings, last: w.env.settings.last } }),
    )({ cloudevent: apiServerEvent('add', sa) });
    for (let i = 0; i < 50 && !secretWhileHeld; i++) {
      await new Promise((r) => setImmediate(r));
      secretWhileHeld = w.kube.calls.includes('get Secret team-a/builder-quay-openshift');
    }
    release();
    expect(secretWhileHeld).to.equal(true);
    expect((await answer).statusCode).to.equal(204);
    expect(w.kube.calls.filter((c) => c === 'get Secret team-a/builder-quay-openshift')).to.have.length(1);
  });

  it('reads the robot Secret again when the settings it decides by name another than the guess (clusterID changed)', async () => {
    const w = world();
    const sa = setup(w);
    await w.env.settings.configured()(); // the last settings say clusterID openshift
    w.kube.put(Resources.QuayIntegration, quayIntegration({ clusterID: 'east' }));
    w.kube.calls.length = 0;
    expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(204);
    const reads = w.kube.calls.filter((c) => c.startsWith('get Secret team-a/'));
    expect(reads).to.deep.equal([
      'get Secret team-a/builder-quay-openshift',
      'get Secret team-a/builder-quay-east',
    ]);
    expect(w.kube.read(Resources.Secret, 'team-a', 'builder-quay-east')).to.not.equal(undefined);
  });

  it('asks Quay again when the stamp does not match what the settings want (another role)', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const s = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    w.kube.put(Resources.Secret, {
      ...s,
      metadata: { ...s?.metadata, annotations: { 'quay-bridge.quay.redhat.com/ensured': '0'.repeat(32) } },
    });
    w.quay.calls.length = 0;
    await deliver(w, apiServerEvent('update', sa));
    expect(w.quay.calls).to.include('getRobot(openshift_team-a,builder)');
  });

  it('costs two Quay reads and one stamp write when the Secret has no stamp yet', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    unstamp(w);
    w.quay.calls.length = 0;
    w.kube.calls.length = 0;
    const answer = await deliver(w, apiServerEvent('update', sa));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([
      'getRobot(openshift_team-a,builder)',
      'listDefaultPermissions(openshift_team-a)',
    ]);
    expect(w.kube.calls.filter((c) => !c.startsWith('get') && !c.startsWith('list'))).to.deep.equal([
      'patch Secret team-a/builder-quay-openshift apply',
    ]);
    expect(w.log.lines[1]).to.include({ outcome: 'updated', quayCalls: 2 });
  });

  it('creates the organization and the namespace finalizer itself when its event comes before the namespace’s', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'default'));
    const answer = await deliver(w, apiServerEvent('add', sa));
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
    expect(w.quay.orgs.get('openshift_team-a')?.robots.has('openshift_team-a+default')).to.equal(true);
    expect(w.quay.orgs.get('openshift_team-a')?.prototypes.map((p) => p.role)).to.deep.equal(['read']);
  });

  it('docs/qbo-compatibility.md#b9: fixes a wrong-role prototype instead of adding a second', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const org = w.quay.orgs.get('openshift_team-a');
    if (org === undefined) throw new Error('no org');
    org.prototypes = org.prototypes.map((p) => ({ ...p, role: 'read' }));
    unstamp(w);
    w.quay.calls.length = 0;
    await deliver(w, apiServerEvent('update', sa));
    expect(w.quay.calls).to.include(
      'ensureDefaultPermission(openshift_team-a,openshift_team-a+builder,write)',
    );
    expect(org.prototypes.map((p) => p.role)).to.deep.equal(['write']);
  });

  it('docs/qbo-compatibility.md#b8: answers 503 when Quay refuses the robot read, and writes nothing on a guess', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    unstamp(w);
    const before = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    w.quay.calls.length = 0;
    w.quay.fail('getRobot', { _tag: 'QuayAuthFailed', status: 401, message: 'invalid_token' });
    const answer = await deliver(w, apiServerEvent('update', sa));
    expect(answer.statusCode).to.equal(503);
    expect(w.quay.calls).to.deep.equal(['getRobot(openshift_team-a,builder)']);
    expect(w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift')).to.deep.equal(before);
  });

  it('creates a new robot with one PUT, once the organization is proven ours (one GET), and adds its default permission without reading the list', async () => {
    const w = world();
    const sa = setup(w);
    await w.env.settings.configured()();
    w.quay.calls.length = 0;
    expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(204);
    expect(w.quay.calls).to.deep.equal([
      'getOrganizationOwner(openshift_team-a)',
      'ensureRobot(openshift_team-a,builder)',
      'ensureDefaultPermission(openshift_team-a,openshift_team-a+builder,write)',
    ]);
  });

  it('proves an unstamped organization once for the ServiceAccounts arriving together, and stamps the namespace for the next', async () => {
    const w = world();
    setup(w);
    const others = ['default', 'deployer'].map((name) =>
      w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', name, {})),
    );
    const builder = w.kube.read(Resources.ServiceAccount, 'team-a', 'builder');
    await w.env.settings.configured()();
    w.quay.calls.length = 0;
    const answers = await Promise.all(
      [builder ?? {}, others[0] ?? {}].map((sa) => deliver(w, apiServerEvent('add', sa))),
    );
    expect(answers.map((a) => a.statusCode)).to.deep.equal([204, 204]);
    // One GET proves the organization for both (the second joins the first one's claim).
    expect(w.quay.calls.filter((c) => c.startsWith('getOrganizationOwner'))).to.have.length(1);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.annotations).to.deep.equal({
      [ORGANIZATION_ANNOTATION]: 'quay.example.com/openshift_team-a',
    });
    // The next one finds the stamp: no GET.
    w.quay.calls.length = 0;
    expect((await deliver(w, apiServerEvent('add', others[1] ?? {}))).statusCode).to.equal(204);
    expect(w.quay.calls.map((c) => c.replace(/\(.*/, ''))).to.deep.equal([
      'ensureRobot',
      'ensureDefaultPermission',
    ]);
  });

  it('dead-letters (422) a robot Quay forbids in an organization that exists, after checking the organization once', async () => {
    const w = world();
    const sa = setup(w);
    await w.env.settings.configured()();
    w.quay.calls.length = 0;
    w.quay.fail('ensureRobot', { _tag: 'QuayRejected', status: 403, message: 'Unauthorized' });
    const answer = await deliver(w, apiServerEvent('add', sa));
    expect(answer.statusCode).to.equal(422);
    expect(answer.body).to.match(/not retried/);
    expect(w.quay.calls).to.deep.equal([
      'getOrganizationOwner(openshift_team-a)',
      'ensureRobot(openshift_team-a,builder)',
      // The 403 made it claim the organization again (it may have gone meanwhile): the namespace's stamp, written
      // after the first claim's proof, proves it without a call; then the retry, and the check of the organization.
      'ensureRobot(openshift_team-a,builder)',
      'getOrganization(openshift_team-a)',
    ]);
    expect(w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift')).to.equal(undefined);
  });

  it('does not hold the robot for the stamp of a claim proven through Quay: they are written side by side', async () => {
    const w = world();
    const sa = setup(w);
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let robotWhileHeld = false;
    const kube: typeof w.env.kube = {
      ...w.kube,
      patch: (ref, patch, sub) => {
        const stamping =
          ref.type.kind === 'Namespace' && JSON.stringify(patch).includes(ORGANIZATION_ANNOTATION);
        if (!stamping) return w.kube.patch(ref, patch, sub);
        return async () => {
          await held;
          return w.kube.patch(ref, patch, sub)();
        };
      },
    };
    const answer = makeHandler(serviceAccountStep, () => Promise.resolve({ ...w.env, kube }))({
      cloudevent: apiServerEvent('add', sa),
    });
    for (let i = 0; i < 50 && !robotWhileHeld; i++) {
      await new Promise((r) => setImmediate(r));
      robotWhileHeld = w.quay.calls.some((c) => c.startsWith('ensureRobot'));
    }
    release();
    expect(robotWhileHeld).to.equal(true);
    expect((await answer).statusCode).to.equal(204);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.annotations).to.deep.equal({
      [ORGANIZATION_ANNOTATION]: 'quay.example.com/openshift_team-a',
    });
  });

  it('reads the namespace again before proving the organization in Quay: a stamp written meanwhile spares the GET', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    w.quay.addOrg('openshift_team-a');
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'builder'));
    // The namespace step stamps the namespace while this event adds the finalizer (after the event's read).
    meanwhileOnNamespace(w, {
      annotations: { [ORGANIZATION_ANNOTATION]: organizationStamp('quay.example.com', 'openshift_team-a') },
    });
    expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(204);
    expect(w.quay.calls.filter((c) => c.startsWith('getOrganization'))).to.deep.equal([]);
    expect(w.quay.orgs.get('openshift_team-a')?.robots.size).to.equal(1);
  });

  it('does not make the organization again for a namespace being deleted meanwhile: 404, retried, then ignored', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'builder'));
    meanwhileOnNamespace(w, { deletionTimestamp: '2026-11-25T10:00:00Z' });
    const answer = await deliver(w, apiServerEvent('add', sa));
    expect(answer.statusCode).to.equal(404);
    expect(w.quay.calls.filter((c) => c.startsWith('ensureOrganization'))).to.deep.equal([]);
    expect(w.quay.orgs.has('openshift_team-a')).to.equal(false);
  });

  it('leaves a robot deleted in Quay by hand to the resync when the cluster shows nothing changed', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    w.quay.orgs.get('openshift_team-a')?.robots.clear();
    w.quay.calls.length = 0;
    await deliver(w, apiServerEvent('update', sa));
    expect(w.quay.calls).to.deep.equal([]);
    expect(w.quay.orgs.get('openshift_team-a')?.robots.size).to.equal(0);
  });

  it('recreates a robot deleted in Quay and updates the Secret with its new token', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const before = secretConfig(w)?.auths['quay.example.com']?.password;
    w.quay.orgs.get('openshift_team-a')?.robots.clear();
    unstamp(w);
    await deliver(w, apiServerEvent('update', sa));
    const after = secretConfig(w)?.auths['quay.example.com']?.password;
    expect(after).to.be.a('string').and.not.equal(before);
    expect(after).to.equal(
      w.quay.orgs.get('openshift_team-a')?.robots.get('openshift_team-a+builder')?.token,
    );
  });

  it('restores a robot Secret deleted by hand, from a Reference-mode Secret event', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const secret = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    w.kube.remove(Resources.Secret, 'team-a', 'builder-quay-openshift');
    const answer = await deliver(w, apiServerEvent('delete', secret ?? {}, { mode: 'ref' }));
    expect(answer.statusCode).to.equal(204);
    expect(secretConfig(w)?.auths['quay.example.com']?.username).to.equal('openshift_team-a+builder');
  });

  it('docs/qbo-compatibility.md#b10: restores a Secret edited by hand while keeping other actors’ labels and annotations', async () => {
    const w = world();
    const sa = setup(w);
    await deliver(w, apiServerEvent('add', sa));
    const s = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    w.kube.put(Resources.Secret, {
      ...s,
      metadata: {
        ...s?.metadata,
        labels: { ...(s?.metadata.labels as object), team: 'blue' },
        annotations: { note: 'keep me' },
      },
      data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
    });
    await deliver(w, apiServerEvent('update', sa));
    const after = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
    expect(after?.metadata.labels).to.deep.equal({
      'app.kubernetes.io/managed-by': 'quay-bridge',
      team: 'blue',
    });
    expect(after?.metadata.annotations).to.deep.include({ note: 'keep me' });
    expect(after?.metadata.annotations).to.have.property('quay-bridge.quay.redhat.com/ensured');
    expect(secretConfig(w)?.auths['quay.example.com']?.username).to.equal('openshift_team-a+builder');
  });

  it('grants a new robot its role on the namespace’s existing repositories (QBO #109)', async () => {
    const w = world();
    const sa = setup(w);
    w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    w.quay.orgs.get('openshift_team-a')?.repos.set('web', new Map());
    await deliver(w, apiServerEvent('add', sa));
    expect(w.quay.orgs.get('openshift_team-a')?.repos.get('web')?.get('openshift_team-a+builder')).to.equal(
      'write',
    );
  });

  it('grants a new robot on repositories the watch cache did not list yet, by a consistent list, after the link, each once', async () => {
    const w = world();
    const sa = setup(w);
    const org = w.quay.orgs.get('openshift_team-a');
    for (const name of ['web', 'api']) {
      w.kube.put(Resources.ImageStream, imageStream('team-a', name));
      org?.repos.set(name, new Map());
    }
    w.kube.behindCache(Resources.ImageStream, 'team-a', 'api');
    // The grants made by the time the Secret and the link are written.
    const grantedAtWrite: string[][] = [];
    w.kube.onPatch = (ref) => {
      if (ref.type.kind === 'Secret' || ref.type.kind === 'ServiceAccount')
        grantedAtWrite.push(w.quay.calls.filter((c) => c.startsWith('setRepositoryPermission')));
    };
    expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(204);
    for (const name of ['web', 'api'])
      expect(org?.repos.get(name)?.get('openshift_team-a+builder'), name).to.equal('write');
    const lists = w.kube.calls.filter((c) => c.startsWith('list ImageStream'));
    expect(lists).to.deep.equal(['list ImageStream team-a (from cache)', 'list ImageStream team-a']);
    // The cache's ImageStreams are granted before the Secret and the link; what only the consistent list showed,
    // after them: the ServiceAccount is usable without waiting for it.
    expect(grantedAtWrite).to.have.length(2);
    for (const granted of grantedAtWrite) expect(granted.map((c) => c.split(',')[1])).to.deep.equal(['web']);
    const reads = w.quay.calls.filter((c) => c.startsWith('listRepositoryPermissions'));
    expect(reads.filter((c) => c.includes('web'))).to.have.length(1);
    expect(reads.filter((c) => c.includes('api'))).to.have.length(1);
  });

  it('starts the consistent list of ImageStreams once the robot exists, beside its Secret and link, not after them', async () => {
    const w = world();
    const sa = setup(w);
    let before: string[] | undefined;
    const kube: typeof w.env.kube = {
      ...w.kube,
      list: (type, options) => {
        if (type.kind === 'ImageStream' && options?.fromCache !== true) before ??= [...w.kube.calls];
        return w.kube.list(type, options);
      },
    };
    const answer = await makeHandler(serviceAccountStep, () => Promise.resolve({ ...w.env, kube }))({
      cloudevent: apiServerEvent('add', sa),
    });
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.calls.some((c) => c.startsWith('ensureRobot'))).to.equal(true);
    expect(
      before?.filter((c) => c.startsWith('patch Secret') || c.startsWith('patch ServiceAccount')),
    ).to.deep.equal([]);
  });

  it('grants its role on existing repositories to a robot an earlier attempt created (its answer lost: it reads as existing)', async () => {
    const w = world();
    const sa = setup(w);
    w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    const org = w.quay.orgs.get('openshift_team-a');
    org?.repos.set('web', new Map());
    org?.robots.set('openshift_team-a+builder', {
      name: 'openshift_team-a+builder',
      token: 'T'.repeat(64),
      description: '',
    });
    expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(204);
    expect(org?.repos.get('web')?.get('openshift_team-a+builder')).to.equal('write');
  });

  it('links under a resourceVersion lock and redoes the link after a conflict, keeping the other writer’s entry', async () => {
    const w = world();
    const sa = setup(w);
    let once = true;
    w.kube.onPatch = (ref) => {
      if (ref.type.kind !== 'ServiceAccount' || !once) return;
      once = false;
      const current = w.kube.read(Resources.ServiceAccount, 'team-a', 'builder');
      w.kube.put(Resources.ServiceAccount, {
        ...current,
        imagePullSecrets: [{ name: 'builder-dockercfg-1' }],
      });
    };
    await deliver(w, apiServerEvent('add', sa));
    expect(w.kube.read(Resources.ServiceAccount, 'team-a', 'builder')?.imagePullSecrets).to.deep.equal([
      { name: 'builder-dockercfg-1' },
      { name: 'builder-quay-openshift' },
    ]);
  });

  it('ignores ServiceAccounts without a robot, and Secrets that are not robot Secrets', async () => {
    const w = world();
    setup(w);
    const other = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'pipeline'));
    expect((await deliver(w, apiServerEvent('add', other))).statusCode).to.equal(204);
    expect(
      (
        await deliver(
          w,
          apiServerEvent(
            'add',
            { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'team-a' } },
            { mode: 'ref' },
          ),
        )
      ).statusCode,
    ).to.equal(204);
    expect(w.log.lines.map((l) => l.outcome)).to.deep.equal(['ignored', 'ignored']);
    expect(w.quay.orgs.get('openshift_team-a')?.robots.size).to.equal(0);
  });

  it('provisions a configured additional ServiceAccount (QBO #148)', async () => {
    const w = world({ spec: { additionalServiceAccounts: [{ name: 'pipeline', role: 'write' }] } });
    setup(w);
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'pipeline'));
    await deliver(w, apiServerEvent('add', sa));
    expect(w.kube.read(Resources.Secret, 'team-a', 'pipeline-quay-openshift')).to.not.equal(undefined);
    expect(
      w.quay.orgs.get('openshift_team-a')?.prototypes.map((p) => [p.delegate.name, p.role]),
    ).to.deep.equal([['openshift_team-a+pipeline', 'write']]);
  });

  it('names the install file when RBAC refuses a robot Secret (an additional ServiceAccount not listed there)', async () => {
    const w = world({ spec: { additionalServiceAccounts: [{ name: 'pipeline', role: 'write' }] } });
    setup(w);
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'pipeline'));
    const refusal =
      'secrets "pipeline-quay-openshift" is forbidden: User "system:serviceaccount:quay-bridge:quay-bridge-service-account" cannot get resource "secrets"';
    w.kube.failNext('get Secret team-a/', { _tag: 'KubeForbidden', status: 403, message: refusal });
    const answer = await deliver(w, apiServerEvent('add', sa));
    expect(answer.statusCode).to.equal(500);
    const line = w.log.lines.find((l) => l.outcome === 'failed');
    expect(line?.error).to.be.a('string').and.include(refusal);
    expect(line?.error).to.include(
      'knative/base/robot-secrets.yaml: its clusterID must be the QuayIntegration\'s, lowercased, and "pipeline-quay" must be listed for Secret pipeline-quay-openshift',
    );
    expect(w.kube.read(Resources.ServiceAccount, 'team-a', 'pipeline')?.imagePullSecrets).to.equal(undefined);
  });
  describe('own echoes, from memory (docs/design.md#own-echoes)', () => {
    const unavailable = { _tag: 'KubeUnavailable', status: undefined, message: 'connection reset' } as const;
    const stored = <A>(what: string, o: A | undefined): A => {
      if (o === undefined) throw new Error(`no ${what}`);
      return o;
    };
    const linkedOf = (w: TestWorld) =>
      stored('ServiceAccount', w.kube.read(Resources.ServiceAccount, 'team-a', 'builder'));
    const secretOf = (w: TestWorld) =>
      stored('Secret', w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift'));
    /** Delivers and answers the calls it cost (kube and Quay) and its log line's outcome. */
    const costOf = async (w: TestWorld, event: unknown) => {
      const { line, ...cost } = await costOfDelivery(w, deliver, event);
      return { ...cost, outcome: line?.outcome };
    };

    it('processes a ServiceAccount event at another resourceVersion, with another uid, or a delete, at the version it left', async () => {
      const cases: Record<string, (w: TestWorld) => unknown> = {
        'another resourceVersion (a label added)': (w) => {
          const l = linkedOf(w);
          return apiServerEvent(
            'update',
            w.kube.put(Resources.ServiceAccount, {
              ...l,
              metadata: { ...l.metadata, labels: { team: 'blue' } },
            }),
          );
        },
        'another uid (a forged event, or a ServiceAccount made again)': (w) => {
          const l = linkedOf(w);
          return apiServerEvent('update', { ...l, metadata: { ...l.metadata, uid: 'uid-other' } });
        },
        'a delete event': (w) => apiServerEvent('delete', linkedOf(w)),
      };
      for (const [name, eventOf] of Object.entries(cases)) {
        const w = world();
        await deliver(w, apiServerEvent('add', setup(w)));
        const cost = await costOf(w, eventOf(w));
        expect(cost.status, name).to.equal(204);
        expect(cost.calls, name).to.include('get ServiceAccount team-a/builder');
      }
    });

    it('remembers nothing of a reconcile that failed: the event of the version its link left is processed, and finishes the work', async () => {
      const w = world();
      const sa = setup(w);
      w.kube.failNext('patch Secret', unavailable);
      expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(503);
      expect(w.kube.read(Resources.ServiceAccount, 'team-a', 'builder')?.imagePullSecrets).to.deep.equal([
        { name: 'builder-quay-openshift' },
      ]);
      const cost = await costOf(w, apiServerEvent('update', linkedOf(w)));
      expect(cost.status).to.equal(204);
      expect(cost.calls).to.include('patch Secret team-a/builder-quay-openshift apply');
      expect(secretConfig(w)?.auths['quay.example.com']?.username).to.equal('openshift_team-a+builder');
    });

    it('forgets the version a reconcile left once a later one fails: that version is processed again', async () => {
      const w = world();
      await deliver(w, apiServerEvent('add', setup(w)));
      const linked = linkedOf(w);
      // The Secret edited by hand; the reconcile its event starts fails on the API server.
      unstamp(w);
      w.kube.failNext('patch Secret', unavailable);
      expect((await deliver(w, apiServerEvent('update', secretOf(w), { mode: 'ref' }))).statusCode).to.equal(
        503,
      );
      const cost = await costOf(w, apiServerEvent('update', linked));
      expect(cost.calls).to.include('patch Secret team-a/builder-quay-openshift apply');
      expect(cost.outcome).to.equal('updated');
    });

    it('expects one add for the Secret it created: a second add, an update and a delete are processed', async () => {
      const w = world();
      await deliver(w, apiServerEvent('add', setup(w)));
      const secret = secretOf(w);
      expect(await costOf(w, apiServerEvent('add', secret, { mode: 'ref' }))).to.deep.equal({
        status: 204,
        calls: [],
        outcome: 'unchanged',
      });
      for (const action of ['add', 'update', 'delete'] as const)
        expect((await costOf(w, apiServerEvent(action, secret, { mode: 'ref' }))).calls, action).to.include(
          'get Secret team-a/builder-quay-openshift',
        );
    });

    it('expects an update for the Secret it patched, and an add for one it labelled (the source selects by label)', async () => {
      const cases = [
        ['update', unstamp],
        [
          'add',
          (w: TestWorld) => {
            const s = w.kube.read(Resources.Secret, 'team-a', 'builder-quay-openshift');
            w.kube.put(Resources.Secret, { ...s, metadata: { ...s?.metadata, annotations: {}, labels: {} } });
          },
        ],
      ] as const;
      for (const [action, edit] of cases) {
        const w = world();
        const sa = setup(w);
        await deliver(w, apiServerEvent('add', sa));
        expect((await costOf(w, apiServerEvent('add', secretOf(w), { mode: 'ref' }))).calls).to.deep.equal(
          [],
        );
        edit(w);
        // The ServiceAccount's event as it was before the link (not the version remembered): processed, it writes.
        expect((await costOf(w, apiServerEvent('update', sa))).calls).to.include(
          'patch Secret team-a/builder-quay-openshift apply',
        );
        const other = action === 'add' ? 'update' : 'add';
        expect(
          (await costOf(w, apiServerEvent(other, secretOf(w), { mode: 'ref' }))).calls,
          other,
        ).to.not.deep.equal([]);
        expect(
          (await costOf(w, apiServerEvent(action, secretOf(w), { mode: 'ref' }))).calls,
          action,
        ).to.deep.equal([]);
      }
    });

    it('takes the expectation back when the Secret write fails', async () => {
      const w = world();
      const sa = setup(w);
      w.kube.failNext('patch Secret', unavailable);
      expect((await deliver(w, apiServerEvent('add', sa))).statusCode).to.equal(503);
      const made = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'builder-quay-openshift', namespace: 'team-a' },
      };
      expect((await costOf(w, apiServerEvent('add', made, { mode: 'ref' }))).calls).to.include(
        'get Secret team-a/builder-quay-openshift',
      );
    });

    it('leaves a Secret edited by hand to its own event when a ServiceAccount event shows the version it left', async () => {
      const w = world();
      await deliver(w, apiServerEvent('add', setup(w)));
      unstamp(w);
      expect((await costOf(w, apiServerEvent('update', linkedOf(w)))).calls).to.deep.equal([]);
      expect(secretOf(w).metadata.annotations).to.deep.equal({});
      expect((await costOf(w, apiServerEvent('update', secretOf(w), { mode: 'ref' }))).outcome).to.equal(
        'updated',
      );
      expect(secretOf(w).metadata.annotations).to.have.property('quay-bridge.quay.redhat.com/ensured');
    });

    it('repairs a hand edit whose event took the place of its own write’s: the echo, coming later, is processed', async () => {
      const w = world();
      await deliver(w, apiServerEvent('add', setup(w)));
      await deliver(w, apiServerEvent('add', secretOf(w), { mode: 'ref' }));
      // The Secret loses its stamp; its event makes the step patch it (an update expected), and a hand edit follows.
      unstamp(w);
      expect((await costOf(w, apiServerEvent('update', secretOf(w), { mode: 'ref' }))).outcome).to.equal(
        'updated',
      );
      w.kube.put(Resources.Secret, {
        ...secretOf(w),
        data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
      });
      // The hand edit's event comes first and is taken for the echo; the echo comes later, reads the edit, repairs it.
      expect((await costOf(w, apiServerEvent('update', secretOf(w), { mode: 'ref' }))).calls).to.deep.equal(
        [],
      );
      expect((await costOf(w, apiServerEvent('update', secretOf(w), { mode: 'ref' }))).outcome).to.equal(
        'updated',
      );
      expect(secretConfig(w)?.auths['quay.example.com']?.username).to.equal('openshift_team-a+builder');
    });

    describe('after the TTL', () => {
      let clock: sinon.SinonFakeTimers;
      beforeEach(() => {
        clock = sinon.useFakeTimers({ now: Date.parse('2026-11-25T10:00:00Z'), toFake: ['Date'] });
      });
      afterEach(() => {
        clock.restore();
      });

      it('no longer waits for the echo of its Secret write: the event is processed', async () => {
        const w = world();
        await deliver(w, apiServerEvent('add', setup(w)));
        clock.tick(EXPECTED_ECHO_TTL_MS);
        expect((await costOf(w, apiServerEvent('add', secretOf(w), { mode: 'ref' }))).calls).to.include(
          'get Secret team-a/builder-quay-openshift',
        );
      });
    });
  });
});
