// Reads the one cluster-scoped QuayIntegration and its credentials Secret, validates the token against Quay once
// per change, and caches the result briefly. Every step starts here; the resync step also turns the report into the
// QuayIntegration's status conditions (conditions.ts).
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { describeError, notConfigured, type SyncError } from '../errors.js';
import { getOptional, listServed, type KubeClient } from '../kube/client.js';
import type { KubeError } from '../kube/errors.js';
import { Secret } from '../kube/objects.js';
import { Resources } from '../kube/resources.js';
import type { CurrentUser, QuayClient, QuayError } from '../quay/types.js';
import { decodeQuayIntegration, resolveSettings, Token, type Settings } from './quay-integration.js';

/** What a QuayIntegration looked like when read: enough to write its status. */
export interface IntegrationRef {
  readonly name: string;
  readonly uid?: string;
  readonly generation: number;
  /** The quay.redhat.com/resync-requested annotation, and the value of it the last resync pass handled. */
  readonly resyncRequested?: string;
  readonly lastResyncRequest?: string;
  /** status.conditions as stored (kept opaque; conditions.ts reads them). */
  readonly conditions: unknown;
  /** status.parts as stored (kept opaque, likewise). */
  readonly parts?: unknown;
}

export interface Configured {
  readonly settings: Settings;
  readonly quay: QuayClient;
  readonly user: CurrentUser;
}

/** Why the bridge cannot work, or that it can. Pure data: conditions.ts maps it to status conditions. */
export type SettingsState =
  | { readonly _tag: 'NoIntegration' }
  | { readonly _tag: 'SeveralIntegrations'; readonly names: readonly string[] }
  | { readonly _tag: 'InvalidSpec'; readonly message: string }
  | {
      readonly _tag: 'CredentialsMissing';
      readonly reason: 'SecretNotFound' | 'KeyMissing' | 'TokenEmpty';
      readonly message: string;
      readonly settings: Settings;
    }
  | { readonly _tag: 'TokenRejected'; readonly message: string; readonly settings: Settings }
  | { readonly _tag: 'QuayUnreachable'; readonly error: QuayError; readonly settings: Settings }
  | { readonly _tag: 'Ready'; readonly configured: Configured };

export interface SettingsReport {
  readonly integrations: readonly IntegrationRef[];
  readonly state: SettingsState;
}

export interface QuayClientParams {
  readonly apiUrl: string;
  readonly token: Token;
  /** spec.insecureSkipTLSVerifyAPI (never insecureRegistry: that one is about image imports). */
  readonly insecure: boolean;
  readonly caBundle: string | undefined;
}

/** A Quay client as the factory makes it; `close`, when there is one, frees its pooled connections. */
export type ClosableQuayClient = QuayClient & { readonly close?: () => void };

export type QuayClientFactory = (params: QuayClientParams) => ClosableQuayClient;

export interface SettingsSourceOptions {
  readonly kube: KubeClient;
  readonly makeQuay: QuayClientFactory;
  /** How long a report is reused by later events. Default 10 s; 0 disables the cache. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export interface ReportOptions {
  /** Bypass the cache (the resync after a QuayIntegration change). */
  readonly fresh?: boolean;
  /**
   * Use a cached report only if it was read at or after this time (epoch ms): settings read before an object
   * existed may predate a QuayIntegration change made just before it was created (an allow list widened, then the
   * namespace made), which the resync that the change started could not see (readSinceCreation in
   * runtime/observe.ts). Objects older than the cached report need no new read: the change's resync saw them.
   */
  readonly readSince?: number;
}

