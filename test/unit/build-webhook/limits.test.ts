// The webhook's bound on admissions at once, over a real HTTP connection on loopback: a burst of reviews is worked
// on a few at a time (the rest wait unread), and beyond the queue the answer is 429 with Retry-After, at once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { admissionListener, type Admitted } from '../../../functions/build-webhook/handle.js';
import { memoryLogger } from '../../../shared/log.js';
import { build, review } from './fixtures.js';

/** Polls until `ready` holds (a deadline, never a timed assertion). */
const eventually = async (what: string, ready: () => boolean): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const post = (url: string, body: string): Promise<{ status: number; retryAfter?: string; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/admissionwebhook`,
      { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: res.headers['retry-after'] }),
            body: text,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

describe('build webhook: admissions at once', () => {
  it('works on at most maxInFlight, queues up to maxQueued unread, and answers 429 beyond', async () => {
    const release: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const listener = admissionListener({
      admit: async (): Promise<Admitted> => {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((r) => release.push(r));
        running -= 1;
        return { decision: { _tag: 'Allow', warnings: [] }, reason: 'test' };
      },
      log: memoryLogger(),
      maxBodyBytes: 1024 * 1024,
      maxInFlight: 2,
      maxQueued: 3,
    });
    const server = http.createServer(listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const body = JSON.stringify(review(build()));
      const admitted = Array.from({ length: 5 }, () => post(url, body));
      await eventually(
        '2 running and 3 waiting',
        () => listener.load().running === 2 && listener.load().waiting === 3 && release.length === 2,
      );
      const refused = await post(url, body);
      expect(refused.status).to.equal(429);
      expect(refused.retryAfter).to.equal('1');
      expect(JSON.parse(refused.body)).to.deep.include({ code: 429, reason: 'TooManyRequests' });
      // Let them all through, one release per admission as it comes.
      for (let done = 0; done < 5; done++) {
        await eventually('an admission to release', () => release.length > 0);
        release.shift()?.();
      }
      expect((await Promise.all(admitted)).map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(most).to.equal(2);
      expect(listener.load()).to.deep.equal({ running: 0, waiting: 0 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
