import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { Secret, ServiceAccount } from '../../../shared/kube/objects.js';
import type { Prototype } from '../../../shared/quay/types.js';
import {
  decodeQuayIntegration,
  resolveSettings,
  type Settings,
} from '../../../shared/settings/quay-integration.js';
import {
  defaultPermissionNeedsFix,
  desiredSecret,
  ensuredInCluster,
  dockerConfig,
  planLinks,
  planSecret,
  planServiceAccount,
  secretApplyBody,
  type RobotTarget,
} from '../../../shared/sync/robot-plan.js';
import { serviceAccountOfSecret } from '../../../functions/service-account/plan.js';
import { quayIntegration } from '../shared/fakes/env.js';

const settingsOf = (spec: Record<string, unknown> = {}): Settings => {
  const s = E.flatMap(resolveSettings)(decodeQuayIntegration(quayIntegration(spec)));
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};
const sa = (name: string, extra: Partial<ServiceAccount> = {}): ServiceAccount => ({
  metadata: { name, namespace: 'team-a', uid: `uid-${name}` },
  ...extra,
});
const ns = { metadata: { name: 'team-a', finalizers: ['quay.redhat.com/quayintegrations'] } };
const proto = (name: string, role: 'read' | 'write' | 'admin', id = name + role): Prototype => ({
  id,
  role,
  delegate: { kind: 'user', name, isRobot: true },
});

