import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { KubeAccess } from '../../../shared/kube/access.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { Resources } from '../../../shared/kube/resources.js';

describe('Kubernetes client: credentials refused are read afresh (kube/http.ts)', () => {
  let server: http.Server;
  let url = '';
  const valid = new Set(['token-2']);
  const seen: string[] = [];
  before(async () => {
    // A stand-in API server on loopback that takes only the tokens in `valid`.
    server = http.createServer((req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push(token);
      if (!valid.has(token))
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"metadata":{"name":"x"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('after a 401, the next request asks the kubeconfig for credentials again (an exec plugin refreshes)', async () => {
    let issued = 0;
    const access: KubeAccess = {
      getCurrentCluster: () => ({ server: url }),
      applyToHTTPSOptions: (opts) => {
        issued += 1;
        opts.headers = { Authorization: `Bearer token-${String(issued)}` };
        return Promise.resolve();
      },
    };
    // Credentials kept for an hour: only the 401 makes the client read them again.
    const client = createKubeClient(access, { fieldManager: 'test', credentialsTtlMs: 3_600_000 });
    const ref = { type: Resources.Namespace, name: 'x' };
    const first = await client.get(ref)();
    expect(E.isLeft(first) && first.left._tag).to.equal('KubeForbidden');
    const second = await client.get(ref)();
    expect(E.isRight(second), JSON.stringify(second)).to.equal(true);
    expect(seen).to.deep.equal(['token-1', 'token-2']);
    // And kept while they are taken.
    await client.get(ref)();
    expect(issued).to.equal(2);
  });
});
