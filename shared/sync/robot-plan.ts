// What a managed ServiceAccount needs, decided purely: is it in scope (plan the scope), does its robot exist, is
// there exactly one default permission with the right role (docs/qbo-compatibility.md#b9), is its Secret what it should be, is it linked.
import { createHash } from 'node:crypto';
import * as O from 'fp-ts/lib/Option.js';
import type { Namespace, Secret, ServiceAccount } from '../kube/objects.js';
import {
  byCodeUnits,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  quayNameProblem,
  robotName,
  robotSecretName,
  robotShortname,
  type RobotRole,
} from '../names.js';
import type { Prototype, Robot } from '../quay/types.js';
import type { Settings } from '../settings/quay-integration.js';
import { namespaceGate } from './namespace-plan.js';

export const DOCKERCONFIG_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKERCONFIG_KEY = '.dockerconfigjson';

export interface RobotTarget {
  readonly namespace: Namespace;
  readonly serviceAccount: ServiceAccount;
  readonly org: string;
  readonly shortname: string;
  readonly robotName: string;
  readonly role: RobotRole;
  readonly secretName: string;
  readonly registryHost: string;
  /** The namespace still lacks our finalizer (or has only the legacy one). */
  readonly finalizerNeeded: boolean;
}

export type ServiceAccountPlan =
  | { readonly _tag: 'Ignore'; readonly reason: string }
  | { readonly _tag: 'Refuse'; readonly message: string }
  | { readonly _tag: 'Reconcile'; readonly target: RobotTarget };

export interface ServiceAccountObservation {
  readonly namespaceName: string;
  readonly name: string;
  readonly serviceAccount: O.Option<ServiceAccount>;
  readonly namespace: O.Option<Namespace>;
}

export const planServiceAccount = (
  observed: ServiceAccountObservation,
  settings: Settings,
): ServiceAccountPlan => {
  const { namespaceName, name } = observed;
  const role = settings.robotRoles.get(name);
  if (role === undefined) return { _tag: 'Ignore', reason: `ServiceAccount ${name} gets no robot` };
  if (O.isNone(observed.serviceAccount))
    return {
      _tag: 'Ignore',
      reason: `ServiceAccount ${namespaceName}/${name} no longer exists (its Secret is garbage-collected with it)`,
    };
  const sa = observed.serviceAccount.value;
  if (sa.metadata.deletionTimestamp !== undefined)
    return { _tag: 'Ignore', reason: `ServiceAccount ${namespaceName}/${name} is being deleted` };
  const gate = namespaceGate(namespaceName, observed.namespace, settings);
  if (gate._tag !== 'Open') return gate;
  const shortname = robotShortname(name);
  const full = robotName(gate.org, name);
  const problem =
    quayNameProblem(shortname) ?? (full.length > 255 ? 'the robot name is over 255 characters' : undefined);
  if (problem !== undefined)
    return {
      _tag: 'Refuse',
      message: `ServiceAccount ${namespaceName}/${name} cannot have a Quay robot "${full}": ${problem}`,
    };
  return {
    _tag: 'Reconcile',
    target: {
      namespace: gate.namespace,
      serviceAccount: sa,
      org: gate.org,
      shortname,
      robotName: full,
      role,
      secretName: robotSecretName(name, settings.clusterID),
      registryHost: settings.quay.registryHost,
      finalizerNeeded: gate.finalizerNeeded,
    },
  };
};

/** What Quay holds for one organization, read in two calls (robots with tokens, default permissions). */
export interface OrgView {
  readonly robots: ReadonlyMap<string, Robot>;
  readonly prototypes: readonly Prototype[];
}

export const emptyOrgView: OrgView = { robots: new Map(), prototypes: [] };

export const orgViewOf = (robots: readonly Robot[], prototypes: readonly Prototype[]): OrgView => ({
  robots: new Map(robots.map((r) => [r.name, r])),
  prototypes,
});

/** True unless there is exactly one organization-wide default permission for the robot, with the role (docs/qbo-compatibility.md#b9). */
export const defaultPermissionNeedsFix = (
  prototypes: readonly Prototype[],
  robot: string,
  role: RobotRole,
): boolean => {
  const mine = prototypes.filter(
    (p) => p.delegate.kind === 'user' && p.delegate.name === robot && p.activatingUser === undefined,
  );
  return mine.length !== 1 || mine[0]?.role !== role;
};

// ---- the robot Secret ----

export interface DesiredSecret {
  readonly name: string;
  readonly namespace: string;
  /** The `.dockerconfigjson` document. */
  readonly config: DockerConfig;
  readonly owner: { readonly name: string; readonly uid: string };
  /** ENSURED_ANNOTATION's value: what was ensured in Quay before this Secret was written (ensuredStamp). */
  readonly stamp: string;
}

/**
 * Written on a robot Secret only after its robot and default permission were ensured in Quay (the Secret comes last
 * in every reconcile), over the registry, organization, robot, role and the Secret's own credentials. A later event
 * that finds the stamp matching, the Secret linked and the finalizer in place is the bridge's own echo (its link
 * patch, its Secret write): nothing in the cluster changed what Quay must hold, so it costs no Quay call. Drift only
 * Quay can show (a robot deleted there by hand) waits for the resync, which always asks Quay.
 */
export const ENSURED_ANNOTATION = 'quay-bridge.quay.redhat.com/ensured';

export const ensuredStamp = (target: RobotTarget, config: unknown): string =>
  createHash('sha256')
    .update(canonical([target.registryHost, target.org, target.robotName, target.role, config]))
    .digest('hex')
    .slice(0, 32);

export interface DockerConfig {
  readonly auths: Readonly<
    Record<string, { readonly auth: string; readonly username: string; readonly password: string }>
  >;
}

