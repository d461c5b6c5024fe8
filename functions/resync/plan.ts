// The pure half of the resync: group what the API server listed by namespace, find the organizations whose
// namespace is gone, and decide whether a QuayIntegration event is worth a resync at all.
import * as O from 'fp-ts/lib/Option.js';
import type { ObjectEvent } from '../../shared/events/envelope.js';
import type { ImageStream, Namespace, ServiceAccount } from '../../shared/kube/objects.js';
import type { NotOurs } from '../../shared/errors.js';
import { byCodeUnits, namespaceOfOrganization } from '../../shared/names.js';
import type { Report } from '../../shared/runtime/report.js';
import { resyncRequestOf } from '../../shared/settings/load.js';

export interface NamespaceWork {
  readonly namespace: Namespace;
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly imageStreams: readonly ImageStream[];
}

export const groupByNamespace = (
  namespaces: readonly Namespace[],
  serviceAccounts: readonly ServiceAccount[],
  imageStreams: readonly ImageStream[],
): readonly NamespaceWork[] => {
  const byNs = <A extends { readonly metadata: { readonly namespace: string } }>(items: readonly A[]) => {
    const m = new Map<string, A[]>();
    for (const i of items) m.set(i.metadata.namespace, [...(m.get(i.metadata.namespace) ?? []), i]);
    return m;
  };
  const sas = byNs(serviceAccounts);
  const iss = byNs(imageStreams);
  return [...namespaces]
    .sort((a, b) => byCodeUnits(a.metadata.name, b.metadata.name))
    .map((namespace) => ({
      namespace,
      serviceAccounts: sas.get(namespace.metadata.name) ?? [],
      imageStreams: iss.get(namespace.metadata.name) ?? [],
    }));
};

/**
 * Organizations with this cluster's prefix whose namespace is not in the list. A prefix proves nothing (clusterIDs
 * that differ only in case share one, an organizationPrefix may equal another cluster's clusterID): each candidate is
 * confirmed with a GET of the namespace (404) and of the organization (this cluster's mark) before deletion; one
 * without this cluster's prefix is never a candidate.
 */
export const orphanCandidates = (
  prefix: string,
  organizations: readonly string[],
  namespaces: ReadonlySet<string>,
): readonly { readonly org: string; readonly namespace: string }[] =>
  organizations.flatMap((org) => {
    const namespace = namespaceOfOrganization(prefix, org);
    return namespace !== undefined && !namespaces.has(namespace) ? [{ org, namespace }] : [];
  });

interface QuayIntegrationLike {
  readonly metadata?: { readonly generation?: number };
  readonly status?: { readonly conditions?: readonly { readonly observedGeneration?: number }[] };
}

/**
 * A QuayIntegration update whose conditions already observed its generation is the bridge's own status write (or a
 * label change): resyncing for it would only loop. Every other event (add, delete, spec change, Ping) resyncs, and
 * so does an update that carries a resync request (annotation) not handled yet: not in the event's copy of the
 * status, nor in `handledNow` (status.lastResyncRequest as read afresh, when the caller has it).
 */
export const isStatusOnlyChange = (event: ObjectEvent<unknown>, handledNow?: string): boolean => {
  if (event.kind !== 'QuayIntegration' || event.action !== 'update' || O.isNone(event.object)) return false;
  const qi = event.object.value as QuayIntegrationLike;
  const generation = qi.metadata?.generation;
  const conditions = qi.status?.conditions ?? [];
  const { resyncRequested, lastResyncRequest } = resyncRequestOf(qi);
  return (
    generation !== undefined &&
    conditions.length > 0 &&
    conditions.every((c) => c.observedGeneration === generation) &&
    (resyncRequested === undefined || resyncRequested === lastResyncRequest || resyncRequested === handledNow)
  );
};

export interface Tally {
  readonly namespaces: number;
  readonly serviceAccounts: number;
  readonly imageStreams: number;
  readonly changed: number;
  readonly failed: number;
  readonly refused: number;
  readonly swept: number;
  /** Namespaces with at least one failed object. */
  readonly namespacesFailed: number;
  readonly failures: readonly string[];
  /** Organizations found not this cluster's (reported on the QuayIntegration and their Namespaces). */
  readonly notOurs: readonly NotOurs[];
  /** Events about the objects the pass changed (the first MAX_PASS_REPORTS; the counts are on the QuayIntegration). */
  readonly reports: readonly Report[];
}

export const MAX_PASS_REPORTS = 200;

export const emptyTally: Tally = {
  namespaces: 0,
  serviceAccounts: 0,
  imageStreams: 0,
  changed: 0,
  failed: 0,
  refused: 0,
  swept: 0,
  namespacesFailed: 0,
  failures: [],
  notOurs: [],
  reports: [],
};

export const addTallies = (a: Tally, b: Tally): Tally => ({
  namespaces: a.namespaces + b.namespaces,
  serviceAccounts: a.serviceAccounts + b.serviceAccounts,
  imageStreams: a.imageStreams + b.imageStreams,
  changed: a.changed + b.changed,
  failed: a.failed + b.failed,
  refused: a.refused + b.refused,
  swept: a.swept + b.swept,
  namespacesFailed: a.namespacesFailed + b.namespacesFailed,
  reports:
    a.reports.length + b.reports.length <= MAX_PASS_REPORTS
      ? [...a.reports, ...b.reports]
      : [...a.reports, ...b.reports].slice(0, MAX_PASS_REPORTS),
  failures: [...a.failures, ...b.failures].slice(0, 5),
  notOurs: [...a.notOurs, ...b.notOurs].slice(0, MAX_NOT_OURS),
});

/** Enough to report; the rest show up in the next pass once these are dealt with. */
const MAX_NOT_OURS = 100;