export interface SettingsSource {
  /** The report, from cache if fresh enough (options: ReportOptions). */
  readonly report: (options?: ReportOptions) => TE.TaskEither<KubeError, SettingsReport>;
  /** The settings, or why there are none, as the steps want them. */
  readonly configured: (options?: ReportOptions) => TE.TaskEither<SyncError, Configured>;
  /**
   * Reads the settings ahead of the first event (at process start, while the runtime sets up its server), so that
   * the first event of a cold start finds them, the token checked and a connection open. Only when reports are
   * cached (ttlMs > 0), and only settings that are Ready are kept; never fails: whatever else it read is left to
   * the next event, which reads again. A report asked for meanwhile waits for this read rather than making a
   * second one.
   */
  readonly warm: () => Promise<void>;
  /** The settings of the last Ready report, however old: a guess to read ahead by, never to decide on. */
  readonly last: () => Settings | undefined;
}

export interface SettingsEnv {
  readonly settings: SettingsSource;
}

export const RESYNC_REQUESTED = 'quay.redhat.com/resync-requested';

/** The resync asked for by annotation, and the last one handled (status.lastResyncRequest), when they are strings. */
export const resyncRequestOf = (
  o: unknown,
): { readonly resyncRequested?: string; readonly lastResyncRequest?: string } => {
  const q = o as {
    metadata?: { annotations?: Record<string, unknown> };
    status?: { lastResyncRequest?: unknown };
  };
  const requested = q.metadata?.annotations?.[RESYNC_REQUESTED];
  const handled = q.status?.lastResyncRequest;
  return {
    ...(typeof requested === 'string' ? { resyncRequested: requested } : {}),
    ...(typeof handled === 'string' ? { lastResyncRequest: handled } : {}),
  };
};

const RawIntegration = t.type({
  metadata: t.intersection([t.type({ name: t.string }), t.partial({ uid: t.string, generation: t.number })]),
});

/** The report as the steps want it: Ready, or the reason as a NotConfigured (or Quay's transient error). */
export const configuredOf = (report: SettingsReport): E.Either<SyncError, Configured> => {
  const s = report.state;
  switch (s._tag) {
    case 'Ready':
      return E.right(s.configured);
    case 'NoIntegration':
      return E.left(notConfigured('NoQuayIntegration', 'no QuayIntegration exists'));
    case 'SeveralIntegrations':
      return E.left(
        notConfigured(
          'SeveralQuayIntegrations',
          `${s.names.length} QuayIntegrations exist (${s.names.join(', ')}); exactly one is supported`,
        ),
      );
    case 'InvalidSpec':
      return E.left(notConfigured('InvalidSpec', s.message));
    case 'CredentialsMissing':
      return E.left(notConfigured(s.reason, s.message));
    case 'TokenRejected':
      return E.left(notConfigured('TokenRejected', s.message));
    case 'QuayUnreachable':
      return E.left(s.error);
  }
};

/** A client lent to the steps, and how to give it back when a settings change replaces it. */
interface Lent {
  readonly key: string;
  readonly quay: QuayClient;
  /** Closes the client as soon as none of its operations is running (at once if none is). */
  readonly retire: () => void;
}

/**
 * Wraps every operation of `made` so that the runs under way are counted: a client replaced by a settings change
 * may still be in the middle of an event's calls, and closing it then would cut them off. A retired client is
 * closed whenever it falls idle (again, if a step that still held it made one more call).
 */
const lend = (key: string, made: ClosableQuayClient): Lent => {
  let running = 0;
  let retired = false;
  const closeIfIdle = (): void => {
    if (retired && running === 0) made.close?.();
  };
  const counted =
    (operation: (...args: unknown[]) => unknown) =>
    (...args: unknown[]): unknown => {
      const task: unknown = operation.apply(made, args);
      if (typeof task !== 'function') return task;
      return async (): Promise<unknown> => {
        running += 1;
        try {
          return await (task as () => Promise<unknown>)();
        } finally {
          running -= 1;
          closeIfIdle();
        }
      };
    };
  const quay = Object.fromEntries(
    Object.entries(made as unknown as Record<string, unknown>)
      .filter(([name]) => name !== 'close')
      .map(([name, value]) => [
        name,
        typeof value === 'function' ? counted(value as (...args: unknown[]) => unknown) : value,
      ]),
  ) as unknown as QuayClient;
  return {
    key,
    quay,
    retire: () => {
      retired = true;
      closeIfIdle();
    },
  };
};

