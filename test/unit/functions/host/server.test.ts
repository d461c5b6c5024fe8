// The lean host (functions/host/server.ts) over real HTTP on loopback, with a fake step handler: the answers of the
// broker contract (docs/design.md#event-delivery), the body limit, health, /metrics, and the drain on SIGTERM.
import { request } from 'node:http';
import { expect } from 'chai';
import { CloudEvent, HTTP } from 'cloudevents';
import * as sinon from 'sinon';
import { startHost, type Host, type HostOptions } from '../../../../functions/host/server.js';
import type { HttpAnswer, InvocationContext } from '../../../../shared/runtime/handler.js';
import { answerToDeclaredLength } from '../../../support/declared-length.js';

const LIMIT = 1024;
const event = new CloudEvent({
  id: 'e1',
  source: 's',
  type: 'dev.knative.apiserver.resource.update',
  data: { a: 1 },
});

const answer = (statusCode: number, headers: Record<string, string> = {}, body = ''): HttpAnswer => ({
  statusCode,
  headers,
  body,
});

describe('the lean step host', () => {
  let host: Host | undefined;
  let url = '';
  const start = async (handle: HostOptions['handle']): Promise<Host> => {
    host = await startHost({
      port: 0,
      host: '127.0.0.1',
      bodyLimit: LIMIT,
      handle,
      metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', text: 'quay_bridge_x 1\n' }),
    });
    url = `http://127.0.0.1:${String(host.port)}`;
    return host;
  };
  afterEach(async () => {
    await host?.drain();
    host = undefined;
  });

  const post = async (headers: Record<string, string>, body: string) => {
    const res = await fetch(`${url}/`, { method: 'POST', headers, body });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  const binary = () => {
    const m = HTTP.binary(event);
    return [m.headers as Record<string, string>, m.body as string] as const;
  };

  it('hands the step the decoded CloudEvent and sends its answer as is (status, Retry-After, body)', async () => {
    const handle = sinon.fake.resolves(answer(429, { 'retry-after': '3' }, 'busy'));
    await start(handle);
    const a = await post(...binary());
    expect(a.status).to.equal(429);
    expect(a.headers.get('retry-after')).to.equal('3');
    expect(a.body).to.equal('busy');
    const [context, ce] = handle.firstCall.args as [InvocationContext, unknown];
    expect(context.cloudevent).to.deep.include({ id: 'e1', type: event.type, data: { a: 1 } });
    expect(ce).to.equal(context.cloudevent);
  });

  it('answers 400 to a malformed CloudEvent, without calling the step', async () => {
    const handle = sinon.fake.resolves(answer(204));
    await start(handle);
    const [headers, body] = binary();
    expect((await post({ ...headers, 'ce-type': '' }, body)).status).to.equal(400);
    expect((await post({ 'content-type': 'application/cloudevents+json' }, '"x"')).status).to.equal(400);
    expect(handle.called).to.be.false;
  });

  it('hands a request that is no CloudEvent to the step without one (its decoder refuses it)', async () => {
    const handle = sinon.fake.resolves(answer(422));
    await start(handle);
    expect((await post({ 'content-type': 'text/plain' }, 'hello')).status).to.equal(422);
    expect((handle.firstCall.args[0] as InvocationContext).cloudevent).to.equal(undefined);
  });

  it('answers 500 when the step throws', async () => {
    await start(sinon.fake.rejects(new Error('bug')));
    expect((await post(...binary())).status).to.equal(500);
  });

  it('refuses a body over its limit by the declared length, before reading it: 413', async () => {
    const handle = sinon.fake.resolves(answer(204));
    await start(handle);
    const a = await answerToDeclaredLength(`${url}/`, binary()[0], LIMIT + 1);
    expect(a.status).to.equal(413);
    expect(handle.called).to.be.false;
  });

  it('refuses a chunked body once it passes the limit: 413', async () => {
    const handle = sinon.fake.resolves(answer(204));
    await start(handle);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/`, { method: 'POST', headers: binary()[0] }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x'.repeat(LIMIT));
      req.end('x'.repeat(LIMIT));
    });
    expect(status).to.equal(413);
    expect(handle.called).to.be.false;
  });

  it('serves health and /metrics, and nothing else', async () => {
    await start(sinon.fake.resolves(answer(204)));
    expect((await fetch(`${url}/health/liveness`)).status).to.equal(200);
    expect((await fetch(`${url}/health/readiness`)).status).to.equal(200);
    const m = await fetch(`${url}/metrics`);
    expect(await m.text()).to.equal('quay_bridge_x 1\n');
    expect((await fetch(`${url}/other`)).status).to.equal(404);
    expect((await fetch(`${url}/`)).status).to.equal(405);
  });

  it('drains: an event in flight when SIGTERM comes is answered, then the server closes', async () => {
    let finish: (a: HttpAnswer) => void = () => undefined;
    let started: () => void = () => undefined;
    const inStep = new Promise<void>((r) => (started = r));
    const h = await start(
      () =>
        new Promise<HttpAnswer>((resolve) => {
          finish = resolve;
          started();
        }),
    );
    const order: string[] = [];
    const answered = post(...binary());
    await inStep;
    const drained = h.drain().then(() => order.push('closed'));
    // No new connection is taken while draining.
    const refused = await fetch(`${url}/health/liveness`).then(
      () => false,
      () => true,
    );
    order.push('step done');
    finish(answer(204));
    const [a] = await Promise.all([answered, drained]);
    expect(refused).to.be.true;
    expect(a.status, 'the event in flight is answered, its connection not cut').to.equal(204);
    expect(order).to.deep.equal(['step done', 'closed']);
    host = undefined;
  });
});
