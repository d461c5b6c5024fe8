import { expect } from 'chai';
import { WorkQueue } from '../../openshift-standin/work-queue.js';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

describe('the stand-in work queue', () => {
  it('runs one reconcile per key at a time and coalesces events that arrive meanwhile into one more run', async () => {
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue(
      async (key) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs.push(key);
        await tick(5);
        active -= 1;
      },
      { onError: () => undefined },
    );
    q.add('a');
    q.add('a');
    q.add('a');
    q.add('b');
    await q.idle();
    expect(runs.filter((k) => k === 'a')).to.have.length(2);
    expect(runs.filter((k) => k === 'b')).to.have.length(1);
    expect(maxActive).to.equal(2); // a and b side by side, never a twice
  });

  it('retries a failing key with backoff until it succeeds, telling each failure', async () => {
    let attempts = 0;
    const failures: string[] = [];
    const q = new WorkQueue(
      () => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error(`boom ${attempts}`)) : Promise.resolve();
      },
      { retryBaseMs: 1, onError: (key, e) => failures.push(`${key}: ${(e as Error).message}`) },
    );
    q.add('k');
    await q.idle();
    expect(attempts).to.equal(3);
    expect(failures).to.deep.equal(['k: boom 1', 'k: boom 2']);
  });

  it('after stop takes no work and cancels pending retries', async () => {
    let attempts = 0;
    const q = new WorkQueue(
      () => {
        attempts += 1;
        return Promise.reject(new Error('always'));
      },
      { retryBaseMs: 1, onError: () => undefined },
    );
    q.add('k');
    await tick(0);
    await q.stop();
    const seen = attempts;
    q.add('k');
    await tick(20);
    expect(attempts).to.equal(seen);
  });
});
