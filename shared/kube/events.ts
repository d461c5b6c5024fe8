// Kubernetes Events (events.k8s.io/v1) on the objects the bridge acts on, where `kubectl describe` shows them.
// Repeats are aggregated as client-go's events recorder does: the first occurrence creates an Event, a repeat of
// the same (object, type, reason, action, note) within the series window patches that Event's `series` (count and
// last time seen) instead of making a new one, so a retried CloudEvent never floods the namespace. Best effort: a
// failed write is logged once and never fails the step that reported it.
import { randomBytes } from 'node:crypto';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KubeClient } from './client.js';
import { Resources } from './resources.js';

/** The object an Event is about. Cluster-scoped objects (Namespace, QuayIntegration) have no namespace. */
export interface Regarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
}

export interface EventNote {
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. `OrganizationCreated`. */
  readonly reason: string;
  /** What the bridge did or tried, e.g. `CreateOrganization`. */
  readonly action: string;
  /** One human sentence. */
  readonly note: string;
}

export interface EventRecorder {
  /** Never fails: an Event is a report, not part of the work. */
  readonly record: (regarding: Regarding, event: EventNote) => T.Task<void>;
}

export interface EventsEnv {
  readonly events: EventRecorder;
}

export const REPORTING_CONTROLLER = 'quay-bridge';
/** client-go's events recorder aggregates isomorphic events seen within six minutes. */
export const SERIES_WINDOW_MS = 6 * 60_000;
const MAX_SERIES = 4096;

// events.k8s.io/v1 validation: note ≤ 1 KiB, reason and action ≤ 128, reportingInstance ≤ 128.
const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Cluster-scoped objects' Events go to `default`, as client-go puts them. */
export const eventNamespace = (r: Regarding): string => r.namespace ?? 'default';

export const eventBody = (
  name: string,
  regarding: Regarding,
  event: EventNote,
  instance: string,
  now: Date,
): Record<string, unknown> => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name, namespace: eventNamespace(regarding) },
  eventTime: microTime(now),
  type: event.type,
  reason: clip(event.reason, 128),
  action: clip(event.action, 128),
  note: clip(event.note, 1024),
  reportingController: REPORTING_CONTROLLER,
  reportingInstance: clip(`${REPORTING_CONTROLLER}-${instance}`, 128),
  regarding: {
    apiVersion: regarding.apiVersion,
    kind: regarding.kind,
    name: regarding.name,
    ...(regarding.namespace === undefined ? {} : { namespace: regarding.namespace }),
    ...(regarding.uid === undefined ? {} : { uid: regarding.uid }),
  },
});

interface Series {
  readonly name: string;
  readonly namespace: string;
  readonly first: number;
  count: number;
  /** Settles once the Event exists (or failed): a repeat recorded meanwhile patches it rather than racing it. */
  created: Promise<void>;
}

export interface RecorderOptions {
  readonly kube: KubeClient;
  /** The step's name: Events carry `quay-bridge-<instance>` as reportingInstance. */
  readonly instance: string;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly seriesWindowMs?: number;
}

export const createEventRecorder = (options: RecorderOptions): EventRecorder => {
  const now = options.now ?? (() => new Date());
  const windowMs = options.seriesWindowMs ?? SERIES_WINDOW_MS;
  const series = new Map<string, Series>();

  const create =
    (key: string, regarding: Regarding, event: EventNote, at: Date): T.Task<void> =>
    () => {
      const name = `${clip(regarding.name, 200).replace(/…$/, '')}.${randomBytes(8).toString('hex')}`;
      const namespace = eventNamespace(regarding);
      if (series.size >= MAX_SERIES) {
        const oldest = series.keys().next();
        if (oldest.done !== true) series.delete(oldest.value);
      }
      // Known at once, so that a repeat recorded while this create is in flight joins its series.
      const entry: Series = { name, namespace, first: at.getTime(), count: 1, created: Promise.resolve() };
      series.set(key, entry);
      entry.created = pipe(
        options.kube.create(
          Resources.Event,
          namespace,
          eventBody(name, regarding, event, options.instance, at),
        ),
        TE.match(
          (e) => {
            if (series.get(key) === entry) series.delete(key);
            options.log.warn('could not record an Event', { reason: event.reason, error: describeError(e) });
          },
          () => undefined,
        ),
      )();
      return entry.created;
    };

  const repeat = (key: string, s: Series, regarding: Regarding, event: EventNote, at: Date): T.Task<void> => {
    s.count += 1;
    const body = { series: { count: s.count, lastObservedTime: microTime(at) } };
    const previous = s.created;
    // After the create and any earlier repeat, so that the counts reach the API server in order.
    s.created = previous.then(async () => {
      if (series.get(key) !== s) return; // the first occurrence was not recorded
      const patched = await options.kube.patch(
        { type: Resources.Event, namespace: s.namespace, name: s.name },
        { type: 'merge', body },
      )();
      if (patched._tag === 'Right') return;
      // Gone (expired by the API server's event TTL) or unreadable: start a new series.
      if (series.get(key) === s) series.delete(key);
      if (patched.left._tag !== 'KubeNotFound')
        options.log.warn('could not update an Event series', {
          reason: event.reason,
          error: describeError(patched.left),
        });
    });
    return pipe(
      () => s.created,
      T.flatMap(() => (series.has(key) ? T.of(undefined) : create(key, regarding, event, at))),
    );
  };

  return {
    record: (regarding, event) => () => {
      const at = now();
      const key = JSON.stringify([
        eventNamespace(regarding),
        regarding.kind,
        regarding.name,
        regarding.uid ?? '',
        event.type,
        event.reason,
        event.action,
        event.note,
      ]);
      const s = series.get(key);
      const task =
        s !== undefined && at.getTime() - s.first < windowMs
          ? repeat(key, s, regarding, event, at)
          : create(key, regarding, event, at);
      return task();
    },
  };
};

/** Keeps what was recorded, for tests. */
export const memoryEvents = (): EventRecorder & {
  readonly recorded: { readonly regarding: Regarding; readonly event: EventNote }[];
} => {
  const recorded: { regarding: Regarding; event: EventNote }[] = [];
  return {
    recorded,
    record: (regarding, event) => () => {
      recorded.push({ regarding, event });
      return Promise.resolve();
    },
  };
};
