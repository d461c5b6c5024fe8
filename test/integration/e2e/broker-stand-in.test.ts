// The broker stand-in over real HTTP: CloudEvents in binary and structured mode at its ingress, routing by Trigger
// filters, delivery in binary mode, Knative's retry classification with back-off, dead letters, replies, and a
// bound on requests in flight.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CloudEvent, HTTP } from 'cloudevents';
import { startBroker, type BrokerStandIn } from '../../event-path/broker.js';
import type { DeliverySpec } from '../../event-path/delivery.js';
import type { Trigger } from '../../event-path/manifests.js';

interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A subscriber answering from a script of statuses (the last one repeats), recording what it receives. */
const subscriber = async (
  statuses: readonly number[],
  options: {
    readonly body?: (n: number) => string;
    readonly headers?: Record<string, string>;
    readonly holdMs?: number;
  } = {},
) => {
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const n = received.length;
      received.push({ headers: req.headers, body });
      setTimeout(() => {
        inFlight -= 1;
        res.writeHead(statuses[Math.min(n, statuses.length - 1)] ?? 500, options.headers ?? {});
        res.end(options.body?.(n) ?? '');
      }, options.holdMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => {
          r();
        });
        server.closeAllConnections();
      }),
  };
};

const delivery = (retry: number, extra: Partial<DeliverySpec> = {}): DeliverySpec => ({
  retry,
  backoffPolicy: 'exponential',
  backoffDelay: 'PT1S',
  deadLetterSink: { uri: 'dls' },
  ...extra,
});

const trigger = (
  name: string,
  kind: string,
  subscriberUri: string,
  spec: DeliverySpec | undefined,
): Trigger => ({
  name,
  namespace: 'ns',
  broker: 'b',
  filters: { filters: [{ exact: { kind } }, { prefix: { type: 'dev.knative.apiserver.resource.' } }] },
  subscriber: { uri: subscriberUri },
  delivery: spec,
});

const event = (kind: string, id = `${kind}-1`): CloudEvent<unknown> =>
  new CloudEvent<unknown>({
    id,
    type: 'dev.knative.apiserver.resource.add',
    source: 'https://127.0.0.1:6443',
    subject: `/apis/v1/namespaces//namespaces/${id}`,
    datacontenttype: 'application/json',
    data: { kind, metadata: { name: id } },
    kind,
    apiversion: 'v1',
    name: id,
    namespace: '',
  });

const send = async (url: string, e: CloudEvent<unknown>, mode: 'binary' | 'structured'): Promise<number> => {
  const message = mode === 'binary' ? HTTP.binary(e) : HTTP.structured(e);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (typeof v === 'string') headers[k] = v;
  const res = await fetch(url, { method: 'POST', headers, body: message.body as string });
  return res.status;
};

