import { expect } from 'chai';
import { HTTP } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { decodeEnvelope, decodeObjectEvent } from '../../../shared/events/envelope.js';
import { Namespace, ServiceAccount } from '../../../shared/kube/objects.js';
import { apiServerEvent } from './fakes/events.js';

const decodeNs = decodeObjectEvent([{ kind: 'Namespace', group: '', codec: Namespace }]);
const decodeSa = decodeObjectEvent([{ kind: 'ServiceAccount', group: '', codec: ServiceAccount }]);
const messageOf = (e: E.Either<{ message: string }, unknown>): string =>
  E.isLeft(e) ? e.left.message : 'decoded';

const ns = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'team-a', uid: 'u1', labels: { a: 'b' } },
  spec: { finalizers: ['kubernetes'] },
};

describe('ApiServerSource event decoding', () => {
  it('decodes a binary-mode event as faas-js-runtime hands it over, keeping unknown fields of the object', () => {
    const m = HTTP.binary(apiServerEvent('update', ns, { id: 'e1' }));
    const ce = HTTP.toEvent({ headers: m.headers, body: m.body });
    const d = decodeNs(ce);
    if (E.isLeft(d)) throw new Error(d.left.message);
    expect(d.right).to.include({
      id: 'e1',
      action: 'update',
      kind: 'Namespace',
      name: 'team-a',
      namespace: undefined,
    });
    expect(O.toUndefined(d.right.object)).to.deep.equal(ns);
  });

  it('decodes a structured-mode event the same way', () => {
    const m = HTTP.structured(apiServerEvent('delete', ns, { id: 'e2' }));
    const ce = HTTP.toEvent({ headers: m.headers, body: m.body });
    const d = decodeNs(ce);
    expect(E.isRight(d) && d.right.action).to.equal('delete');
  });

  it('accepts data that arrives as JSON text', () => {
    const ce = apiServerEvent('add', ns).cloneWith({
      datacontenttype: 'text/plain',
      data: JSON.stringify(ns),
    });
    expect(E.isRight(decodeNs(ce))).to.equal(true);
  });

  it('decodes a Reference-mode event without an object', () => {
    const d = decodeSa(
      apiServerEvent(
        'add',
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'a' } },
        { mode: 'ref' },
      ),
    );
    if (E.isLeft(d)) throw new Error(d.left.message);
    expect(d.right).to.include({ action: 'add', namespace: 'a', name: 'builder' });
    expect(O.isNone(d.right.object)).to.equal(true);
  });

  const bad: readonly [string, unknown, RegExp][] = [
    ['not an object', 'hello', /the request is not a CloudEvent/],
    [
      'no id',
      { type: 'x', source: 's' },
      /^the CloudEvent does not decode: id: expected non-empty string, got nothing/,
    ],
    [
      'another event type',
      { id: '1', source: 's', type: 'dev.knative.sources.ping' },
      /event type "dev.knative.sources.ping" is not an ApiServerSource resource or reference event/,
    ],
    [
      'an unknown action',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.patch',
        kind: 'Namespace',
        apiversion: 'v1',
        name: 'a',
      },
      /is not an ApiServerSource/,
    ],
    [
      'no kind extension',
      { id: '1', source: 's', type: 'dev.knative.apiserver.resource.add', apiversion: 'v1', name: 'a' },
      /the ApiServerSource extensions does not decode: kind: expected non-empty string, got nothing/,
    ],
    [
      'a kind of another group',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.add',
        kind: 'Namespace',
        apiversion: 'example.com/v1',
        name: 'a',
        data: {},
      },
      /handles Namespace, not Namespace \(example.com\/v1\)/,
    ],
    [
      'no data',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.add',
        kind: 'Namespace',
        apiversion: 'v1',
        name: 'a',
      },
      /the Namespace event carries no object/,
    ],
    [
      'data that is not JSON',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.add',
        kind: 'Namespace',
        apiversion: 'v1',
        name: 'a',
        data: '{nope',
      },
      /the event data is not JSON/,
    ],
    [
      'an object of the wrong shape',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.add',
        kind: 'Namespace',
        apiversion: 'v1',
        name: 'a',
        data: { metadata: {} },
      },
      /the Namespace in the event does not decode: metadata.name: expected string, got nothing/,
    ],
    [
      'another object than the extensions name',
      {
        id: '1',
        source: 's',
        type: 'dev.knative.apiserver.resource.add',
        kind: 'Namespace',
        apiversion: 'v1',
        name: 'a',
        data: { metadata: { name: 'b' } },
      },
      /the event names Namespace \/a but carries another object/,
    ],
  ];
  for (const [name, input, want] of bad)
    it(`refuses ${name}, saying why`, () => {
      expect(messageOf(decodeNs(input))).to.match(want);
    });

  it('reads the envelope of any CloudEvent (the resync takes Ping events)', () => {
    expect(
      E.isRight(decodeEnvelope({ id: '1', source: '/ping', type: 'dev.knative.sources.ping' })),
    ).to.equal(true);
  });
});
