// The QuayIntegration custom resource (quay.redhat.com/v1, cluster-scoped) and the settings resolved from it.
// Field names and defaults match the Go Quay Bridge Operator (docs/qbo-compatibility.md#spec); the fields marked
// "quay-bridge" are ours and documented in the README.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { DEFAULT_ROBOT_ROLES, organizationPrefix, quayNameProblem, type RobotRole } from '../names.js';
import { formatDecodeError } from '../codec.js';
import { ADOPT_ANNOTATION, adoptedNamespaces } from '../ownership.js';

export const RobotRoleCodec = t.keyof({ read: null, write: null, admin: null });

export const CredentialsSecretRef = t.intersection([
  t.type({ namespace: t.string, name: t.string }),
  t.partial({ key: t.string }),
]);

export const QuayIntegrationSpec = t.intersection([
  t.type({ credentialsSecret: CredentialsSecretRef, quayHostname: t.string }),
  t.partial({
    clusterID: t.string,
    organizationPrefix: t.string,
    insecureRegistry: t.boolean,
    scheduledImageStreamImport: t.boolean,
    allowlistNamespaces: t.readonlyArray(t.string),
    denylistNamespaces: t.readonlyArray(t.string),
    // quay-bridge: further ServiceAccount → robot role pairs (QBO issue #148, e.g. Tekton's `pipeline`).
    additionalServiceAccounts: t.readonlyArray(t.type({ name: t.string, role: RobotRoleCodec })),
    // quay-bridge: delete a repository when its ImageStream is deleted (default: keep it).
    deleteRepositoriesWithImageStreams: t.boolean,
    // quay-bridge: PEM bundle trusted for Quay's API in addition to the system CAs.
    quayCABundle: t.string,
    // quay-bridge: skip TLS verification of Quay's API, which carries the org-admin token (default false; prefer
    // quayCABundle). insecureRegistry no longer does (it is the image imports' and pulls' setting, as in QBO).
    insecureSkipTLSVerifyAPI: t.boolean,
  }),
]);
export type QuayIntegrationSpec = t.TypeOf<typeof QuayIntegrationSpec>;

export const QuayIntegration = t.type({
  apiVersion: t.literal('quay.redhat.com/v1'),
  kind: t.literal('QuayIntegration'),
  metadata: t.intersection([
    t.type({ name: t.string }),
    t.partial({
      generation: t.number,
      resourceVersion: t.string,
      annotations: t.record(t.string, t.string),
    }),
  ]),
  spec: QuayIntegrationSpec,
});
export type QuayIntegration = t.TypeOf<typeof QuayIntegration>;

/** The token, kept out of logs and JSON by construction. */
export class Token {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[token]';
  }
  toJSON(): string {
    return '[token]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[token]';
  }
}

export interface QuayEndpoint {
  /** The API origin, e.g. https://quay.example.com:8443 (no path: Quay's API paths are absolute). */
  readonly apiUrl: string;
  /** host[:port] as it appears in image references and dockerconfigjson `auths`. */
  readonly registryHost: string;
}

export interface Settings {
  readonly name: string;
  readonly generation: number;
  readonly clusterID: string;
  readonly organizationPrefix: string;
  readonly quay: QuayEndpoint;
  /** Image imports and pulls only (ImageStreamImport importPolicy.insecure), QBO's meaning. */
  readonly insecureRegistry: boolean;
  /** TLS verification of Quay's API off: an explicit choice, never implied by insecureRegistry. */
  readonly insecureSkipTLSVerifyAPI: boolean;
  readonly scheduledImageStreamImport: boolean;
  readonly caBundle: string | undefined;
  readonly allowlistNamespaces: readonly string[];
  readonly denylistNamespaces: readonly string[];
  readonly robotRoles: ReadonlyMap<string, RobotRole>;
  readonly deleteRepositoriesWithImageStreams: boolean;
  /** Namespaces whose unmarked organization this cluster adopts (the QuayIntegration's ADOPT_ANNOTATION). */
  readonly adoptOrganizations: ReadonlySet<string>;
  readonly credentialsSecret: { readonly namespace: string; readonly name: string; readonly key: string };
}