describe('the broker stand-in (real HTTP, CloudEvents SDK)', function () {
  this.timeout(30_000);
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  const brokerWith = async (
    triggers: readonly Trigger[],
    urls: Record<string, string>,
    extra: { readonly maxInFlight?: number; readonly delivery?: DeliverySpec } = {},
  ): Promise<BrokerStandIn> => {
    const b = await startBroker({
      name: 'b',
      namespace: 'ns',
      triggers,
      resolve: (d) => ('uri' in d ? urls[d.uri] : undefined),
      backoffScale: 0.005, // PT1S → 5 ms
      ...extra,
    });
    closers.push(() => b.close());
    return b;
  };

  for (const mode of ['binary', 'structured'] as const)
    it(`accepts a ${mode} event with 202 and delivers it in binary mode to the Trigger that matches only`, async () => {
      const ns = await subscriber([204]);
      const sa = await subscriber([204]);
      closers.push(ns.close, sa.close);
      const b = await brokerWith(
        [
          trigger('t-ns', 'Namespace', 'ns', delivery(2)),
          trigger('t-sa', 'ServiceAccount', 'sa', delivery(2)),
        ],
        { ns: ns.url, sa: sa.url },
      );
      expect(await send(b.url, event('Namespace'), mode)).to.equal(202);
      await b.idle();
      expect(sa.received).to.have.length(0);
      expect(ns.received).to.have.length(1);
      const got = ns.received[0]!;
      expect(got.headers['ce-id']).to.equal('Namespace-1');
      expect(got.headers['ce-type']).to.equal('dev.knative.apiserver.resource.add');
      expect(got.headers['ce-kind']).to.equal('Namespace');
      expect(got.headers['ce-namespace']).to.equal('');
      expect(got.headers['ce-knativearrivaltime']).to.be.a('string');
      expect(JSON.parse(got.body)).to.deep.equal({ kind: 'Namespace', metadata: { name: 'Namespace-1' } });
      expect(b.deliveries().map((d) => [d.trigger, d.outcome, d.attempts])).to.deep.equal([
        ['t-ns', 'delivered', 1],
      ]);
    });

  it('answers 400 to a request that is not a CloudEvent', async () => {
    const b = await brokerWith([], {});
    const res = await fetch(b.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(400);
    expect(b.received()).to.equal(0);
  });

  for (const status of [500, 503, 404, 408, 409, 429])
    it(`retries a ${status} and stops at the first 2xx`, async () => {
      const s = await subscriber([status, status, 200]);
      closers.push(s.close);
      const b = await brokerWith([trigger('t', 'Namespace', 's', delivery(5))], { s: s.url });
      b.publish(event('Namespace'));
      await b.idle();
      expect(b.deliveries().map((d) => [d.outcome, d.statuses])).to.deep.equal([
        ['delivered', [status, status, 200]],
      ]);
      expect(s.received.map((r) => r.headers['ce-id'])).to.deep.equal([
        'Namespace-1',
        'Namespace-1',
        'Namespace-1',
      ]);
      expect(b.deadLetters()).to.deep.equal([]);
    });

  for (const status of [400, 401, 403, 422, 302])
    it(`dead-letters a ${status} at once, with Knative's error extensions, to the dead-letter sink`, async () => {
      const s = await subscriber([status], { body: () => 'the event is poison' });
      const dls = await subscriber([202]);
      closers.push(s.close, dls.close);
      const b = await brokerWith([trigger('t', 'Namespace', 's', delivery(5))], { s: s.url, dls: dls.url });
      b.publish(event('Namespace'));
      await b.idle();
      expect(s.received).to.have.length(1);
      expect(b.deadLetters().map((d) => [d.trigger, d.status, d.attempts, d.forwarded])).to.deep.equal([
        ['t', status, 1, true],
      ]);
      const dead = dls.received[0]!;
      expect(dead.headers['ce-id']).to.equal('Namespace-1');
      expect(dead.headers['ce-knativeerrorcode']).to.equal(String(status));
      expect(dead.headers['ce-knativeerrordest']).to.equal(s.url);
      expect(Buffer.from(String(dead.headers['ce-knativeerrordata']), 'base64').toString()).to.equal(
        'the event is poison',
      );
    });

  it('dead-letters after the last retry, having waited the exponential back-off between attempts', async () => {
    const s = await subscriber([503]);
    const dls = await subscriber([202]);
    closers.push(s.close, dls.close);
    const b = await brokerWith([trigger('t', 'Namespace', 's', delivery(3))], { s: s.url, dls: dls.url });
    const times: number[] = [];
    const original = s.received.push.bind(s.received);
    s.received.push = (...items: Received[]) => {
      times.push(Date.now());
      return original(...items);
    };
    b.publish(event('Namespace'));
    await b.idle();
    expect(s.received).to.have.length(4); // the first attempt and three retries
    expect(b.deadLetters().map((d) => [d.status, d.attempts])).to.deep.equal([[503, 4]]);
    expect(dls.received).to.have.length(1);
    // Waits of 5, 10 and 20 ms (PT1S·2^n scaled by 0.005): each gap at least the back-off, so never shorter.
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    gaps.forEach((gap, i) => expect(gap, `gap ${i}`).to.be.at.least(5 * 2 ** i - 1));
  });

  it('treats a 2xx with a body that is not a CloudEvent as a 502, and a CloudEvent reply as a new event', async () => {
    const chatty = await subscriber([200], { body: () => 'OK' });
    const replying = await subscriber([200], {
      body: () =>
        JSON.stringify({
          specversion: '1.0',
          id: 'r-1',
          type: 'dev.knative.apiserver.resource.add',
          source: '/reply',
          kind: 'ServiceAccount',
        }),
      headers: { 'content-type': 'application/cloudevents+json' },
    });
    const sa = await subscriber([204]);
    closers.push(chatty.close, replying.close, sa.close);
    const b = await brokerWith(
      [
        trigger('chatty', 'Build', 'chatty', delivery(1)),
        trigger('replying', 'Namespace', 'replying', delivery(1)),
        trigger('sa', 'ServiceAccount', 'sa', delivery(1)),
      ],
      { chatty: chatty.url, replying: replying.url, sa: sa.url },
    );
    b.publish(event('Build'));
    b.publish(event('Namespace'));
    await b.idle();
    expect(b.deadLetters().map((d) => [d.trigger, d.status, d.attempts])).to.deep.equal([['chatty', 502, 2]]);
    expect(sa.received.map((r) => r.headers['ce-id'])).to.deep.equal(['r-1']);
  });

  it('dead-letters an event whose subscriber does not resolve, and keeps it when there is no dead-letter sink', async () => {
    const b = await brokerWith([trigger('t', 'Namespace', 'missing', { retry: 1 })], {});
    b.publish(event('Namespace'));
    await b.idle();
    expect(b.deadLetters().map((d) => [d.trigger, d.status, d.attempts, d.forwarded])).to.deep.equal([
      ['t', undefined, 2, false],
    ]);
  });

  it("uses the Broker's delivery for a Trigger without one", async () => {
    const s = await subscriber([500, 204]);
    closers.push(s.close);
    const b = await brokerWith(
      [trigger('t', 'Namespace', 's', undefined)],
      { s: s.url },
      { delivery: delivery(1) },
    );
    b.publish(event('Namespace'));
    await b.idle();
    expect(b.deliveries().map((d) => [d.outcome, d.statuses])).to.deep.equal([['delivered', [500, 204]]]);
  });

  it('keeps at most maxInFlight requests to subscribers in flight', async () => {
    const s = await subscriber([204], { holdMs: 50 });
    closers.push(s.close);
    const b = await brokerWith(
      [trigger('t', 'Namespace', 's', delivery(0))],
      { s: s.url },
      { maxInFlight: 2 },
    );
    for (let i = 0; i < 8; i += 1) b.publish(event('Namespace', `n-${i}`));
    await b.idle();
    expect(s.received).to.have.length(8);
    expect(s.maxInFlight()).to.equal(2);
  });

  it('refuses Triggers Knative would refuse', async () => {
    const bad: Trigger = {
      ...trigger('t', 'Namespace', 's', undefined),
      filters: { filters: [{ exact: { kind: 'A' }, prefix: { type: 'x' } }] },
    };
    let error: unknown;
    try {
      await brokerWith([bad], {});
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/Trigger t: spec\.filters\[0\]: one dialect per filter/);
  });
});
