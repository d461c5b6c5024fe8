// What an ImageStream needs: a private repository `<org>/<imagestream>` with an explicit permission for every
// managed robot (QBO issue #109: prototypes alone left repositories without robot rights), and, only when the
// QuayIntegration opts in with deleteRepositoriesWithImageStreams, the repository's deletion once the ImageStream
// is gone. What proves the deletion is the API server's 404 for the ImageStream together with the repository's own
// description, which carries this cluster's mark only when the bridge made it for that ImageStream; an event's
// action proves nothing (anyone who reaches the broker or the step can post one), so it is not read.
import * as O from 'fp-ts/lib/Option.js';
import type { Action } from '../events/envelope.js';
import type { ImageStream, Namespace } from '../kube/objects.js';
import { repositoryName, robotName, type RobotRole } from '../names.js';
import type { Settings } from '../settings/quay-integration.js';
import { namespaceGate } from './namespace-plan.js';

export interface Grant {
  readonly robotName: string;
  readonly role: RobotRole;
}

export interface RepositoryTarget {
  readonly namespace: Namespace;
  readonly org: string;
  readonly repo: string;
  /** The permissions every managed robot should have on the repository. */
  readonly grants: readonly Grant[];
  readonly finalizerNeeded: boolean;
}

export type ImageStreamPlan =
  | { readonly _tag: 'Ignore'; readonly reason: string }
  | { readonly _tag: 'Refuse'; readonly message: string }
  | { readonly _tag: 'Ensure'; readonly target: RepositoryTarget }
  /** The ImageStream is gone (404): delete the repository if this cluster's bridge made it (its description says). */
  | { readonly _tag: 'DeleteRepository'; readonly org: string; readonly repo: string };

export interface ImageStreamObservation {
  readonly namespaceName: string;
  readonly name: string;
  /** Re-read now; none after a 404. */
  readonly current: O.Option<ImageStream>;
  readonly namespace: O.Option<Namespace>;
  /** The event's action; never decides anything (see above). */
  readonly action: Action | undefined;
}

const REPOSITORY = /^[a-z0-9][.a-z0-9_-]*$/;

export const grantsFor = (org: string, settings: Settings): readonly Grant[] =>
  [...settings.robotRoles].map(([sa, role]) => ({ robotName: robotName(org, sa), role }));

export const planImageStream = (observed: ImageStreamObservation, settings: Settings): ImageStreamPlan => {
  const { namespaceName, name, current } = observed;
  const gate = namespaceGate(namespaceName, observed.namespace, settings);
  if (gate._tag !== 'Open') return gate;
  const repo = repositoryName(name);
  if (O.isNone(current) || current.value.metadata.deletionTimestamp !== undefined) {
    if (O.isSome(current))
      return { _tag: 'Ignore', reason: `ImageStream ${namespaceName}/${name} is being deleted` };
    return settings.deleteRepositoriesWithImageStreams
      ? { _tag: 'DeleteRepository', org: gate.org, repo }
      : {
          _tag: 'Ignore',
          reason: `ImageStream ${namespaceName}/${name} is gone; repository ${gate.org}/${repo} kept (deleteRepositoriesWithImageStreams is off)`,
        };
  }
  if (!REPOSITORY.test(repo) || repo.length > 255)
    return {
      _tag: 'Refuse',
      message: `ImageStream ${namespaceName}/${name} cannot be a Quay repository name`,
    };
  return {
    _tag: 'Ensure',
    target: {
      namespace: gate.namespace,
      org: gate.org,
      repo,
      grants: grantsFor(gate.org, settings),
      finalizerNeeded: gate.finalizerNeeded,
    },
  };
};

/** The grants the repository's current permissions lack (absent, or another role). */
export const missingGrants = (
  current: ReadonlyMap<string, RobotRole>,
  grants: readonly Grant[],
): readonly Grant[] => grants.filter((g) => current.get(g.robotName) !== g.role);