describe('service-account plan', () => {
  const cases = [
    { sa: 'builder', want: 'Reconcile', role: 'write' },
    { sa: 'default', want: 'Reconcile', role: 'read' },
    { sa: 'deployer', want: 'Reconcile', role: 'read' },
    { sa: 'pipeline', want: 'Ignore' },
    {
      sa: 'pipeline',
      spec: { additionalServiceAccounts: [{ name: 'pipeline', role: 'write' }] },
      want: 'Reconcile',
      role: 'write',
    },
    {
      sa: 'deployer',
      spec: { additionalServiceAccounts: [{ name: 'deployer', role: 'admin' }] },
      want: 'Reconcile',
      role: 'admin',
    },
  ] as const;
  for (const c of cases)
    it(`${c.sa}${'spec' in c ? ' (configured)' : ''} → ${c.want}${'role' in c ? ` with role ${c.role}` : ''}`, () => {
      const plan = planServiceAccount(
        { namespaceName: 'team-a', name: c.sa, serviceAccount: O.some(sa(c.sa)), namespace: O.some(ns) },
        settingsOf('spec' in c ? c.spec : {}),
      );
      expect(plan._tag).to.equal(c.want);
      if (plan._tag === 'Reconcile' && 'role' in c) expect(plan.target.role).to.equal(c.role);
    });

  it('names the robot <org>+<sa> and the Secret <sa>-quay-<lowercased clusterID> (docs/qbo-compatibility.md#b3)', () => {
    const plan = planServiceAccount(
      {
        namespaceName: 'team-a',
        name: 'builder',
        serviceAccount: O.some(sa('builder')),
        namespace: O.some(ns),
      },
      settingsOf({ clusterID: 'East', quayHostname: 'https://quay.example.com:8443' }),
    );
    expect(plan._tag).to.equal('Reconcile');
    if (plan._tag !== 'Reconcile') return;
    expect(plan.target).to.include({
      org: 'east_team-a',
      robotName: 'east_team-a+builder',
      secretName: 'builder-quay-east',
      registryHost: 'quay.example.com:8443',
      finalizerNeeded: false,
    });
  });

  it('ignores a ServiceAccount that is gone, or being deleted, and one in a namespace out of scope or going', () => {
    const builder = O.some(sa('builder'));
    const cases: [string, Parameters<typeof planServiceAccount>[0]][] = [
      ['gone', { namespaceName: 'team-a', name: 'builder', serviceAccount: O.none, namespace: O.some(ns) }],
      [
        'being deleted',
        {
          namespaceName: 'team-a',
          name: 'builder',
          serviceAccount: O.some(
            sa('builder', { metadata: { name: 'builder', namespace: 'team-a', deletionTimestamp: 'x' } }),
          ),
          namespace: O.some(ns),
        },
      ],
      [
        'out of scope',
        {
          namespaceName: 'kube-system',
          name: 'builder',
          serviceAccount: builder,
          namespace: O.some({ metadata: { name: 'kube-system' } }),
        },
      ],
      [
        'its namespace going',
        {
          namespaceName: 'team-a',
          name: 'builder',
          serviceAccount: builder,
          namespace: O.some({ metadata: { ...ns.metadata, deletionTimestamp: 'x' } }),
        },
      ],
    ];
    for (const [why, observed] of cases)
      expect(planServiceAccount(observed, settingsOf())._tag, why).to.equal('Ignore');
  });

  it('refuses a ServiceAccount whose name Quay would refuse as a robot name', () => {
    const plan = planServiceAccount(
      { namespaceName: 'team-a', name: 'a--b', serviceAccount: O.some(sa('a--b')), namespace: O.some(ns) },
      settingsOf({ additionalServiceAccounts: [{ name: 'a--b', role: 'read' }] }),
    );
    expect(plan._tag).to.equal('Refuse');
  });

  it('maps a robot Secret back to its ServiceAccount, and nothing else', () => {
    const s = settingsOf({ clusterID: 'East' });
    expect(serviceAccountOfSecret('builder-quay-east', s)).to.equal('builder');
    expect(serviceAccountOfSecret('builder-quay-west', s)).to.equal(undefined);
    expect(serviceAccountOfSecret('pipeline-quay-east', s)).to.equal(undefined);
    expect(serviceAccountOfSecret('-quay-east', s)).to.equal(undefined);
  });

  describe('default permission (docs/qbo-compatibility.md#b9)', () => {
    const robot = 'openshift_team-a+builder';
    const table: readonly [string, readonly Prototype[], boolean][] = [
      ['none yet', [], true],
      ['exactly one with the role', [proto(robot, 'write')], false],
      [
        'docs/qbo-compatibility.md#b9: fixes a wrong-role prototype instead of adding a second',
        [proto(robot, 'read')],
        true,
      ],
      ['two with the role (a retried POST)', [proto(robot, 'write', 'a'), proto(robot, 'write', 'b')], true],
      ['only another robot’s', [proto('openshift_team-a+default', 'write')], true],
      [
        'one restricted to an activating user does not count',
        [{ ...proto(robot, 'write'), activatingUser: 'someone' }],
        true,
      ],
      [
        'a team prototype with the same name does not count',
        [{ id: 't', role: 'write', delegate: { kind: 'team', name: robot } }],
        true,
      ],
    ];
    for (const [name, prototypes, fix] of table)
      it(`${name} → ${fix ? 'ensure' : 'leave'}`, () => {
        expect(defaultPermissionNeedsFix(prototypes, robot, 'write')).to.equal(fix);
      });
  });

  describe('robot Secret', () => {
    const target = {
      serviceAccount: sa('builder'),
      secretName: 'builder-quay-openshift',
      registryHost: 'quay.example.com:8443',
    } as RobotTarget;
    const robot = { name: 'openshift_team-a+builder', token: 'T0KEN', description: '' };
    const desired = desiredSecret(target, robot);
    const stored = (over: Partial<Secret> = {}): Secret => {
      const body = secretApplyBody(desired) as Secret;
      return { ...body, ...over, metadata: { ...body.metadata, uid: 's1', ...over.metadata } };
    };

    it('writes QBO’s auth plus username and password for host[:port]', () => {
      const auth = dockerConfig('quay.example.com:8443', robot).auths['quay.example.com:8443'];
      expect(auth).to.deep.equal({
        auth: Buffer.from('openshift_team-a+builder:T0KEN').toString('base64'),
        username: 'openshift_team-a+builder',
        password: 'T0KEN',
      });
    });

    it('is labelled managed-by quay-bridge, owned by the ServiceAccount, typed dockerconfigjson', () => {
      expect(secretApplyBody(desired)).to.deep.include({
        type: 'kubernetes.io/dockerconfigjson',
        metadata: {
          name: 'builder-quay-openshift',
          namespace: 'team-a',
          labels: { 'app.kubernetes.io/managed-by': 'quay-bridge' },
          annotations: { 'quay-bridge.quay.redhat.com/ensured': desired.stamp },
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ServiceAccount', name: 'builder', uid: 'uid-builder' },
          ],
        },
      });
    });

    const table: readonly [string, O.Option<Secret>, string][] = [
      ['missing → apply', O.none, 'Apply'],
      ['identical → unchanged', O.some(stored()), 'Unchanged'],
      [
        'identical with other actors’ labels and annotations → unchanged (docs/qbo-compatibility.md#b10)',
        O.some(
          stored({
            metadata: {
              name: 'builder-quay-openshift',
              namespace: 'team-a',
              labels: { 'app.kubernetes.io/managed-by': 'quay-bridge', team: 'x' },
              annotations: { a: 'b', 'quay-bridge.quay.redhat.com/ensured': desired.stamp },
              ownerReferences: [
                { apiVersion: 'v1', kind: 'ServiceAccount', name: 'builder', uid: 'uid-builder' },
              ],
            },
          }),
        ),
        'Unchanged',
      ],
      [
        'edited by hand (another token) → apply',
        O.some(stored({ data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') } })),
        'Apply',
      ],
      [
        'QBO’s auth-only Secret → apply once',
        O.some(
          stored({
            data: {
              '.dockerconfigjson': Buffer.from(
                JSON.stringify({
                  auths: {
                    'quay.example.com:8443': { auth: desired.config.auths['quay.example.com:8443']?.auth },
                  },
                }),
              ).toString('base64'),
            },
          }),
        ),
        'Apply',
      ],
      ['not JSON → apply', O.some(stored({ data: { '.dockerconfigjson': 'bm90IGpzb24=' } })), 'Apply'],
      [
        'owned by a former ServiceAccount of the same name → apply',
        O.some(
          stored({
            metadata: {
              name: 'builder-quay-openshift',
              namespace: 'team-a',
              labels: { 'app.kubernetes.io/managed-by': 'quay-bridge' },
              ownerReferences: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'builder', uid: 'old' }],
            },
          }),
        ),
        'Apply',
      ],
      ['an Opaque Secret of that name → replace', O.some(stored({ type: 'Opaque' })), 'Replace'],
    ];
    for (const [name, existing, want] of table)
      it(name, () => {
        expect(planSecret(existing, desired)._tag).to.equal(want);
      });
  });

  describe("the bridge's own echo, told from the cluster alone (ensuredInCluster)", () => {
    const linkedSa = {
      ...sa('builder'),
      secrets: [{ name: 'builder-quay-openshift' }],
      imagePullSecrets: [{ name: 'builder-quay-openshift' }],
    };
    const target = {
      serviceAccount: linkedSa,
      org: 'openshift_team-a',
      robotName: 'openshift_team-a+builder',
      role: 'write',
      secretName: 'builder-quay-openshift',
      registryHost: 'quay.example.com',
      finalizerNeeded: false,
    } as unknown as RobotTarget;
    const robot = { name: 'openshift_team-a+builder', token: 'T0KEN', description: '' };
    const secret = (t: RobotTarget = target, r = robot): Secret =>
      secretApplyBody(desiredSecret(t, r)) as Secret;
    const table: readonly [string, RobotTarget, O.Option<Secret>, boolean][] = [
      ['stamped, linked, finalizer in place → echo', target, O.some(secret()), true],
      ['no Secret → ask Quay', target, O.none, false],
      [
        'the namespace lacks our finalizer → ask Quay',
        { ...target, finalizerNeeded: true },
        O.some(secret()),
        false,
      ],
      [
        'not linked from the ServiceAccount → ask Quay',
        { ...target, serviceAccount: sa('builder') },
        O.some(secret()),
        false,
      ],
      ['stamped for another role → ask Quay', target, O.some(secret({ ...target, role: 'read' })), false],
      [
        'another robot’s credentials, stamped for them → ask Quay',
        target,
        O.some(
          secret(
            { ...target, robotName: 'openshift_team-b+builder' },
            { ...robot, name: 'openshift_team-b+builder' },
          ),
        ),
        false,
      ],
      [
        'credentials edited after the stamp → ask Quay',
        target,
        O.some({
          ...secret(),
          data: {
            '.dockerconfigjson': Buffer.from(
              '{"auths":{"quay.example.com":{"username":"openshift_team-a+builder","password":"X","auth":"X"}}}',
            ).toString('base64'),
          },
        }),
        false,
      ],
    ];
    for (const [name, t, stored, echo] of table)
      it(name, () => {
        expect(O.isSome(ensuredInCluster(t, stored))).to.equal(echo);
      });
  });

  describe('links', () => {
    it('adds the Secret to secrets and imagePullSecrets, keeping every other entry as it is', () => {
      const patch = planLinks(
        sa('builder', {
          secrets: [{ name: 'builder-dockercfg-x' }],
          imagePullSecrets: [{ name: 'builder-dockercfg-x', extra: 1 } as { name: string }],
        }),
        'builder-quay-openshift',
      );
      expect(patch).to.deep.equal(
        O.some({
          secrets: [{ name: 'builder-dockercfg-x' }, { name: 'builder-quay-openshift' }],
          imagePullSecrets: [{ name: 'builder-dockercfg-x', extra: 1 }, { name: 'builder-quay-openshift' }],
        }),
      );
    });
    it('touches only the list that lacks it, and nothing when both have it', () => {
      expect(planLinks(sa('b', { secrets: [{ name: 's' }], imagePullSecrets: null }), 's')).to.deep.equal(
        O.some({ imagePullSecrets: [{ name: 's' }] }),
      );
      expect(
        planLinks(sa('b', { secrets: [{ name: 's' }], imagePullSecrets: [{ name: 's' }] }), 's'),
      ).to.deep.equal(O.none);
    });
  });
});
