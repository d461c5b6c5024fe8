// What to do about one Namespace, decided purely from its current state (re-read, never the event's copy), the
// event's action, and the settings. QBO's order of checks is what made namespaces hang in Terminating (docs/qbo-compatibility.md#b4, docs/qbo-compatibility.md#b11):
// here deletion and leaving scope are decided before anything that needs Quay, and a namespace always gets its
// finalizer back.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { Action } from '../events/envelope.js';
import type { NotConfigured } from '../errors.js';
import type { Namespace } from '../kube/objects.js';
import {
  isAllowedNamespace,
  LEGACY_NAMESPACE_FINALIZER,
  NAMESPACE_FINALIZER,
  ORGANIZATION_ANNOTATION,
  organizationName,
  organizationStamp,
} from '../names.js';
import type { Settings } from '../settings/quay-integration.js';

export type NamespacePlan =
  | { readonly _tag: 'Ignore'; readonly reason: string }
  /** Add our finalizer (first, so that no organization exists without one), then ensure the organization. */
  | {
      readonly _tag: 'Provision';
      readonly namespace: Namespace;
      readonly org: string;
      readonly addFinalizer: boolean;
      /** The legacy redhatcop.redhat.io finalizer is replaced by ours. */
      readonly dropLegacyFinalizer: boolean;
      /** ORGANIZATION_ANNOTATION's value for this organization on this Quay. */
      readonly stamp: string;
      /** The namespace carries that stamp and our finalizer: the organization was ensured, Quay is not asked. */
      readonly ensured: boolean;
    }
  /** Terminating: delete the organization, then remove our finalizers. */
  | { readonly _tag: 'Finalize'; readonly namespace: Namespace; readonly org: string }
  /** Remove our finalizers and leave the organization alone (out of scope, or nothing we can do with Quay). */
  | { readonly _tag: 'Release'; readonly namespace: Namespace; readonly reason: string }
  /** The organization name would be invalid: reported, never retried; our finalizers are released first. */
  | { readonly _tag: 'Refuse'; readonly namespace: Namespace | undefined; readonly message: string };

export interface NamespaceObservation {
  readonly name: string;
  /** The namespace as re-read now; none after a 404. */
  readonly current: O.Option<Namespace>;
  /**
   * The action of the event that brought us here; undefined when not driven by an event (resync). It never decides
   * a deletion: anyone who can reach the broker or the step can post "delete" (docs: functions/README.md).
   */
  readonly action: Action | undefined;
}

export const OUR_FINALIZERS: readonly string[] = [NAMESPACE_FINALIZER, LEGACY_NAMESPACE_FINALIZER];

export const ourFinalizers = (ns: Namespace): readonly string[] =>
  (ns.metadata.finalizers ?? []).filter((f) => OUR_FINALIZERS.includes(f));

const scopeOf = (
  name: string,
  settings: Settings,
):
  | { readonly _tag: 'Out'; readonly reason: string }
  | { readonly _tag: 'Invalid'; readonly message: string }
  | { readonly _tag: 'In'; readonly org: string } => {
  if (!isAllowedNamespace(name, settings))
    return {
      _tag: 'Out',
      reason: `namespace ${name} is not in scope (allow/deny lists, or denied by default)`,
    };
  const org = organizationName(settings.organizationPrefix, name);
  return E.isLeft(org) ? { _tag: 'Invalid', message: org.left.message } : { _tag: 'In', org: org.right };
};

