// The transport over real HTTP against a bare node:http server whose every answer the test chooses: what goes on
// the wire, how each kind of failure is retried, and where the token may and may not go.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTransport, type RequestInfo, type TransportOptions } from '../../../shared/quay/http.js';
import { Token } from '../../../shared/settings/quay-integration.js';

const TOKEN = 'TRANSPORTTOKEN000000TRANSPORTTOKEN000000';

type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  attempt: number,
  body: string,
) => unknown;

interface Server {
  readonly url: string;
  readonly seen: {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
    port: number | undefined;
  }[];
  readonly close: () => Promise<void>;
}

const serve = async (handler: Handler): Promise<Server> => {
  const seen: Server['seen'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        port: req.socket.remotePort,
      });
      handler(req, res, seen.length, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
};

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('Quay transport over HTTP', () => {
  const servers: Server[] = [];
  const closers: (() => void)[] = [];
  const start = async (handler: Handler): Promise<Server> => {
    const s = await serve(handler);
    servers.push(s);
    return s;
  };
  const transport = (url: string, extra: Partial<TransportOptions> = {}) => {
    const sleeps: number[] = [];
    const infos: RequestInfo[] = [];
    const t = createTransport({
      apiUrl: url,
      token: new Token(TOKEN),
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      random: () => 0.5,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      onRequest: (info) => infos.push(info),
      ...extra,
    });
    closers.push(t.close);
    return { ...t, sleeps, infos };
  };

  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('sends the bearer token, JSON headers and the JSON body', async () => {
    const server = await start((_req, res) => {
      json(res, 201, 'Created');
    });
    const t = transport(server.url);
    const result = await t.send({ method: 'POST', path: '/api/v1/organization/', body: { name: 'demo' } })();
    expect(E.isRight(result) && result.right.status).to.equal(201);
    const [request] = server.seen;
    expect(request?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(request?.headers.accept).to.equal('application/json');
    expect(request?.headers['content-type']).to.match(/^application\/json/);
    expect(request?.body).to.equal('{"name":"demo"}');
  });

  it('sends no Authorization header for an empty token', async () => {
    const server = await start((_req, res) => {
      json(res, 200, {});
    });
    const t = transport(server.url, { token: new Token('') });
    await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(server.seen[0]?.headers).not.to.have.property('authorization');
  });

  it('retries 503 with backoff and returns the answer that follows', async () => {
    const server = await start((_req, res, n) => {
      n < 3 ? json(res, 503, { message: 'busy' }) : json(res, 200, {});
    });
    const t = transport(server.url);
    const result = await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(E.isRight(result) && result.right.status).to.equal(200);
    // Full jitter with random 0.5: half of 100, then half of 200.
    expect(t.sleeps).to.deep.equal([50, 100]);
    expect(t.infos.map((i) => [i.attempt, i.status])).to.deep.equal([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
  });

  it('honours Retry-After given as an HTTP date, capped at maxDelay', async () => {
    const now = Date.parse('Wed, 25 Nov 2026 08:00:00 GMT');
    const server = await start((_req, res, n) => {
      n === 1
        ? json(res, 429, {}, { 'retry-after': 'Wed, 25 Nov 2026 08:00:00 GMT' })
        : n === 2
          ? json(res, 429, {}, { 'retry-after': 'Wed, 25 Nov 2026 08:01:00 GMT' })
          : json(res, 200, {});
    });
    const t = transport(server.url, { now: () => now });
    const result = await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(E.isRight(result)).to.equal(true);
    expect(t.sleeps).to.deep.equal([0, 1_000]);
  });

  it("holds every request of the client during one request's 429 wait, not only the one that met it", async () => {
    let released = false;
    const arrivals: { path: string; released: boolean }[] = [];
    const server = await start((req, res) => {
      arrivals.push({ path: req.url ?? '', released });
      if (req.url === '/a' && arrivals.filter((a) => a.path === '/a').length === 1)
        json(res, 429, {}, { 'retry-after': '1' });
      else json(res, 200, {});
    });
    let release: () => void = () => undefined;
    const t = transport(server.url, {
      sleep: () =>
        new Promise<void>((resolve) => {
          release = () => {
            released = true;
            resolve();
          };
        }),
    });
    const a = t.send({ method: 'GET', path: '/a' })();
    while (arrivals.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20)); // A has its 429 and is waiting
    const b = t.send({ method: 'GET', path: '/b' })();
    // Time for B to reach the server if nothing held it (localhost answers in about a millisecond).
    await new Promise((r) => setTimeout(r, 300));
    release();
    expect(E.isRight(await a)).to.equal(true);
    expect(E.isRight(await b)).to.equal(true);
    // A's retry and B race once released; neither went out before.
    expect(arrivals[0]).to.deep.equal({ path: '/a', released: false });
    expect(arrivals.slice(1).every((x) => x.released)).to.equal(true);
    expect(arrivals).to.have.length(3);
    expect(arrivals.filter((x) => x.path === '/b')).to.deep.equal([{ path: '/b', released: true }]);
  });

  it("reports the time a 429's wait holds every request (onHold), and none for a 503's backoff", async () => {
    const server = await start((req, res, n) => {
      if (req.url === '/busy') json(res, n === 1 ? 503 : 200, {});
      else json(res, n <= 4 ? 429 : 200, {}, n === 4 ? { 'retry-after': '2' } : {});
    });
    const held: number[] = [];
    const t = transport(server.url, { onHold: (ms) => held.push(ms), now: () => 0 });
    await t.send({ method: 'GET', path: '/busy' })();
    expect(held).to.deep.equal([]);
    expect(E.isRight(await t.send({ method: 'GET', path: '/limited' })())).to.equal(true);
    // Backoff (half of 100 with random 0.5), then Retry-After's 2 s capped at maxDelay.
    expect(held).to.deep.equal([50, 1_000]);
  });

  it('gives QuayRateLimited with the last Retry-After once the attempts are spent', async () => {
    const server = await start((_req, res) => {
      res.writeHead(429, { 'content-type': 'text/html', 'retry-after': '7' });
      res.end('<html><body><h1>429 Too Many Requests</h1></body></html>');
    });
    const t = transport(server.url);
    expect(await t.send({ method: 'GET', path: '/api/v1/user/' })()).to.deep.equal(
      E.left({ _tag: 'QuayRateLimited', retryAfterSeconds: 7 }),
    );
    expect(server.seen).to.have.length(3);
    expect(t.sleeps).to.deep.equal([1_000, 1_000]);
  });

  it('does not retry a 400, a 403 or a 404', async () => {
    for (const status of [400, 403, 404]) {
      const server = await start((_req, res) => {
        json(res, status, { detail: 'no' });
      });
      const t = transport(server.url);
      const result = await t.send({ method: 'PUT', path: '/api/v1/organization/demo/robots/x' })();
      expect(E.isRight(result) && result.right.status).to.equal(status);
      expect(server.seen, `status ${status}`).to.have.length(1);
    }
  });

  it('retries a request whose response never comes within the timeout', async () => {
    const server = await start((_req, res, n) => {
      if (n > 1) json(res, 200, {});
      // The first request is left hanging; closeAllConnections ends it.
    });
    const t = transport(server.url, { timeoutMs: 300 });
    const result = await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(E.isRight(result) && result.right.status).to.equal(200);
    expect(t.infos.map((i) => i.status)).to.deep.equal([undefined, 200]);
  });

  it('retries a response body cut off half-way', async () => {
    const server = await start((_req, res, n) => {
      if (n > 1) {
        json(res, 200, { robots: [] });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"robots": [');
      setImmediate(() => res.socket?.destroy());
    });
    const t = transport(server.url);
    const result = await t.send({ method: 'GET', path: '/api/v1/organization/demo/robots' })();
    expect(E.isRight(result) && result.right.body).to.deep.equal({ robots: [] });
    expect(server.seen).to.have.length(2);
  });

  it('reports a connection refused as QuayUnreachable after the attempts, without the token', async () => {
    const server = await start((_req, res) => {
      json(res, 200, {});
    });
    const url = server.url;
    await servers.pop()?.close();
    const t = transport(url);
    const result = await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(E.isLeft(result) && result.left._tag).to.equal('QuayUnreachable');
    expect(E.isLeft(result) && 'message' in result.left && result.left.message).to.match(
      /^GET \/api\/v1\/user\/ failed after 3 attempts: .*ECONNREFUSED/,
    );
    expect(JSON.stringify(result)).not.to.include(TOKEN);
    expect(t.infos).to.have.length(3);
  });

  it('follows a 308 on the same origin with the method, body and token', async () => {
    const server = await start((req, res) => {
      if (req.url === '/api/v1/organization') {
        res.writeHead(308, { location: '/api/v1/organization/' });
        res.end();
      } else json(res, 201, 'Created');
    });
    const t = transport(server.url);
    const result = await t.send({ method: 'POST', path: '/api/v1/organization', body: { name: 'demo' } })();
    expect(E.isRight(result) && result.right.status).to.equal(201);
    expect(server.seen.map((s) => [s.method, s.url, s.body, s.headers.authorization])).to.deep.equal([
      ['POST', '/api/v1/organization', '{"name":"demo"}', `Bearer ${TOKEN}`],
      ['POST', '/api/v1/organization/', '{"name":"demo"}', `Bearer ${TOKEN}`],
    ]);
  });

  it('does not carry the token along a redirect to another origin', async () => {
    const elsewhere = await start((_req, res) => {
      json(res, 200, {});
    });
    const server = await start((_req, res) => {
      res.writeHead(308, { location: `${elsewhere.url}/api/v1/user/` });
      res.end();
    });
    const t = transport(server.url);
    await t.send({ method: 'GET', path: '/api/v1/user' })();
    expect(server.seen[0]?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(elsewhere.seen[0]?.headers).not.to.have.property('authorization');
  });

  it('refuses to send a path that a "." or ".." name would turn into another route', async () => {
    const server = await start((_req, res) => {
      json(res, 200, {});
    });
    const t = transport(server.url);
    const result = await t.send({
      method: 'DELETE',
      path: '/api/v1/repository/demo/../../organization/demo',
    })();
    expect(E.isLeft(result) && result.left._tag).to.equal('QuayRejected');
    expect(server.seen).to.have.length(0);
  });

  it('never puts the token in what onRequest reports', async () => {
    const server = await start((_req, res, n) => {
      n === 1 ? json(res, 502, {}) : json(res, 200, {});
    });
    const t = transport(server.url);
    await t.send({ method: 'GET', path: '/api/v1/organization/demo/robots', query: { token: 'true' } })();
    expect(
      t.infos.map(({ method, path, status, attempt }) => ({ method, path, status, attempt })),
    ).to.deep.equal([
      { method: 'GET', path: '/api/v1/organization/demo/robots?token=true', status: 502, attempt: 1 },
      { method: 'GET', path: '/api/v1/organization/demo/robots?token=true', status: 200, attempt: 2 },
    ]);
    expect(JSON.stringify(t.infos)).not.to.include(TOKEN);
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    const server = await start((_req, res) => {
      json(res, 200, {});
    });
    const t = transport(server.url);
    await t.send({ method: 'GET', path: '/api/v1/user/' })();
    await t.send({ method: 'GET', path: '/api/v1/user/' })();
    expect(server.seen).to.have.length(2);
    expect(server.seen[1]?.port).to.equal(server.seen[0]?.port);
  });
});
