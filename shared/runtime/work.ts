// The environment of the effects: the API server, and Quay when the settings allow one.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Change, QuayClient } from '../quay/types.js';
import type { Outcome } from '../answer.js';
import { notConfigured, type SyncError } from '../errors.js';
import type { KubeEnv } from '../kube/client.js';
import type { ClusterIdentity, Judge } from '../ownership.js';
import type { OwnEchoes } from './own-echoes.js';

/** Who this bridge is in Quay, and how it judges what it finds there (shared/ownership.ts). */
export interface Owner {
  readonly identity: ClusterIdentity;
  /** Namespaces whose unmarked organization may be adopted. */
  readonly adopt: ReadonlySet<string>;
  /** The registry's host, in the namespace's organization stamp (names.ts organizationStamp). */
  readonly registryHost: string;
  readonly judge: Judge;
}

export interface WorkEnv extends KubeEnv {
  /** none when there are no usable settings; only plans that need no Quay are made then. */
  readonly quay: O.Option<QuayClient>;
  /** Set with the settings; what touches Quay in an organization needs it. */
  readonly owner?: Owner;
  /** The service-account step's: its robot Secret writes' events are expected (docs/design.md#own-echoes). */
  readonly echoes?: OwnEchoes;
}

export const withQuay = <A>(
  f: (quay: QuayClient) => RTE.ReaderTaskEither<WorkEnv, SyncError, A>,
): RTE.ReaderTaskEither<WorkEnv, SyncError, A> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.quay),
    RTE.flatMap((quay) =>
      O.isSome(quay) ? f(quay.value) : RTE.left(notConfigured('NoSettings', 'no usable QuayIntegration')),
    ),
  );

/** The strongest of several changes: created > deleted > updated > unchanged. */
export const strongest = (changes: readonly (Change | Outcome)[]): Outcome => {
  for (const c of ['created', 'deleted', 'updated'] as const) if (changes.includes(c)) return c;
  return changes.includes('unchanged') || changes.length === 0 ? 'unchanged' : 'ignored';
};

export const withOwner = <A>(
  f: (owner: Owner, quay: QuayClient) => RTE.ReaderTaskEither<WorkEnv, SyncError, A>,
): RTE.ReaderTaskEither<WorkEnv, SyncError, A> =>
  withQuay((quay) =>
    pipe(
      RTE.asks((env: WorkEnv) => env.owner),
      RTE.flatMap((owner) =>
        owner !== undefined
          ? f(owner, quay)
          : RTE.left(notConfigured('NoSettings', "the cluster's identity was not read")),
      ),
    ),
  );
