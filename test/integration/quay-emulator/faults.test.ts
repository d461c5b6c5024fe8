// The emulator's fault knobs and request counter, over real HTTP.
import { expect } from 'chai';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

describe('Quay emulator faults and request counts', function () {
  this.timeout(20_000);
  let quay: QuayEmulator;
  const get = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${quay.url}${path}`, { ...init, headers: { authorization: `Bearer ${quay.adminToken}` } });

  beforeEach(async () => {
    quay = await startQuayEmulator({ seed: 7 });
  });
  afterEach(async () => {
    await quay.close();
  });

  it('counts requests by method and path template, including ones a fault answered', async () => {
    await get('/api/v1/organization/demo/robots/builder');
    await get('/api/v1/organization/other/robots/deployer');
    quay.faults.errorRate5xx = 1;
    await get('/api/v1/organization/demo/robots/builder');
    await get('/api/v1/repository/demo/team/app/tag/');
    expect(Object.fromEntries(quay.requestCounts())).to.deep.equal({
      'GET /api/v1/organization/{org}/robots/{robot}': 3,
      'GET /api/v1/repository/{repo}/tag/': 1,
    });
    expect(quay.totalRequests()).to.equal(4);
    quay.resetCounts();
    expect(quay.totalRequests()).to.equal(0);
    expect(quay.requestCounts().size).to.equal(0);
  });

  it('answers 5xx with an HTML body at errorRate5xx = 1, and normally again at 0', async () => {
    quay.faults.errorRate5xx = 1;
    const failed = await get('/api/v1/user/');
    expect(failed.status).to.equal(503);
    expect(failed.headers.get('content-type')).to.equal('text/html');
    expect(await failed.text()).to.contain('503 Service Temporarily Unavailable');
    quay.faults.errorStatus = 502;
    expect((await get('/api/v1/user/')).status).to.equal(502);
    quay.faults.errorRate5xx = 0;
    expect((await get('/api/v1/user/')).status).to.equal(200);
  });

  it("answers 429 with nginx's HTML and no Retry-After, unless retryAfterSeconds is set", async () => {
    quay.faults.rateLimitRate = 1;
    const limited = await get('/api/v1/user/');
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('retry-after')).to.equal(null);
    expect(await limited.text()).to.contain('<center><h1>429 Too Many Requests</h1></center>');
    quay.faults.retryAfterSeconds = 7;
    expect((await get('/api/v1/user/')).headers.get('retry-after')).to.equal('7');
  });

  it('drops the connection at dropRate = 1, after counting the request', async () => {
    quay.faults.dropRate = 1;
    const error: unknown = await get('/api/v1/user/').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TypeError);
    expect(quay.totalRequests()).to.equal(1);
  });

  it('never answers at timeoutRate = 1, and close() still ends promptly', async () => {
    quay.faults.timeoutRate = 1;
    const started = Date.now();
    const error: unknown = await get('/api/v1/user/', { signal: AbortSignal.timeout(300) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).name).to.equal('TimeoutError');
    expect(Date.now() - started).to.be.at.least(290);
    const pending = get('/api/v1/user/').catch(() => 'closed');
    await new Promise((r) => setTimeout(r, 50));
    const closing = Date.now();
    await quay.close();
    expect(await pending).to.equal('closed');
    expect(Date.now() - closing).to.be.below(1000);
    quay = await startQuayEmulator();
  });

  it('delays every answer by latencyMs', async () => {
    quay.faults.latencyMs = 200;
    const started = Date.now();
    expect((await get('/api/v1/user/')).status).to.equal(200);
    expect(Date.now() - started).to.be.at.least(195);
  });

  it('draws faults from the seeded PRNG: the same seed gives the same sequence', async () => {
    quay.faults.errorRate5xx = 0.5;
    const run = async (): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) statuses.push((await get('/api/v1/user/')).status);
      return statuses;
    };
    quay.faults.seed = 42;
    const first = await run();
    quay.faults.seed = 42;
    const second = await run();
    quay.faults.seed = 43;
    const third = await run();
    expect(second).to.deep.equal(first);
    expect(third).to.not.deep.equal(first);
    expect(new Set(first)).to.deep.equal(new Set([200, 503]));
  });

  it('answers writes 503 is_readonly in read-only mode, and reads normally', async () => {
    quay.faults.readOnly = true;
    const write = await fetch(`${quay.url}/api/v1/organization/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${quay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'demo' }),
    });
    expect(write.status).to.equal(503);
    expect(await write.json()).to.deep.equal({
      is_readonly: true,
      message:
        'System is currently read-only. Pulls will succeed but all write operations are currently suspended.',
    });
    expect((await get('/api/v1/user/')).status).to.equal(200);
  });
});
