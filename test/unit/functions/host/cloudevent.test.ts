// The host's CloudEvent decoding (functions/host/cloudevent.ts) against what the cloudevents SDK makes of the same
// event (HTTP.binary / HTTP.structured): the wire format stays the real CloudEvents one.
import { expect } from 'chai';
import { CloudEvent, HTTP } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCloudEvent, type Decoded } from '../../../../functions/host/cloudevent.js';
import { decodeObjectEvent } from '../../../../shared/events/envelope.js';
import { Namespace } from '../../../../shared/kube/objects.js';

const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', uid: 'u1' } };
const sdkEvent = new CloudEvent({
  id: 'e1',
  source: 'https://10.96.0.1:443',
  type: 'dev.knative.apiserver.resource.update',
  subject: '/apis/v1/namespaces/team-a',
  time: '2026-12-03T10:00:00Z',
  datacontenttype: 'application/json',
  kind: 'Namespace',
  apiversion: 'v1',
  name: 'team-a',
  namespace: '',
  data: object,
});

const decode = (message: { headers: object; body: unknown }): Decoded =>
  decodeCloudEvent(message.headers as Record<string, string>, Buffer.from(String(message.body)));

const right = (d: Decoded): Readonly<Record<string, unknown>> => {
  if (E.isLeft(d)) throw new Error(`refused: ${d.left}`);
  if (d.right === undefined) throw new Error('not a CloudEvent');
  return d.right;
};

const left = (d: Decoded): string => {
  if (E.isRight(d)) throw new Error(`accepted: ${JSON.stringify(d.right)}`);
  return d.left;
};

/** Binary mode as the SDK writes it, with headers lower-cased as node:http hands them. */
const binary = (event: CloudEvent<unknown>): { headers: Record<string, string>; body: unknown } => {
  const m = HTTP.binary(event);
  return {
    headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k.toLowerCase(), String(v)])),
    body: m.body,
  };
};

describe('the host decodes CloudEvents off the wire', () => {
  it('binary mode: the attributes, the extensions and the JSON data the SDK sent', () => {
    const e = right(decode(binary(sdkEvent)));
    expect(e).to.deep.include({
      specversion: '1.0',
      id: 'e1',
      source: 'https://10.96.0.1:443',
      type: 'dev.knative.apiserver.resource.update',
      subject: '/apis/v1/namespaces/team-a',
      time: '2026-12-03T10:00:00.000Z',
      kind: 'Namespace',
      apiversion: 'v1',
      name: 'team-a',
      namespace: '',
    });
    expect(e.data).to.deep.equal(object);
  });

  it('structured mode: the same event', () => {
    const e = right(decode(HTTP.structured(sdkEvent)));
    expect(e).to.deep.include({ id: 'e1', kind: 'Namespace', name: 'team-a', namespace: '' });
    expect(e.data).to.deep.equal(object);
  });

  it("gives a step's decoder what it decodes from the SDK's own event, in both modes", () => {
    const codec = decodeObjectEvent([{ kind: 'Namespace', group: '', codec: Namespace }]);
    const fromSdk = codec(sdkEvent);
    expect(E.isRight(fromSdk)).to.be.true;
    expect(codec(right(decode(binary(sdkEvent))))).to.deep.equal(fromSdk);
    expect(codec(right(decode(HTTP.structured(sdkEvent))))).to.deep.equal(fromSdk);
  });

  it('structured mode: data_base64 becomes the bytes', () => {
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'e2',
      source: 's',
      type: 't',
      data_base64: Buffer.from('{"a":1}').toString('base64'),
    });
    const e = right(decodeCloudEvent({ 'content-type': 'application/cloudevents+json' }, Buffer.from(body)));
    expect(Buffer.from(e.data as Uint8Array).toString()).to.equal('{"a":1}');
    expect(e).to.not.have.property('data_base64');
  });

  it('a request with neither a ce-specversion header nor the structured content type carries none', () => {
    expect(decodeCloudEvent({ 'content-type': 'application/json' }, Buffer.from('{}'))).to.deep.equal(
      E.right(undefined),
    );
  });

  const binaryHeaders = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': 'e1',
    'ce-source': 's',
    'ce-type': 't',
  };

  it('refuses what the CloudEvents spec or the SDK refuses (answered 400)', () => {
    const refusals: [string, Record<string, string>, string][] = [
      ['an empty type', { ...binaryHeaders, 'ce-type': '' }, '{}'],
      ['no id', { ...binaryHeaders, 'ce-id': '' }, '{}'],
      ['another specversion', { ...binaryHeaders, 'ce-specversion': '0.2' }, '{}'],
      ['an attribute name with a dash', { ...binaryHeaders, 'ce-my-ext': 'x' }, '{}'],
      ['data in a header', { ...binaryHeaders, 'ce-data': 'x' }, '{}'],
      ['a time that is no timestamp', { ...binaryHeaders, 'ce-time': 'yesterday' }, '{}'],
      ['JSON data that is not JSON', binaryHeaders, '{"a":'],
      [
        'a structured body that is a string',
        { 'content-type': 'application/cloudevents+json' },
        '"an event"',
      ],
      [
        'a structured body that is not JSON',
        { 'content-type': 'application/cloudevents+json' },
        '{"specversion":',
      ],
      ['a structured array (batch)', { 'content-type': 'application/cloudevents-batch+json' }, '[]'],
      [
        'a structured attribute that is an object',
        { 'content-type': 'application/cloudevents+json' },
        JSON.stringify({ specversion: '1.0', id: '1', source: 's', type: 't', kind: { a: 1 } }),
      ],
      [
        'both data and data_base64',
        { 'content-type': 'application/cloudevents+json' },
        JSON.stringify({ specversion: '1.0', id: '1', source: 's', type: 't', data: 1, data_base64: 'AA==' }),
      ],
    ];
    for (const [what, headers, body] of refusals)
      expect(left(decodeCloudEvent(headers, Buffer.from(body))), what).to.be.a('string');
  });

  it('refuses what faas-js-runtime refused with the SDK (toEvent, then validate), e.g. an empty type', () => {
    const sdkRefuses = (headers: Record<string, string>, body: string): boolean => {
      try {
        // What faas-js-runtime did: toEvent, then validate (here: a strict copy, which validates as it is made).
        for (const x of [HTTP.toEvent({ headers, body })].flat()) new CloudEvent(x).validate();
        return false;
      } catch {
        return true;
      }
    };
    const cases: [Record<string, string>, string][] = [
      [{ ...binaryHeaders, 'ce-type': '' }, '{}'],
      [{ 'content-type': 'application/cloudevents+json' }, '"an event"'],
      [binaryHeaders, '{}'],
    ];
    for (const [headers, body] of cases)
      expect(E.isLeft(decodeCloudEvent(headers, Buffer.from(body))), JSON.stringify(headers)).to.equal(
        sdkRefuses(headers, body),
      );
  });
});
