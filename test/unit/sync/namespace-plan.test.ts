import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { NotConfigured } from '../../../shared/errors.js';
import type { Namespace } from '../../../shared/kube/objects.js';
import {
  decodeQuayIntegration,
  resolveSettings,
  type Settings,
} from '../../../shared/settings/quay-integration.js';
import {
  finalizersAfter,
  namespaceGate,
  planNamespace,
  type NamespaceGate,
  type NamespacePlan,
} from '../../../shared/sync/namespace-plan.js';
import { quayIntegration } from '../shared/fakes/env.js';

const settingsOf = (spec: Record<string, unknown> = {}): Settings => {
  const s = E.flatMap(resolveSettings)(decodeQuayIntegration(quayIntegration(spec)));
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};
const ours = 'quay.redhat.com/quayintegrations';
const legacy = 'redhatcop.redhat.io/quayintegrations';
const ns = (name: string, finalizers?: string[], deleting = false): Namespace => ({
  metadata: {
    name,
    ...(finalizers === undefined ? {} : { finalizers }),
    ...(deleting ? { deletionTimestamp: '2026-11-25T10:00:00Z' } : {}),
  },
});
const notConfigured: NotConfigured = {
  _tag: 'NotConfigured',
  reason: 'NoQuayIntegration',
  message: 'no QuayIntegration exists',
};

const tagOf = (p: NamespacePlan): string => p._tag;

