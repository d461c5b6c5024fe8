// Where the token goes in the cluster: the QuayIntegration's credentials Secret (or the one --secret names), created
// if missing, else only its one key patched, so labels, annotations and other keys stay. Running again writes the
// same key of the same Secret.
import * as E from 'fp-ts/lib/Either.js';
import { getOptional, listDecoded, type KubeClient } from '../../shared/kube/client.js';
import type { KubeError } from '../../shared/kube/errors.js';
import { Resources } from '../../shared/kube/resources.js';
import * as t from 'io-ts';
import { QuayIntegration } from '../../shared/settings/quay-integration.js';
import type { TokenError } from './errors.js';

export interface SecretTarget {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  /** The QuayIntegration it was read from, if any. */
  readonly integration?: { readonly name: string; readonly quayHostname: string };
}

const SecretData = t.partial({ data: t.record(t.string, t.string) });

const kube =
  (during: string) =>
  (error: KubeError): TokenError => ({ _tag: 'Kube', during, error });

/**
 * --secret as given, else the one QuayIntegration's spec.credentialsSecret (its key, unless --key says); read once
 * here, so that credentials that may not even read it fail before Quay is asked for a token.
 */
export const resolveTarget = async (
  client: KubeClient,
  secret: { readonly namespace: string; readonly name: string } | undefined,
  key: string | undefined,
): Promise<E.Either<TokenError, SecretTarget>> => {
  const target = await findTarget(client, secret, key);
  if (E.isLeft(target)) return target;
  const { namespace, name } = target.right;
  const readable = await getOptional(client, SecretData, { type: Resources.Secret, namespace, name })();
  return E.isLeft(readable) ? E.left(kube(`reading the Secret ${namespace}/${name}`)(readable.left)) : target;
};

const findTarget = async (
  client: KubeClient,
  secret: { readonly namespace: string; readonly name: string } | undefined,
  key: string | undefined,
): Promise<E.Either<TokenError, SecretTarget>> => {
  if (secret !== undefined) return E.right({ ...secret, key: key ?? 'token' });
  const listed = await listDecoded(client, QuayIntegration, Resources.QuayIntegration)();
  if (E.isLeft(listed)) return E.left(kube('listing QuayIntegrations')(listed.left));
  const [only, ...others] = listed.right;
  if (only === undefined) return E.left({ _tag: 'NoQuayIntegration' });
  if (others.length > 0)
    return E.left({ _tag: 'SeveralQuayIntegrations', names: listed.right.map((q) => q.metadata.name) });
  const ref = only.spec.credentialsSecret;
  return E.right({
    namespace: ref.namespace,
    name: ref.name,
    key: key ?? ref.key ?? 'token',
    integration: { name: only.metadata.name, quayHostname: only.spec.quayHostname },
  });
};

/** Creates the Secret, or sets its key: 'created', 'updated' or 'unchanged' (it already held this token). */
export const writeToken = async (
  client: KubeClient,
  target: SecretTarget,
  token: string,
): Promise<E.Either<TokenError, 'created' | 'updated' | 'unchanged'>> => {
  const ref = { type: Resources.Secret, namespace: target.namespace, name: target.name };
  const what = `Secret ${target.namespace}/${target.name}`;
  const encoded = Buffer.from(token, 'utf8').toString('base64');
  const found = await getOptional(client, SecretData, ref)();
  if (E.isLeft(found)) return E.left(kube(`reading the ${what}`)(found.left));
  if (found.right._tag === 'None') {
    const created = await client.create(Resources.Secret, target.namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: target.name,
        namespace: target.namespace,
        labels: { 'app.kubernetes.io/part-of': 'quay-bridge' },
      },
      type: 'Opaque',
      data: { [target.key]: encoded },
    })();
    return E.isLeft(created) ? E.left(kube(`creating the ${what}`)(created.left)) : E.right('created');
  }
  if (found.right.value.data?.[target.key] === encoded) return E.right('unchanged');
  const patched = await client.patch(ref, { type: 'merge', body: { data: { [target.key]: encoded } } })();
  return E.isLeft(patched) ? E.left(kube(`updating the ${what}`)(patched.left)) : E.right('updated');
};
