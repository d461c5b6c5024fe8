// What this process itself finished or wrote, remembered so that the events it causes cost no call
// (docs/design.md#own-echoes). Two memories, both bounded and both only ever a reason to do nothing:
// - reconciled: a key (`namespace/name`, or a Namespace's name) → the uid and resourceVersions a reconcile that fully
//   succeeded left the object at (one per write of its own: each write comes back as an event of its own). An event
//   showing exactly one of those versions is the bridge's own echo (or a duplicate of work already done).
// - expected: a write of ours that the robot-secrets source (Reference mode: no object, no version) will echo, once,
//   as an event of a known action, within a short TTL.
import type { Action } from '../events/envelope.js';

export interface Version {
  readonly uid: string;
  readonly resourceVersion: string;
}

/** The actions a write of ours can cause; a delete event is never taken for an echo. */
export type EchoAction = Exclude<Action, 'delete'>;

export interface OwnEchoes {
  /**
   * A reconcile of `key` fully succeeded and its writes left it at `at` (one version, or each of its writes' in
   * order): replaces what was remembered; none at all forgets it.
   */
  readonly record: (key: string, at: Version | readonly Version[]) => void;
  /** The last handling of `key` did not fully succeed: nothing is remembered of it. */
  readonly forget: (key: string) => void;
  /** True when the event shows `key` exactly as a finished reconcile left it (same uid, one of its versions). */
  readonly isEcho: (key: string, seen: Partial<Version>) => boolean;
  /** A write of ours to `key` is under way: one `action` event is expected; returns how to take that back. */
  readonly expect: (key: string, action: EchoAction) => () => void;
  /** True (and used up) when an expectation of this action for `key` is pending. */
  readonly consume: (key: string, action: Action) => boolean;
}

export interface OwnEchoesOptions {
  /** Entries kept in each memory; the oldest are dropped beyond. */
  readonly max?: number;
  /** How long an expected echo is waited for. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** A few thousand ServiceAccounts (three per namespace) in a few hundred kilobytes. */
export const OWN_ECHOES_MAX = 4096;
/** Versions kept per key: a reconcile writes an object once or twice (the namespace step: finalizer, then stamp). */
export const VERSIONS_PER_KEY = 4;
/** An echo comes within a second or two of its write; far later, it is lost (or went to another process). */
export const EXPECTED_ECHO_TTL_MS = 30_000;

/** Insertion order is age: `set` after `delete` moves a key to the newest end; the oldest go first. */
const bounded = <V>(map: Map<string, V>, key: string, value: V, max: number): void => {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
};

export const ownEchoes = (options: OwnEchoesOptions = {}): OwnEchoes => {
  const max = options.max ?? OWN_ECHOES_MAX;
  const ttlMs = options.ttlMs ?? EXPECTED_ECHO_TTL_MS;
  const now = options.now ?? Date.now;
  const reconciled = new Map<string, readonly Version[]>();
  // Per `action key`: the deadlines of the echoes expected (each its own object, so that one can be taken back).
  const expected = new Map<string, { readonly until: number }[]>();
  const pending = (k: string): { readonly until: number }[] => {
    const t = now();
    const live = (expected.get(k) ?? []).filter((e) => e.until > t);
    if (live.length === 0) expected.delete(k);
    else expected.set(k, live);
    return live;
  };
  return {
    record: (key, at) => {
      const versions = (Array.isArray(at) ? at : [at]) as readonly Version[];
      const kept = versions
        .slice(-VERSIONS_PER_KEY)
        .map((v): Version => ({ uid: v.uid, resourceVersion: v.resourceVersion }));
      if (kept.length === 0) reconciled.delete(key);
      else bounded(reconciled, key, kept, max);
    },
    forget: (key) => {
      reconciled.delete(key);
    },
    isEcho: (key, seen) =>
      seen.uid !== undefined &&
      seen.resourceVersion !== undefined &&
      (reconciled.get(key) ?? []).some(
        (at) => seen.uid === at.uid && seen.resourceVersion === at.resourceVersion,
      ),
    expect: (key, action) => {
      const k = `${action} ${key}`;
      const entry = { until: now() + ttlMs };
      bounded(expected, k, [...pending(k), entry], max);
      return () => {
        const left = (expected.get(k) ?? []).filter((e) => e !== entry);
        if (left.length === 0) expected.delete(k);
        else expected.set(k, left);
      };
    },
    consume: (key, action) => {
      if (action === 'delete') return false;
      const k = `${action} ${key}`;
      const [first, ...rest] = pending(k);
      if (first === undefined) return false;
      if (rest.length === 0) expected.delete(k);
      else expected.set(k, rest);
      return true;
    },
  };
};

/** One memory per environment (one per process in production; each test's environment its own). */
export const ownEchoesPerEnvironment = (options: OwnEchoesOptions = {}): ((env: object) => OwnEchoes) => {
  const of = new WeakMap<object, OwnEchoes>();
  return (env) => {
    const found = of.get(env);
    if (found !== undefined) return found;
    const made = ownEchoes(options);
    of.set(env, made);
    return made;
  };
};