describe('namespace plan', () => {
  const cases: readonly {
    readonly it: string;
    readonly current: O.Option<Namespace>;
    readonly name?: string;
    readonly action?: 'add' | 'update' | 'delete';
    readonly settings?: E.Either<NotConfigured, Settings>;
    readonly want: NamespacePlan['_tag'];
    readonly org?: string;
  }[] = [
    {
      it: 'provisions an ordinary namespace as <clusterID>_<namespace>',
      current: O.some(ns('team-a')),
      want: 'Provision',
      org: 'openshift_team-a',
    },
    {
      it: 'ignores default, openshift, management-infra, openshift-* and kube-* by default',
      current: O.some(ns('openshift-monitoring')),
      want: 'Ignore',
    },
    { it: 'ignores kube-system by default', current: O.some(ns('kube-system')), want: 'Ignore' },
    { it: 'ignores "default" by default', current: O.some(ns('default')), want: 'Ignore' },
    {
      it: 'provisions a default-denied namespace that the allow list names',
      current: O.some(ns('openshift-foo')),
      settings: E.right(settingsOf({ allowlistNamespaces: ['openshift-foo'] })),
      want: 'Provision',
    },
    {
      it: 'ignores a namespace outside a non-empty allow list',
      current: O.some(ns('team-b')),
      settings: E.right(settingsOf({ allowlistNamespaces: ['team-a'] })),
      want: 'Ignore',
    },
    {
      it: 'lets the deny list win over the allow list',
      current: O.some(ns('team-a')),
      settings: E.right(settingsOf({ allowlistNamespaces: ['team-a'], denylistNamespaces: ['team-a'] })),
      want: 'Ignore',
    },
    {
      it: 'uses organizationPrefix when set',
      current: O.some(ns('team-a')),
      settings: E.right(settingsOf({ organizationPrefix: 'Prod' })),
      want: 'Provision',
      org: 'prod_team-a',
    },
    {
      it: 'lowercases the clusterID in the organization name',
      current: O.some(ns('team-a')),
      settings: E.right(settingsOf({ clusterID: 'East' })),
      want: 'Provision',
      org: 'east_team-a',
    },
    {
      it: 'finalizes a terminating namespace that carries our finalizer',
      current: O.some(ns('team-a', [ours], true)),
      want: 'Finalize',
      org: 'openshift_team-a',
    },
    {
      it: 'finalizes a terminating namespace that carries only the legacy finalizer',
      current: O.some(ns('team-a', [legacy], true)),
      want: 'Finalize',
    },
    {
      it: 'ignores a terminating namespace without our finalizer',
      current: O.some(ns('team-a', ['other'], true)),
      want: 'Ignore',
    },
    {
      it: 'docs/qbo-compatibility.md#b4: releases a terminating namespace when there is no QuayIntegration instead of hanging',
      current: O.some(ns('team-a', [ours], true)),
      settings: E.left(notConfigured),
      want: 'Release',
    },
    {
      it: 'docs/qbo-compatibility.md#b4: releases a terminating namespace that left the allow list (the allow check does not come first)',
      current: O.some(ns('team-a', [ours], true)),
      settings: E.right(settingsOf({ denylistNamespaces: ['team-a'] })),
      want: 'Release',
    },
    {
      it: 'docs/qbo-compatibility.md#b11: releases the finalizer of a live namespace that left scope, and leaves its organization alone',
      current: O.some(ns('team-a', [ours])),
      settings: E.right(settingsOf({ allowlistNamespaces: ['team-b'] })),
      want: 'Release',
    },
    {
      it: 'ignores a live namespace when not configured (no hot loop, docs/qbo-compatibility.md#b2)',
      current: O.some(ns('team-a')),
      settings: E.left(notConfigured),
      want: 'Ignore',
    },
    {
      it: 'never deletes on a delete event: a namespace that is not there proves nothing (the orphan sweep decides)',
      current: O.none,
      action: 'delete',
      want: 'Ignore',
    },
    {
      it: 'never deletes on a delete event for a namespace that exists and is not terminating',
      current: O.some(ns('team-a', [ours])),
      action: 'delete',
      want: 'Provision',
      org: 'openshift_team-a',
    },
    {
      it: 'ignores a 404 on re-read after an add or update event',
      current: O.none,
      action: 'update',
      want: 'Ignore',
    },
    {
      it: 'never deletes the organization of a gone namespace that was not in scope',
      current: O.none,
      name: 'kube-public',
      action: 'delete',
      want: 'Ignore',
    },
    {
      it: 'refuses a namespace whose organization name would be too long for Quay',
      current: O.some(ns('x'.repeat(250))),
      name: 'x'.repeat(250),
      want: 'Refuse',
    },
  ];
  for (const c of cases)
    it(c.it, () => {
      const plan = planNamespace(
        {
          name: c.name ?? (O.isSome(c.current) ? c.current.value.metadata.name : 'team-a'),
          current: c.current,
          action: c.action ?? 'update',
        },
        c.settings ?? E.right(settingsOf()),
      );
      expect(tagOf(plan), JSON.stringify(plan)).to.equal(c.want);
      if (c.org !== undefined) expect(plan).to.have.property('org', c.org);
    });

  it('asks for the finalizer only when ours is missing, and replaces the legacy one', () => {
    const fresh = planNamespace(
      { name: 'a1', current: O.some(ns('a1')), action: 'add' },
      E.right(settingsOf()),
    );
    const done = planNamespace(
      { name: 'a1', current: O.some(ns('a1', [ours])), action: 'add' },
      E.right(settingsOf()),
    );
    const old = planNamespace(
      { name: 'a1', current: O.some(ns('a1', [legacy])), action: 'add' },
      E.right(settingsOf()),
    );
    expect(fresh).to.include({ _tag: 'Provision', addFinalizer: true, dropLegacyFinalizer: false });
    expect(done).to.include({ _tag: 'Provision', addFinalizer: false, dropLegacyFinalizer: false });
    expect(old).to.include({ _tag: 'Provision', addFinalizer: true, dropLegacyFinalizer: true });
  });

  it('keeps other finalizers and their order', () => {
    expect(finalizersAfter(ns('a', ['x', legacy, 'y']), 'provision')).to.deep.equal(['x', ours, 'y']);
    expect(finalizersAfter(ns('a', ['x']), 'provision')).to.deep.equal(['x', ours]);
    expect(finalizersAfter(ns('a', ['x', ours, legacy, 'y']), 'release')).to.deep.equal(['x', 'y']);
  });

  it('refuses an invalid organization name and asks to release our finalizer if the namespace has it', () => {
    const long = 'y'.repeat(250);
    const plan = planNamespace(
      { name: long, current: O.some(ns(long, [ours])), action: 'update' },
      E.right(settingsOf()),
    );
    expect(plan._tag).to.equal('Refuse');
    if (plan._tag !== 'Refuse') return;
    expect(plan.namespace).to.not.equal(undefined);
    expect(plan.message).to.match(/must be between 2 and 255 characters/);
  });

  describe('the gate of objects inside a namespace (ServiceAccounts, ImageStreams)', () => {
    const gates: readonly (readonly [string, O.Option<Namespace>, NamespaceGate['_tag'], string])[] = [
      [
        'open for a namespace to provision, our finalizer still needed',
        O.some(ns('team-a')),
        'Open',
        'openshift_team-a finalizer needed',
      ],
      ['open, finalizer in place', O.some(ns('team-a', [ours])), 'Open', 'openshift_team-a'],
      [
        'open, the legacy finalizer to replace',
        O.some(ns('team-a', [legacy])),
        'Open',
        'openshift_team-a finalizer needed',
      ],
      [
        'closed while the namespace is deleted',
        O.some(ns('team-a', [ours], true)),
        'Ignore',
        'namespace team-a is being deleted or left scope',
      ],
      [
        'closed for a namespace that left scope with our finalizer',
        O.some(ns('kube-x', [ours])),
        'Ignore',
        'namespace kube-x is being deleted or left scope',
      ],
      [
        'closed for a namespace out of scope',
        O.some(ns('kube-x')),
        'Ignore',
        'namespace kube-x is not in scope (allow/deny lists, or denied by default)',
      ],
      ['closed for a namespace that is gone', O.none, 'Ignore', 'namespace team-a does not exist'],
      [
        'refused when the organization name is invalid',
        O.some(ns('y'.repeat(250))),
        'Refuse',
        'must be between 2 and 255 characters',
      ],
    ];
    for (const [what, current, tag, detail] of gates)
      it(what, () => {
        const name = O.isSome(current) ? current.value.metadata.name : 'team-a';
        const gate = namespaceGate(name, current, settingsOf());
        expect(gate._tag).to.equal(tag);
        const said =
          gate._tag === 'Open'
            ? `${gate.org}${gate.finalizerNeeded ? ' finalizer needed' : ''}`
            : gate._tag === 'Ignore'
              ? gate.reason
              : gate.message;
        expect(said).to.include(detail);
      });
  });
});
