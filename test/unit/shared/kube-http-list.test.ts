// What createKubeClient asks the API server for when it lists: the Accept header decides whether a list carries
// whole objects or their metadata only (a PartialObjectMetadataList), and `continue` pages are followed either way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { createKubeClient, METADATA_LIST_ACCEPT } from '../../../shared/kube/http.js';
import { Resources } from '../../../shared/kube/resources.js';

describe('kube/http.ts lists', () => {
  let server: http.Server;
  let url = '';
  const seen: { path: string; accept: string | undefined }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url ?? '', accept: req.headers.accept });
      const metadataOnly = req.headers.accept === METADATA_LIST_ACCEPT;
      const second = (req.url ?? '').includes('continue=next');
      if ((req.url ?? '').includes('/namespaces/empty/')) {
        res.setHeader('content-type', 'application/json');
        // What kube-apiserver sends for an empty metadata-only list.
        res.end(JSON.stringify({ kind: 'PartialObjectMetadataList', metadata: {}, items: null }));
        return;
      }
      const item = (name: string) =>
        metadataOnly
          ? {
              kind: 'PartialObjectMetadata',
              apiVersion: 'meta.k8s.io/v1',
              metadata: { name, namespace: 'team-a' },
            }
          : { kind: 'ImageStream', metadata: { name, namespace: 'team-a' }, spec: { tags: [] } };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          kind: metadataOnly ? 'PartialObjectMetadataList' : 'ImageStreamList',
          metadata: second ? {} : { continue: 'next' },
          items: [item(second ? 'b' : 'a')],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const kube = () =>
    createKubeClient(
      { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: () => Promise.resolve() },
      { fieldManager: 'test' },
    );

  it('asks for metadata only, on every page, when told to', async () => {
    const items = await kube().list(Resources.ImageStream, { namespace: 'team-a', metadataOnly: true })();
    expect(E.isRight(items) && items.right.map((i) => (i as { kind: string }).kind)).to.deep.equal([
      'PartialObjectMetadata',
      'PartialObjectMetadata',
    ]);
    expect(seen.map((s) => s.accept)).to.deep.equal([METADATA_LIST_ACCEPT, METADATA_LIST_ACCEPT]);
    expect(seen[0]?.path).to.match(/^\/apis\/image\.openshift\.io\/v1\/namespaces\/team-a\/imagestreams\?/);
  });

  it('reads the null items of an empty metadata-only list as no items', async () => {
    const items = await kube().list(Resources.ImageStream, { namespace: 'empty', metadataOnly: true })();
    expect(items).to.deep.equal(E.right([]));
  });

  it('reads from the watch cache when told to: resourceVersion=0 on the first page only (the API server refuses it with continue)', async () => {
    await kube().list(Resources.ImageStream, { namespace: 'team-a', metadataOnly: true, fromCache: true })();
    const queries = seen.map((s) => new URLSearchParams(s.path.slice(s.path.indexOf('?') + 1)));
    expect(queries.map((q) => [q.get('resourceVersion'), q.get('continue')])).to.deep.equal([
      ['0', null],
      [null, 'next'],
    ]);
  });

  it('asks for whole objects otherwise', async () => {
    const items = await kube().list(Resources.ImageStream)();
    expect(E.isRight(items) && items.right).to.have.length(2);
    expect(seen.map((s) => s.accept)).to.deep.equal(['application/json', 'application/json']);
  });
});
