// The parts of the bridge and whether each has work on this cluster, by the APIs the cluster serves: written by the
// resync into the QuayIntegration's status.parts, so that `kubectl get quayintegration -o yaml` says what the bridge
// does here (on plain Kubernetes: organizations, robots and pull Secrets; no repositories, no Builds).
import type { Served } from '../kube/discovery.js';
import { Resources, type ResourceType } from '../kube/resources.js';

export type PartName = 'Namespaces' | 'ServiceAccounts' | 'ImageStreams' | 'Builds';

export interface Part {
  readonly name: PartName;
  readonly active: boolean;
  readonly message: string;
}

/** The types whose serving decides a part (Namespaces and ServiceAccounts are core: always served). */
export const DISCOVERED_TYPES: readonly ResourceType[] = [
  Resources.ImageStream,
  Resources.ImageStreamImport,
  Resources.Build,
];

const notServed = (types: readonly ResourceType[], served: Served): string[] =>
  types.filter((t) => !served(t)).map((t) => `${t.apiVersion} ${t.plural}`);

export const partsFor = (served: Served): readonly Part[] => {
  const streams = notServed([Resources.ImageStream], served);
  const builds = notServed([Resources.Build, Resources.ImageStream, Resources.ImageStreamImport], served);
  return [
    {
      name: 'Namespaces',
      active: true,
      message: 'every namespace in scope has its organization, deleted with it',
    },
    {
      name: 'ServiceAccounts',
      active: true,
      message:
        'builder (write), default and deployer (read) and spec.additionalServiceAccounts, where they exist, each have a robot, a default permission and a linked pull Secret',
    },
    streams.length === 0
      ? {
          name: 'ImageStreams',
          active: true,
          message: 'every ImageStream has a private repository with the robots’ permissions',
        }
      : {
          name: 'ImageStreams',
          active: false,
          message: `the cluster does not serve ${streams.join(', ')}: the bridge creates no repositories (one created in Quay gets the robots’ roles from the organization’s default permissions)`,
        },
    builds.length === 0
      ? {
          name: 'Builds',
          active: true,
          message:
            'Builds to an ImageStreamTag push to Quay (the admission webhook) and their tag is imported when they complete',
        }
      : {
          name: 'Builds',
          active: false,
          message: `the cluster does not serve ${builds.join(', ')}: no Builds to redirect or import`,
        },
  ];
};
