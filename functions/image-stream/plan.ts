// What an ImageStream needs: a private repository `<org>/<imagestream>` with an explicit permission for every
// managed robot (QBO issue #109: prototypes alone left repositories without robot rights), and, only when the
// QuayIntegration opts in with deleteRepositoriesWithImageStreams, the repository's deletion with the ImageStream.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { Action } from '../../shared/events/envelope.js';
import type { ImageStream, Namespace } from '../../shared/kube/objects.js';
import { repositoryName, robotName, type RobotRole } from '../../shared/names.js';
import type { Settings } from '../../shared/settings/quay-integration.js';
import { planNamespace } from '../namespace/plan.js';

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
  | { readonly _tag: 'DeleteRepository'; readonly org: string; readonly repo: string };

export interface ImageStreamObservation {
  readonly namespaceName: string;
  readonly name: string;
  /** Re-read now; none after a 404. */
  readonly current: O.Option<ImageStream>;
  readonly namespace: O.Option<Namespace>;
  readonly action: Action | undefined;
}

const REPOSITORY = /^[a-z0-9][.a-z0-9_-]*$/;

export const grantsFor = (org: string, settings: Settings): readonly Grant[] =>
  [...settings.robotRoles].map(([sa, role]) => ({ robotName: robotName(org, sa), role }));

export const planImageStream = (observed: ImageStreamObservation, settings: Settings): ImageStreamPlan => {
  const { namespaceName, name, current, action } = observed;
  const nsPlan = planNamespace(
    { name: namespaceName, current: observed.namespace, action: undefined },
    E.right(settings),
  );
  switch (nsPlan._tag) {
    case 'Ignore':
      return nsPlan;
    case 'Refuse':
      return { _tag: 'Refuse', message: nsPlan.message };
    case 'Finalize':
    case 'Release':
    case 'DeleteOrganization':
      return { _tag: 'Ignore', reason: `namespace ${namespaceName} is being deleted or left scope` };
    case 'Provision':
      break;
  }
  const repo = repositoryName(name);
  if (O.isNone(current) || current.value.metadata.deletionTimestamp !== undefined) {
    if (action !== 'delete' || O.isSome(current))
      return {
        _tag: 'Ignore',
        reason: `ImageStream ${namespaceName}/${name} no longer exists or is being deleted`,
      };
    return settings.deleteRepositoriesWithImageStreams
      ? { _tag: 'DeleteRepository', org: nsPlan.org, repo }
      : {
          _tag: 'Ignore',
          reason: `ImageStream ${namespaceName}/${name} is gone; repository ${nsPlan.org}/${repo} kept (deleteRepositoriesWithImageStreams is off)`,
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
      namespace: nsPlan.namespace,
      org: nsPlan.org,
      repo,
      grants: grantsFor(nsPlan.org, settings),
      finalizerNeeded: nsPlan.addFinalizer || nsPlan.dropLegacyFinalizer,
    },
  };
};

/** The grants the repository's current permissions lack (absent, or another role). */
export const missingGrants = (
  current: ReadonlyMap<string, RobotRole>,
  grants: readonly Grant[],
): readonly Grant[] => grants.filter((g) => current.get(g.robotName) !== g.role);
