// The CloudEvents that Knative's ApiServerSource emits (docs/design.md#event-delivery), decoded from whatever
// faas-js-runtime hands a function (a `CloudEvent` of the cloudevents SDK, from binary or structured mode):
//   type       dev.knative.apiserver.resource.{add,update,delete}  (mode: Resource; data = the whole object)
//              dev.knative.apiserver.ref.{add,update,delete}       (mode: Reference; data = an ObjectReference)
//   subject    /apis/v1/namespaces/<ns>/<plural>/<name>
//   extensions kind, apiversion, name, namespace ("" for cluster-scoped objects)
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { formatDecodeError } from '../codec.js';
import type { BadEvent } from '../errors.js';

export type Action = 'add' | 'update' | 'delete';

const RESOURCE_PREFIX = 'dev.knative.apiserver.resource.';
const REF_PREFIX = 'dev.knative.apiserver.ref.';
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

const NonEmpty = new t.Type<string, string, unknown>(
  'non-empty string',
  (u): u is string => typeof u === 'string' && u !== '',
  (u, c) => (typeof u === 'string' && u !== '' ? t.success(u) : t.failure(u, c)),
  (s) => s,
);

/** The attributes every CloudEvent has (CloudEvents 1.0 required attributes). */
export const Envelope = t.intersection([
  t.type({ id: NonEmpty, type: NonEmpty, source: NonEmpty }),
  t.partial({ subject: t.string, time: t.string, datacontenttype: t.string, data: t.unknown }),
]);
export type Envelope = t.TypeOf<typeof Envelope>;

const matching = (name: string, re: RegExp, max: number) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && u.length <= max && re.test(u),
    (u, c) => (typeof u === 'string' && u.length <= max && re.test(u) ? t.success(u) : t.failure(u, c)),
    (s) => s,
  );

// Every object the source watches is named by a DNS-1123 subdomain and lives in a namespace named by a DNS-1123
// label: an event naming anything else cannot be about a real object, so it is poison, not "already gone".
const ObjectName = matching(
  'a DNS-1123 subdomain',
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  253,
);
const NamespaceName = matching('a DNS-1123 label or ""', /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, 63);

const ApiServerExtensions = t.intersection([
  t.type({ kind: NonEmpty, apiversion: NonEmpty, name: ObjectName }),
  t.partial({ namespace: NamespaceName }),
]);

export interface ObjectEvent<A> {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly action: Action;
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  /** undefined for cluster-scoped objects. */
  readonly namespace: string | undefined;
  /** The object as the event carries it (for delete: its last state); none in Reference mode. */
  readonly object: O.Option<A>;
}

const bad = (message: string): BadEvent => ({ _tag: 'BadEvent', message });

const decodeWith = <A>(codec: t.Decoder<unknown, A>, what: string, u: unknown): E.Either<BadEvent, A> =>
  pipe(
    codec.decode(u),
    E.mapLeft((errors) => bad(`${what} does not decode: ${formatDecodeError(errors)}`)),
  );

/** JSON data may arrive parsed (application/json), as text, or as bytes, depending on the content type. */
export const dataAsJson = (data: unknown): E.Either<BadEvent, unknown> => {
  const text =
    typeof data === 'string'
      ? data
      : data instanceof Uint8Array
        ? Buffer.from(data).toString('utf8')
        : undefined;
  if (text === undefined) return E.right(data);
  try {
    return E.right(JSON.parse(text));
  } catch {
    return E.left(bad('the event data is not JSON'));
  }
};

export const decodeEnvelope = (u: unknown): E.Either<BadEvent, Envelope> =>
  u === null || typeof u !== 'object'
    ? E.left(bad('the request is not a CloudEvent'))
    : decodeWith(Envelope, 'the CloudEvent', u);

const actionOf = (
  type: string,
): { readonly mode: 'resource' | 'ref'; readonly action: Action } | undefined => {
  const [mode, rest] = type.startsWith(RESOURCE_PREFIX)
    ? (['resource', type.slice(RESOURCE_PREFIX.length)] as const)
    : type.startsWith(REF_PREFIX)
      ? (['ref', type.slice(REF_PREFIX.length)] as const)
      : [undefined, ''];
  if (mode === undefined) return undefined;
  return rest === 'add' || rest === 'update' || rest === 'delete' ? { mode, action: rest } : undefined;
};

/** The group of an apiVersion: "" for the core group. */
export const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';

export interface Expected<A> {
  readonly kind: string;
  /** The API group the kind must come from ("" for core); any version is accepted. */
  readonly group: string;
  readonly codec: t.Decoder<unknown, A>;
}

/**
 * Decodes an ApiServerSource event about one of the `expected` kinds. The object in Resource mode must be the one
 * the extensions name (a mismatch means a broken or forged event); Reference mode carries no object.
 */
export const decodeObjectEvent =
  <A>(expected: readonly Expected<A>[]) =>
  (u: unknown): E.Either<BadEvent, ObjectEvent<A>> =>
    pipe(
      decodeEnvelope(u),
      E.flatMap((env) => {
        const kindOf = actionOf(env.type);
        if (kindOf === undefined)
          return E.left(
            bad(`event type "${env.type}" is not an ApiServerSource resource or reference event`),
          );
        return pipe(
          decodeWith(ApiServerExtensions, 'the ApiServerSource extensions', u),
          E.flatMap((ext) => {
            const match = expected.find((x) => x.kind === ext.kind && x.group === groupOf(ext.apiversion));
            if (match === undefined)
              return E.left(
                bad(
                  `this step handles ${expected.map((x) => x.kind).join(', ')}, not ${ext.kind} (${ext.apiversion})`,
                ),
              );
            const namespace = ext.namespace === undefined || ext.namespace === '' ? undefined : ext.namespace;
            const base = {
              id: env.id,
              type: env.type,
              source: env.source,
              action: kindOf.action,
              kind: ext.kind,
              apiVersion: ext.apiversion,
              name: ext.name,
              namespace,
            };
            if (kindOf.mode === 'ref') return E.right({ ...base, object: O.none });
            return pipe(
              dataAsJson(env.data),
              E.flatMap((data) =>
                data === undefined || data === null
                  ? E.left(bad(`the ${ext.kind} event carries no object`))
                  : decodeWith(match.codec, `the ${ext.kind} in the event`, data),
              ),
              E.flatMap((object) => {
                const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
                if (meta?.name !== ext.name || (meta.namespace ?? undefined) !== namespace)
                  return E.left(
                    bad(
                      `the event names ${ext.kind} ${ext.namespace ?? ''}/${ext.name} but carries another object`,
                    ),
                  );
                return E.right({ ...base, object: O.some(object) });
              }),
            );
          }),
        );
      }),
    );

export const describeEvent = (e: {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
}) => (e.namespace === undefined ? `${e.kind} ${e.name}` : `${e.kind} ${e.namespace}/${e.name}`);