interface Validation {
  readonly key: string;
  readonly result: E.Either<{ readonly rejected: string }, CurrentUser>;
}

export const createSettingsSource = (options: SettingsSourceOptions): SettingsSource => {
  const ttl = options.ttlMs ?? 10_000;
  const now = options.now ?? Date.now;
  const { kube } = options;
  let cached: { readonly at: number; readonly report: SettingsReport } | undefined;
  let validation: Validation | undefined;
  let client: Lent | undefined;

  const quayFor = (settings: Settings, token: Token): QuayClient => {
    const key = JSON.stringify([
      settings.quay.apiUrl,
      settings.insecureSkipTLSVerifyAPI,
      settings.caBundle ?? '',
      token.reveal(),
    ]);
    if (client?.key !== key) {
      // The old client's pooled connections (and their sockets) would otherwise stay open for good.
      client?.retire();
      client = lend(
        key,
        options.makeQuay({
          apiUrl: settings.quay.apiUrl,
          token,
          insecure: settings.insecureSkipTLSVerifyAPI,
          caBundle: settings.caBundle,
        }),
      );
    }
    return client.quay;
  };

  // GET /api/v1/user/ once per (QuayIntegration generation, Secret version): a rejected token is not asked again
  // until one of them changes; an unreachable Quay is asked again by the next event.
  const validate = (
    settings: Settings,
    quay: QuayClient,
    key: string,
  ): TE.TaskEither<never, SettingsState> => {
    const fromValidation = (v: Validation['result']): SettingsState =>
      E.isRight(v)
        ? { _tag: 'Ready', configured: { settings, quay, user: v.right } }
        : { _tag: 'TokenRejected', message: v.left.rejected, settings };
    if (validation?.key === key) return TE.right(fromValidation(validation.result));
    return pipe(
      quay.currentUser(),
      TE.map((user) => E.right<{ rejected: string }, CurrentUser>(user)),
      TE.orElse((e) =>
        e._tag === 'QuayAuthFailed' || e._tag === 'QuayRejected'
          ? TE.right(
              E.left<{ rejected: string }, CurrentUser>({
                rejected: `Quay refused the token from Secret ${settings.credentialsSecret.namespace}/${settings.credentialsSecret.name} (GET /api/v1/user/): ${describeError(e)}`,
              }),
            )
          : TE.left(e),
      ),
      TE.map((result) => {
        validation = { key, result };
        return fromValidation(result);
      }),
      TE.orElse((error) => TE.right<never, SettingsState>({ _tag: 'QuayUnreachable', error, settings })),
    );
  };

  type SecretRef = Settings['credentialsSecret'];
  const readSecret = (ref: SecretRef): TE.TaskEither<KubeError, O.Option<Secret>> =>
    getOptional(kube, Secret, { type: Resources.Secret, namespace: ref.namespace, name: ref.name });
  /** The credentials Secret the last read named: read beside the QuayIntegration list, which names it again. */
  let lastRef: SecretRef | undefined;
  interface Prefetched {
    readonly ref: SecretRef;
    readonly read: E.Either<KubeError, O.Option<Secret>>;
  }
  const sameSecret = (a: SecretRef, b: SecretRef): boolean =>
    a.namespace === b.namespace && a.name === b.name;

  const withSettings = (
    settings: Settings,
    uid: string,
    prefetched: Prefetched | undefined,
  ): TE.TaskEither<KubeError, SettingsState> => {
    const ref = settings.credentialsSecret;
    const where = `Secret ${ref.namespace}/${ref.name}`;
    lastRef = ref;
    return pipe(
      prefetched !== undefined && sameSecret(prefetched.ref, ref)
        ? TE.fromEither(prefetched.read)
        : readSecret(ref),
      TE.flatMap((found): TE.TaskEither<KubeError, SettingsState> => {
        if (found._tag === 'None')
          return TE.right({
            _tag: 'CredentialsMissing',
            reason: 'SecretNotFound',
            message: `the credentials ${where} does not exist`,
            settings,
          });
        const raw = found.value.data?.[ref.key];
        if (raw === undefined)
          return TE.right({
            _tag: 'CredentialsMissing',
            reason: 'KeyMissing',
            message: `the credentials ${where} has no key "${ref.key}"`,
            settings,
          });
        // Tokens pasted from a file often end in a newline; no Quay token contains whitespace.
        const token = Buffer.from(raw, 'base64').toString('utf8').trim();
        if (token === '')
          return TE.right({
            _tag: 'CredentialsMissing',
            reason: 'TokenEmpty',
            message: `the key "${ref.key}" of the credentials ${where} is empty`,
            settings,
          });
        const quay = quayFor(settings, new Token(token));
        const key = JSON.stringify([
          uid,
          settings.generation,
          found.value.metadata.resourceVersion ?? '',
          ref.key,
          settings.quay.apiUrl,
        ]);
        return validate(settings, quay, key);
      }),
    );
  };

  type Raw = t.TypeOf<typeof RawIntegration>;
  // Without the QuayIntegration CRD (never installed, or deleted with every QuayIntegration) there is none.
  const listAll: TE.TaskEither<KubeError, readonly Raw[]> = pipe(
    listServed(kube, RawIntegration, Resources.QuayIntegration),
    TE.map(O.getOrElse((): readonly Raw[] => [])),
  );
  /** The report from the QuayIntegrations read, the credentials Secret read beside them when it was. */
  const reportOf = (
    items: readonly Raw[],
    prefetched: Prefetched | undefined,
  ): TE.TaskEither<KubeError, SettingsReport> => {
    const integrations = items.map((u) => ({
      name: u.metadata.name,
      ...(u.metadata.uid === undefined ? {} : { uid: u.metadata.uid }),
      generation: u.metadata.generation ?? 0,
      conditions: (u as { status?: { conditions?: unknown } }).status?.conditions,
      parts: (u as { status?: { parts?: unknown } }).status?.parts,
      ...resyncRequestOf(u),
    }));
    const only = items.length === 1 ? items[0] : undefined;
    const report = (state: SettingsState): SettingsReport => ({ integrations, state });
    if (only === undefined)
      return TE.right(
        report(
          items.length === 0
            ? { _tag: 'NoIntegration' }
            : { _tag: 'SeveralIntegrations', names: integrations.map((i) => i.name).sort() },
        ),
      );
    const resolved = pipe(decodeQuayIntegration(only), E.flatMap(resolveSettings));
    if (E.isLeft(resolved)) return TE.right(report({ _tag: 'InvalidSpec', message: resolved.left.message }));
    return pipe(withSettings(resolved.right, only.metadata.uid ?? '', prefetched), TE.map(report));
  };

  const read = (): TE.TaskEither<KubeError, SettingsReport> => {
    const guess = lastRef;
    return pipe(
      TE.Do,
      TE.apS('items', listAll),
      // Side by side with the list (one round trip, not two): the Secret the last read named, used only if the
      // QuayIntegration still names it; its failure counts only then.
      TE.apS(
        'prefetched',
        guess === undefined
          ? TE.right<KubeError, Prefetched | undefined>(undefined)
          : pipe(
              readSecret(guess),
              T.map((read) => E.right<KubeError, Prefetched | undefined>({ ref: guess, read })),
            ),
      ),
      TE.flatMap(({ items, prefetched }) => reportOf(items, prefetched)),
    );
  };

  /**
   * The one QuayIntegration `last` named, read by name: a GET is a quorum read from etcd, while a list without a
   * resourceVersion waits until the API server's watch cache has caught up with etcd, which for a type that is
   * rarely written takes up to a progress-notify period (about 90 ms). Its spec unchanged (same uid and
   * generation), a Ready report stands as it is: its credentials Secret is read again when the TTL runs out, as for
   * any event. Gone, or no longer served: listed. A second QuayIntegration made meanwhile is seen by the next list,
   * at the latest when the TTL runs out (docs/design.md#settings-reads).
   */
  const recheck = (last: SettingsReport, name: string): TE.TaskEither<KubeError, SettingsReport> =>
    pipe(
      getOptional(kube, RawIntegration, { type: Resources.QuayIntegration, name }),
      // Refused: an install whose RBAC grants only the list (from before this read) still works, listing.
      TE.orElse((e) =>
        e._tag === 'KubeNotServed' || e._tag === 'KubeForbidden' ? TE.right(O.none) : TE.left(e),
      ),
      TE.flatMap(
        O.match(read, (one) => {
          const known = last.integrations[0];
          return last.state._tag === 'Ready' &&
            known?.uid === one.metadata.uid &&
            known?.generation === (one.metadata.generation ?? 0)
            ? TE.right(last)
            : reportOf([one], undefined);
        }),
      ),
    );

  const readAndKeep = (
    keep: (r: SettingsReport) => boolean,
    last?: { readonly report: SettingsReport; readonly name: string },
  ): TE.TaskEither<KubeError, SettingsReport> => {
    const at = now();
    return pipe(
      last === undefined ? read() : recheck(last.report, last.name),
      TE.tap((r) => {
        if (keep(r)) cached = { at, report: r };
        return TE.right(undefined);
      }),
    );
  };

  /**
   * The read under way, and when it started: events that need settings read since then (a burst of new objects
   * made before it) wait for its answer instead of reading again. A fresh read (the resync's) never joins one.
   */
  let reading:
    { readonly at: number; readonly result: Promise<E.Either<KubeError, SettingsReport>> } | undefined;

  // Decided when run, not when built (fp-ts runs a task a microtask after it is asked for): a read that another
  // event started meanwhile is found.
  const reportNow: SettingsSource['report'] =
    (opts = {}) =>
    () => {
      const at = now();
      const live = opts.fresh !== true && cached !== undefined && at - cached.at < ttl ? cached : undefined;
      if (live !== undefined && live.at >= (opts.readSince ?? -Infinity))
        return Promise.resolve(E.right(live.report));
      const under = reading;
      if (opts.fresh !== true && under !== undefined && under.at >= (opts.readSince ?? -Infinity))
        return under.result;
      // Within the TTL, a report older than the object at hand is checked against its one QuayIntegration by name.
      const only = live?.report.integrations.length === 1 ? live.report.integrations[0]?.name : undefined;
      const mine = {
        at,
        // A transient Quay failure is not worth remembering.
        result: readAndKeep(
          (r) => r.state._tag !== 'QuayUnreachable',
          live === undefined || only === undefined ? undefined : { report: live.report, name: only },
        )(),
      };
      reading = mine;
      void mine.result.finally(() => {
        if (reading === mine) reading = undefined;
      });
      return mine.result;
    };

  let warming: Promise<void> | undefined;
  const report: SettingsSource['report'] = (opts = {}) => {
    const pending = warming;
    if (pending === undefined || opts.fresh === true) return reportNow(opts);
    return async () => {
      await pending;
      return reportNow(opts)();
    };
  };

  return {
    report,
    last: () => (cached?.report.state._tag === 'Ready' ? cached.report.state.configured.settings : undefined),
    warm: () => {
      if (ttl <= 0) return Promise.resolve();
      // Only usable settings are kept: the bridge not configured yet when the process started (say, the
      // QuayIntegration created just after) must not make the first events answer NotConfigured, which the
      // broker takes as done.
      warming ??= readAndKeep((r) => r.state._tag === 'Ready')().then(
        () => {
          warming = undefined;
        },
        () => {
          warming = undefined;
        },
      );
      return warming;
    },
    configured: (opts) =>
      pipe(
        report(opts),
        TE.mapLeft((e): SyncError => e),
        TE.flatMapEither(configuredOf),
      ),
  };
};
