import { expect } from 'chai';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { memoryLogger } from '../../../../shared/log.js';
import { createGate } from '../../../../shared/runtime/gate.js';
import { makeHandler, type Step } from '../../../../shared/runtime/handler.js';
import { maxInFlight, maxQueued, maxQueuedMs } from '../../../../shared/wiring.js';

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}
const deferred = (): Deferred => {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the in-flight gate of a step process', () => {
  it('runs at most `limit` tasks at once, the others in their order of arrival', async () => {
    const gate = createGate(2);
    const started: number[] = [];
    const ends = [0, 1, 2, 3, 4].map(() => deferred());
    const runs = ends.map((d, i) =>
      gate.run(async () => {
        started.push(i);
        await d.promise;
        return i;
      }),
    );
    await tick();
    expect(started).to.deep.equal([0, 1]);
    expect(gate.waiting()).to.equal(3);
    ends[1]?.resolve();
    await tick();
    expect(started).to.deep.equal([0, 1, 2]);
    ends[0]?.resolve();
    ends[2]?.resolve();
    await tick();
    expect(started).to.deep.equal([0, 1, 2, 3, 4]);
    ends[3]?.resolve();
    ends[4]?.resolve();
    expect(await Promise.all(runs)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(gate.waiting()).to.equal(0);
  });

  it('frees the slot of a task that throws', async () => {
    const gate = createGate(1);
    const failed = gate.run(() => Promise.reject(new Error('boom')));
    const next = gate.run(() => Promise.resolve('ran'));
    expect(await failed.catch((e: unknown) => String(e))).to.equal('Error: boom');
    expect(await next).to.equal('ran');
  });

  it('treats a limit below 1 as 1', async () => {
    const gate = createGate(0);
    const d = deferred();
    let second = false;
    const first = gate.run(() => d.promise);
    const after = gate.run(() => {
      second = true;
      return Promise.resolve();
    });
    await tick();
    expect(second).to.equal(false);
    d.resolve();
    await Promise.all([first, after]);
    expect(second).to.equal(true);
  });

  it('makes a step handler wait for its turn, and logs how long it waited', async () => {
    const log = memoryLogger();
    const release = deferred();
    const began: string[] = [];
    const step: Step<{ log: typeof log }> = {
      name: 'test',
      run: (event) => () => async () => {
        const id = (event as { id: string }).id;
        began.push(id);
        if (id === 'a') await release.promise;
        return TE.right({ outcome: 'unchanged' as const })();
      },
    };
    const handle = makeHandler(step, () => Promise.resolve({ log }), createGate(1));
    const a = handle({ cloudevent: { id: 'a' } });
    const b = handle({ cloudevent: { id: 'b' } });
    await tick();
    await tick();
    expect(began).to.deep.equal(['a']);
    await new Promise((r) => setTimeout(r, 5));
    release.resolve();
    expect((await a).statusCode).to.equal(204);
    expect((await b).statusCode).to.equal(204);
    expect(began).to.deep.equal(['a', 'b']);
    const lines = log.lines.filter((l) => l.msg === 'event handled');
    expect(lines.map((l) => l.id)).to.deep.equal(['a', 'b']);
    expect(lines[0]).to.not.have.property('queuedMs');
    expect(lines[1]?.queuedMs).to.be.a('number').and.to.be.at.least(1);
  });

  it('takes its limit from QUAY_BRIDGE_MAX_IN_FLIGHT (default 16), refusing what is not a number', () => {
    expect(maxInFlight({})).to.equal(16);
    expect(maxInFlight({ QUAY_BRIDGE_MAX_IN_FLIGHT: '4' })).to.equal(4);
    expect(maxInFlight({ QUAY_BRIDGE_MAX_IN_FLIGHT: '0' })).to.equal(1);
    expect(() => maxInFlight({ QUAY_BRIDGE_MAX_IN_FLIGHT: 'many' })).to.throw(/QUAY_BRIDGE_MAX_IN_FLIGHT/);
  });

  it('sheds an event with 429 and Retry-After once maxWaiting wait, without running the step', async () => {
    const log = memoryLogger();
    const release = deferred();
    const began: string[] = [];
    const step: Step<{ log: typeof log }> = {
      name: 'test',
      run: (event) => () => async () => {
        began.push((event as { id: string }).id);
        await release.promise;
        return TE.right({ outcome: 'unchanged' as const })();
      },
    };
    const handle = makeHandler(step, () => Promise.resolve({ log }), createGate(1, 2));
    const held = ['a', 'b', 'c'].map((id) => handle({ cloudevent: { id } }));
    await tick();
    await tick();
    const shed = await handle({ cloudevent: { id: 'd' } });
    expect(shed.statusCode).to.equal(429);
    expect(shed.headers['retry-after']).to.equal('2');
    release.resolve();
    expect((await Promise.all(held)).map((a) => a.statusCode)).to.deep.equal([204, 204, 204]);
    expect(began).to.deep.equal(['a', 'b', 'c']);
    expect(log.lines.filter((l) => l.msg === 'event shed').map((l) => l.id)).to.deep.equal(['d']);
    // Room again: the next one is taken.
    expect((await handle({ cloudevent: { id: 'e' } })).statusCode).to.equal(204);
  });

  it('is full when the wait one more task would have, at the pace tasks finished, is over maxWaitMs', async () => {
    let clock = 0;
    const gate = createGate(2, Number.POSITIVE_INFINITY, { maxWaitMs: 2_500, now: () => clock });
    expect(gate.expectedWaitMs()).to.equal(0);
    // Two tasks of 1 s each: the pace is known.
    const first = [deferred(), deferred()];
    const runs = first.map((d) => gate.run(() => d.promise));
    await tick();
    clock = 1_000;
    for (const d of first) d.resolve();
    await Promise.all(runs);
    expect(gate.expectedWaitMs()).to.equal(1_000);
    // Both slots busy again; waiting tasks are added while the gate says there is room.
    const busy = deferred();
    const held: Promise<void>[] = [];
    const fill = (): void => {
      held.push(gate.run(() => busy.promise));
    };
    fill();
    fill();
    let waiting = 0;
    while (!gate.full()) {
      fill();
      waiting += 1;
    }
    // 4 waiting: a fifth would wait three rounds of 1 s, over 2.5 s; 3 waiting, two rounds.
    expect(waiting).to.equal(4);
    expect(gate.expectedWaitMs()).to.equal(3_000);
    busy.resolve();
    await Promise.all(held);
    expect(gate.full()).to.equal(false);
  });

  it('is never full by time before a task finished, nor with a free slot', () => {
    const gate = createGate(1, Number.POSITIVE_INFINITY, { maxWaitMs: 0 });
    expect(gate.full()).to.equal(false);
    void gate.run(() => new Promise<void>(() => undefined));
    expect(gate.full()).to.equal(false); // no pace known yet
  });

  it('takes maxWaiting from QUAY_BRIDGE_MAX_QUEUED (default 2048) and maxWaitMs from QUAY_BRIDGE_MAX_QUEUED_SECONDS (default 60)', () => {
    expect(maxQueuedMs({})).to.equal(60_000);
    expect(maxQueuedMs({ QUAY_BRIDGE_MAX_QUEUED_SECONDS: '5' })).to.equal(5_000);
    expect(() => maxQueuedMs({ QUAY_BRIDGE_MAX_QUEUED_SECONDS: 'soon' })).to.throw(
      /QUAY_BRIDGE_MAX_QUEUED_SECONDS/,
    );
    expect(maxQueued({})).to.equal(2048);
    expect(maxQueued({ QUAY_BRIDGE_MAX_QUEUED: '0' })).to.equal(0);
    expect(() => maxQueued({ QUAY_BRIDGE_MAX_QUEUED: '-1' })).to.throw(/QUAY_BRIDGE_MAX_QUEUED/);
  });
});