/**
 * QBO writes only `auth`; `username` and `password` are added, as `kubectl create secret docker-registry` does:
 * readers of `auth` see the same, and tools that read only username/password work too.
 */
export const dockerConfig = (registryHost: string, robot: Robot): DockerConfig => ({
  auths: {
    [registryHost]: {
      auth: Buffer.from(`${robot.name}:${robot.token}`).toString('base64'),
      username: robot.name,
      password: robot.token,
    },
  },
});

export const desiredSecret = (target: RobotTarget, robot: Robot): DesiredSecret => {
  const config = dockerConfig(target.registryHost, robot);
  return {
    name: target.secretName,
    namespace: target.serviceAccount.metadata.namespace,
    config,
    owner: { name: target.serviceAccount.metadata.name, uid: target.serviceAccount.metadata.uid ?? '' },
    stamp: ensuredStamp(target, config),
  };
};

const canonical = (u: unknown): string =>
  JSON.stringify(u, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => byCodeUnits(a, b)))
      : v,
  );

const storedConfig = (secret: Secret): unknown => {
  const raw = secret.data?.[DOCKERCONFIG_KEY];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
};

export type SecretPlan =
  | { readonly _tag: 'Unchanged' }
  /** Server-side apply: creates it, or restores our fields, keeping everyone else's labels and annotations (docs/qbo-compatibility.md#b10). */
  | { readonly _tag: 'Apply'; readonly why: string }
  /** The type of a Secret cannot change: delete it (with a uid precondition), then apply. */
  | { readonly _tag: 'Replace'; readonly uid: string; readonly why: string };

export const planSecret = (existing: O.Option<Secret>, desired: DesiredSecret): SecretPlan => {
  if (O.isNone(existing)) return { _tag: 'Apply', why: 'missing' };
  const s = existing.value;
  if ((s.type ?? 'Opaque') !== DOCKERCONFIG_TYPE)
    return { _tag: 'Replace', uid: s.metadata.uid ?? '', why: `type ${s.type ?? 'Opaque'}` };
  if (canonical(storedConfig(s)) !== canonical(desired.config))
    return { _tag: 'Apply', why: 'credentials differ' };
  if (s.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE)
    return { _tag: 'Apply', why: 'label missing' };
  if (
    !(s.metadata.ownerReferences ?? []).some(
      (o) => o.kind === 'ServiceAccount' && o.uid === desired.owner.uid,
    )
  )
    return { _tag: 'Apply', why: 'owner missing' };
  if (s.metadata.annotations?.[ENSURED_ANNOTATION] !== desired.stamp) return { _tag: 'Apply', why: 'stamp' };
  return { _tag: 'Unchanged' };
};

/**
 * The event the robot-secrets source sends for a write of the Secret over `stored`: it selects our label, so a
 * Secret that did not carry it (none yet, QBO's, or one of another type replaced) comes to it as added.
 */
export const secretEchoOf = (stored: O.Option<Secret>): 'add' | 'update' =>
  O.isSome(stored) && stored.value.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
    ? 'update'
    : 'add';

/**
 * The robot as the Secret holds it, when the cluster alone shows this ServiceAccount's robot as the bridge left it:
 * the namespace has our finalizer, the Secret is ours (type, label, owner), holds this robot's credentials for this
 * registry, carries the stamp of exactly that, and the ServiceAccount links it. See ENSURED_ANNOTATION.
 */
export const ensuredInCluster = (target: RobotTarget, secret: O.Option<Secret>): O.Option<Robot> => {
  if (target.finalizerNeeded || O.isNone(secret)) return O.none;
  const s = secret.value;
  const config = storedConfig(s) as Partial<DockerConfig> | undefined;
  const entry = config?.auths?.[target.registryHost];
  const proven =
    entry !== undefined &&
    (s.type ?? 'Opaque') === DOCKERCONFIG_TYPE &&
    s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE &&
    (s.metadata.ownerReferences ?? []).some(
      (o) => o.kind === 'ServiceAccount' && o.uid === target.serviceAccount.metadata.uid,
    ) &&
    entry.username === target.robotName &&
    s.metadata.annotations?.[ENSURED_ANNOTATION] === ensuredStamp(target, config) &&
    O.isNone(planLinks(target.serviceAccount, target.secretName));
  return proven ? O.some({ name: entry.username, token: entry.password, description: '' }) : O.none;
};

/** The server-side apply configuration: only the fields quay-bridge owns. */
export const secretApplyBody = (desired: DesiredSecret): object => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: desired.name,
    namespace: desired.namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    annotations: { [ENSURED_ANNOTATION]: desired.stamp },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'ServiceAccount', name: desired.owner.name, uid: desired.owner.uid },
    ],
  },
  type: DOCKERCONFIG_TYPE,
  data: { [DOCKERCONFIG_KEY]: Buffer.from(JSON.stringify(desired.config)).toString('base64') },
});

// ---- linking the Secret to the ServiceAccount ----

/**
 * The merge patch that adds the Secret to `secrets` (mountable: OpenShift picks a build's push secret there, and
 * QBO's webhook checks it) and `imagePullSecrets`, keeping every other entry as it is; none when both have it.
 */
export const planLinks = (sa: ServiceAccount, secretName: string): O.Option<Record<string, unknown>> => {
  const secrets = sa.secrets ?? [];
  const pulls = sa.imagePullSecrets ?? [];
  const inSecrets = secrets.some((r) => r.name === secretName);
  const inPulls = pulls.some((r) => r.name === secretName);
  if (inSecrets && inPulls) return O.none;
  return O.some({
    ...(inSecrets ? {} : { secrets: [...secrets, { name: secretName }] }),
    ...(inPulls ? {} : { imagePullSecrets: [...pulls, { name: secretName }] }),
  });
};