export interface InvalidSettings {
  readonly _tag: 'InvalidSettings';
  readonly message: string;
}
const invalid = (message: string): InvalidSettings => ({ _tag: 'InvalidSettings', message });

/**
 * quayHostname as QBO documents it is a URL; its docs also show a bare host, which QBO turns into empty image
 * references. A bare host here means https. A path, query or fragment is refused: Quay's API paths are absolute.
 */
export const parseQuayHostname = (raw: string): E.Either<InvalidSettings, QuayEndpoint> => {
  const trimmed = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return E.left(invalid(`spec.quayHostname "${raw}" is not a URL`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return E.left(invalid(`spec.quayHostname "${raw}" must use https or http`));
  if (url.hostname === '') return E.left(invalid(`spec.quayHostname "${raw}" has no host`));
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  )
    return E.left(
      invalid(`spec.quayHostname "${raw}" must be scheme://host[:port] with no path, query or credentials`),
    );
  return E.right({ apiUrl: url.origin, registryHost: url.host });
};

export const resolveSettings = (qi: QuayIntegration): E.Either<InvalidSettings, Settings> => {
  const spec = qi.spec;
  const clusterID = spec.clusterID ?? 'openshift';
  const prefix = organizationPrefix({ clusterID, organizationPrefix: spec.organizationPrefix });
  // A valid prefix followed by "_" and a valid namespace makes a valid organization name; check it once here.
  const prefixProblem = quayNameProblem(`${prefix}_ns`);
  if (prefixProblem !== undefined || prefix.includes('_'))
    return E.left(
      invalid(
        `organization prefix "${prefix}" cannot start a Quay organization name: ${prefixProblem ?? 'it contains "_"'}`,
      ),
    );
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterID.toLowerCase()))
    return E.left(
      invalid(`spec.clusterID "${clusterID}" must be a DNS label: it ends every robot Secret's name`),
    );
  const robotRoles = new Map(DEFAULT_ROBOT_ROLES);
  for (const extra of spec.additionalServiceAccounts ?? []) robotRoles.set(extra.name, extra.role);
  return pipe(
    parseQuayHostname(spec.quayHostname),
    E.map((quay) => ({
      name: qi.metadata.name,
      generation: qi.metadata.generation ?? 0,
      clusterID,
      organizationPrefix: prefix,
      quay,
      insecureRegistry: spec.insecureRegistry ?? false,
      insecureSkipTLSVerifyAPI: spec.insecureSkipTLSVerifyAPI ?? false,
      scheduledImageStreamImport: spec.scheduledImageStreamImport ?? false,
      caBundle: spec.quayCABundle,
      allowlistNamespaces: spec.allowlistNamespaces ?? [],
      denylistNamespaces: spec.denylistNamespaces ?? [],
      robotRoles,
      deleteRepositoriesWithImageStreams: spec.deleteRepositoriesWithImageStreams ?? false,
      adoptOrganizations: adoptedNamespaces(qi.metadata.annotations?.[ADOPT_ANNOTATION]),
      credentialsSecret: {
        namespace: spec.credentialsSecret.namespace,
        name: spec.credentialsSecret.name,
        key: spec.credentialsSecret.key ?? 'token', // QBO docs/qbo-compatibility.md#b1: it always read "token"; we honour the key.
      },
    })),
  );
};

export const decodeQuayIntegration = (u: unknown): E.Either<InvalidSettings, QuayIntegration> =>
  pipe(
    QuayIntegration.decode(u),
    E.mapLeft((errors) => invalid(`QuayIntegration does not decode: ${formatDecodeError(errors)}`)),
  );