export const planNamespace = (
  observed: NamespaceObservation,
  settings: E.Either<NotConfigured, Settings>,
): NamespacePlan => {
  const { name, current, action } = observed;
  // A namespace that is not there proves nothing about its organization, whatever the event says: the resync's
  // orphan sweep deletes an organization only when it carries this cluster's mark and its namespace is gone.
  if (O.isNone(current))
    return {
      _tag: 'Ignore',
      reason: `namespace ${name} does not exist${action === 'delete' ? ' (its organization is left to the orphan sweep)' : ''}`,
    };
  const ns = current.value;
  const ours = ourFinalizers(ns);
  if (ns.metadata.deletionTimestamp !== undefined) {
    if (ours.length === 0)
      return { _tag: 'Ignore', reason: `namespace ${name} is terminating without our finalizer` };
    // docs/qbo-compatibility.md#b4: without settings there is no way to reach Quay; holding the namespace in Terminating would not help.
    if (E.isLeft(settings))
      return {
        _tag: 'Release',
        namespace: ns,
        reason: `${settings.left.message}: the organization is left to the resync's orphan sweep`,
      };
    const scope = scopeOf(name, settings.right);
    switch (scope._tag) {
      case 'Out':
        return { _tag: 'Release', namespace: ns, reason: scope.reason };
      case 'Invalid':
        return { _tag: 'Release', namespace: ns, reason: scope.message };
      case 'In':
        return { _tag: 'Finalize', namespace: ns, org: scope.org };
    }
  }
  if (E.isLeft(settings)) return { _tag: 'Ignore', reason: settings.left.message };
  const scope = scopeOf(name, settings.right);
  switch (scope._tag) {
    case 'Out':
      // docs/qbo-compatibility.md#b11: QBO left the finalizer on a namespace that left the allow list; its organization stays.
      return ours.length > 0
        ? { _tag: 'Release', namespace: ns, reason: scope.reason }
        : { _tag: 'Ignore', reason: scope.reason };
    case 'Invalid':
      return { _tag: 'Refuse', namespace: ours.length > 0 ? ns : undefined, message: scope.message };
    case 'In': {
      const stamp = organizationStamp(settings.right.quay.registryHost, scope.org);
      const addFinalizer = !ours.includes(NAMESPACE_FINALIZER);
      const dropLegacyFinalizer = ours.includes(LEGACY_NAMESPACE_FINALIZER);
      return {
        _tag: 'Provision',
        namespace: ns,
        org: scope.org,
        addFinalizer,
        dropLegacyFinalizer,
        stamp,
        ensured:
          !addFinalizer &&
          !dropLegacyFinalizer &&
          ns.metadata.annotations?.[ORGANIZATION_ANNOTATION] === stamp,
      };
    }
  }
};

/**
 * Whether objects inside a namespace (ServiceAccounts, ImageStreams) may be provisioned, from the namespace's own
 * plan: `Open` when it would be provisioned (with its organization, and whether our finalizer is still to be added),
 * else what the object's plan answers: ignored while the namespace goes or is out of scope, refused when its
 * organization name is invalid.
 */
export type NamespaceGate =
  | { readonly _tag: 'Ignore'; readonly reason: string }
  | { readonly _tag: 'Refuse'; readonly message: string }
  | {
      readonly _tag: 'Open';
      readonly namespace: Namespace;
      readonly org: string;
      /** The namespace still lacks our finalizer (or has only the legacy one). */
      readonly finalizerNeeded: boolean;
    };

export const namespaceGate = (
  name: string,
  namespace: O.Option<Namespace>,
  settings: Settings,
): NamespaceGate => {
  const plan = planNamespace({ name, current: namespace, action: undefined }, E.right(settings));
  switch (plan._tag) {
    case 'Ignore':
      return plan;
    case 'Refuse':
      return { _tag: 'Refuse', message: plan.message };
    case 'Finalize':
    case 'Release':
      return { _tag: 'Ignore', reason: `namespace ${name} is being deleted or left scope` };
    case 'Provision':
      return {
        _tag: 'Open',
        namespace: plan.namespace,
        org: plan.org,
        finalizerNeeded: plan.addFinalizer || plan.dropLegacyFinalizer,
      };
  }
};

/** metadata.finalizers with ours in place of the legacy one (order kept), or with both removed. */
export const finalizersAfter = (ns: Namespace, change: 'provision' | 'release'): readonly string[] => {
  const all = ns.metadata.finalizers ?? [];
  if (change === 'release') return all.filter((f) => !OUR_FINALIZERS.includes(f));
  const replaced = all.map((f) => (f === LEGACY_NAMESPACE_FINALIZER ? NAMESPACE_FINALIZER : f));
  const unique = replaced.filter((f, i) => replaced.indexOf(f) === i);
  return unique.includes(NAMESPACE_FINALIZER) ? unique : [...unique, NAMESPACE_FINALIZER];
};
