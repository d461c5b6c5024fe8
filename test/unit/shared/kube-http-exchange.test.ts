// How createKubeClient's requests go over the wire (node's own http): the body and its length, the query, and a
// deadline that covers the whole answer, so that a server that stalls mid-body fails the call instead of holding it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { Resources } from '../../../shared/kube/resources.js';

describe('kube/http.ts requests', () => {
  let server: http.Server;
  let url = '';
  const seen: {
    method: string;
    path: string;
    type: string | undefined;
    length: string | undefined;
    body: string;
  }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          type: req.headers['content-type'],
          length: req.headers['content-length'],
          body,
        });
        if ((req.url ?? '').includes('/stalls')) {
          // Headers and half a body, then nothing.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"kind":');
          return;
        }
        if ((req.url ?? '').includes('/busy')) {
          res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', message: 'too many requests' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body === '' ? JSON.stringify({ kind: 'Namespace', metadata: { name: 'é' } }) : body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const kube = (timeoutMs = 15_000) =>
    createKubeClient(
      { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: () => Promise.resolve() },
      { fieldManager: 'quay-bridge', timeoutMs },
    );

  it('sends a patch with its content type, its byte length and the field manager, and reads the answer', async () => {
    const patched = await kube().patch(
      { type: Resources.Namespace, name: 'team-a' },
      { type: 'merge', body: { metadata: { annotations: { note: 'ünïcode' } } } },
    )();
    const sent = seen.at(-1);
    expect(sent?.method).to.equal('PATCH');
    expect(sent?.type).to.equal('application/merge-patch+json');
    expect(Number(sent?.length)).to.equal(Buffer.byteLength(sent?.body ?? ''));
    expect(new URLSearchParams(sent?.path.split('?')[1]).get('fieldManager')).to.equal('quay-bridge');
    expect(patched).to.deep.equal(E.right({ metadata: { annotations: { note: 'ünïcode' } } }));
  });

  it('decodes a UTF-8 answer', async () => {
    expect(await kube().get({ type: Resources.Namespace, name: 'x' })()).to.deep.equal(
      E.right({ kind: 'Namespace', metadata: { name: 'é' } }),
    );
  });

  it('passes Retry-After on', async () => {
    const answer = await kube().get({ type: Resources.Namespace, name: 'busy' })();
    expect(E.isLeft(answer) && answer.left).to.deep.include({ retryAfterSeconds: 7 });
  });

  it('fails a call whose answer stalls mid-body, as unavailable (retried), instead of holding it', async () => {
    const answer = await kube(200).get({ type: Resources.Namespace, name: 'stalls' })();
    expect(E.isLeft(answer) && answer.left._tag).to.equal('KubeUnavailable');
    expect(E.isLeft(answer) && answer.left.message).to.match(
      /GET \/api\/v1\/namespaces\/stalls: no complete answer/,
    );
  });

  it('fails a call to a server that is not there, as unavailable', async () => {
    const gone = createKubeClient(
      {
        getCurrentCluster: () => ({ server: 'http://127.0.0.1:1' }),
        applyToHTTPSOptions: () => Promise.resolve(),
      },
      { fieldManager: 'quay-bridge' },
    );
    const answer = await gone.get({ type: Resources.Namespace, name: 'x' })();
    expect(E.isLeft(answer) && answer.left._tag).to.equal('KubeUnavailable');
  });
});
