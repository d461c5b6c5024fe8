// Which of the resource types the bridge may work with the cluster serves, by discovery of their group versions
// (one GET each). Plain Kubernetes serves no image.openshift.io or build.openshift.io; a CRD installed later is
// served from then on, so this is asked afresh rather than remembered (the resync asks at every pass).
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { KubeClient } from './client.js';
import type { KubeError } from './errors.js';
import type { ResourceType } from './resources.js';

/** Answers whether a type is served; types that were not asked about are not. */
export type Served = (type: ResourceType) => boolean;

const key = (type: ResourceType): string => `${type.apiVersion}/${type.plural}`;

export const discoverServed = (
  kube: KubeClient,
  types: readonly ResourceType[],
): TE.TaskEither<KubeError, Served> =>
  pipe(
    [...new Set(types.map((t) => t.apiVersion))],
    RA.traverse(TE.ApplicativeSeq)((apiVersion) =>
      pipe(
        kube.discover(apiVersion),
        TE.map((names) =>
          pipe(
            names,
            O.match(
              () => [],
              (served) => [...served].map((plural) => `${apiVersion}/${plural}`),
            ),
          ),
        ),
      ),
    ),
    TE.map((found) => {
      const served = new Set(found.flat());
      return (type: ResourceType) => served.has(key(type));
    }),
  );
