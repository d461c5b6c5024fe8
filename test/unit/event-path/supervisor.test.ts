import { expect } from 'chai';
import sinon from 'sinon';
import {
  backoffFor,
  DEFAULT_BACKOFF,
  describeEvent,
  supervise,
  type Exit,
  type Incarnation,
  type SupervisorEvent,
} from '../../event-path/supervisor.js';

/** A process that lives until the test kills it (or the supervisor stops it). */
interface FakeProcess extends Incarnation {
  readonly kill: (exit: Exit) => void;
  readonly stops: () => number;
}

const fakes = () => {
  let next = 100;
  const made: FakeProcess[] = [];
  const start = sinon.spy((_signal?: AbortSignal): Promise<FakeProcess> => {
    let settle: (e: Exit) => void = () => undefined;
    const exit = new Promise<Exit>((resolve) => {
      settle = resolve;
    });
    let stops = 0;
    const p: FakeProcess = {
      pid: (next += 1),
      exit,
      kill: (e) => {
        settle(e);
      },
      stop: () => {
        stops += 1;
        settle({ code: null, signal: 'SIGTERM' });
        return Promise.resolve();
      },
      stops: () => stops,
    };
    made.push(p);
    return Promise.resolve(p);
  });
  return { start, made, last: (): FakeProcess => made[made.length - 1] as FakeProcess };
};

const KILLED: Exit = { code: null, signal: 'SIGKILL' };

describe('supervisor: child processes kept running', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    clock.restore();
  });

  it('doubles the back-off from 1 s up to its cap of 60 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffFor(DEFAULT_BACKOFF, n))).to.deep.equal([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('reports an unexpected exit at once with its log, and starts the process again after the back-off', async () => {
    const f = fakes();
    const events: SupervisorEvent[] = [];
    const s = await supervise({
      name: 'quay-bridge-namespace',
      start: f.start,
      log: () => 'line 1\nline 2\n',
      onEvent: (e) => events.push(e),
    });
    const first = f.last();
    first.kill(KILLED);
    await clock.tickAsync(0);
    expect(events).to.deep.equal([
      {
        kind: 'exited',
        name: 'quay-bridge-namespace',
        pid: first.pid,
        exit: KILLED,
        log: 'line 1\nline 2\n',
        restartInMs: 1000,
        failures: 1,
        crashLooping: false,
      },
    ]);
    expect(first.stops(), 'the dead run is cleaned up').to.equal(1);
    expect(s.state()).to.equal('waiting');
    expect(s.current()).to.equal(undefined);

    await clock.tickAsync(999);
    expect(f.start.callCount, 'not before the back-off').to.equal(1);
    await clock.tickAsync(1);
    expect(f.start.callCount).to.equal(2);
    expect(s.current()?.pid).to.equal(f.last().pid);
    expect(s.state()).to.equal('running');
    expect(s.restarts()).to.equal(1);
    expect(events[1]).to.deep.equal({
      kind: 'restarted',
      name: 'quay-bridge-namespace',
      pid: f.last().pid,
      restarts: 1,
    });
    await s.stop();
  });

  it('reports a process that keeps dying as crash-looping, and keeps retrying it at the capped pace', async () => {
    const f = fakes();
    const events: SupervisorEvent[] = [];
    const s = await supervise({ name: 'x', start: f.start, log: () => '', onEvent: (e) => events.push(e) });
    const waits: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      f.last().kill({ code: 1, signal: null });
      await clock.tickAsync(0);
      const e = events.filter((x) => x.kind === 'exited').pop();
      if (e?.kind !== 'exited') throw new Error('no exit reported');
      waits.push(e.restartInMs);
      expect(e.crashLooping, `death ${String(i + 1)}`).to.equal(i + 1 >= 3);
      expect(s.crashLooping()).to.equal(i + 1 >= 3);
      await clock.tickAsync(e.restartInMs);
      expect(s.state()).to.equal('running');
      expect(s.crashLooping(), 'running again: not in back-off').to.equal(false);
    }
    expect(waits).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(s.restarts()).to.equal(8);
    await s.stop();
  });

  it('starts afresh with the shortest back-off after a run that lasted', async () => {
    const f = fakes();
    const events: SupervisorEvent[] = [];
    const s = await supervise({ name: 'x', start: f.start, log: () => '', onEvent: (e) => events.push(e) });
    for (const wait of [1000, 2000, 4000]) {
      f.last().kill(KILLED);
      await clock.tickAsync(wait);
    }
    await clock.tickAsync(DEFAULT_BACKOFF.stableAfterMs);
    f.last().kill(KILLED);
    await clock.tickAsync(0);
    const last = events[events.length - 1];
    expect(last).to.include({ kind: 'exited', restartInMs: 1000, failures: 1, crashLooping: false });
    await s.stop();
  });

  it('counts a failed start as a death and tries again', async () => {
    const f = fakes();
    const events: SupervisorEvent[] = [];
    let refuse = false;
    const s = await supervise({
      name: 'x',
      start: (signal) => (refuse ? Promise.reject(new Error('not ready in time\nlog…')) : f.start(signal)),
      log: () => '',
      onEvent: (e) => events.push(e),
    });
    refuse = true;
    f.last().kill(KILLED);
    await clock.tickAsync(1000);
    expect(events[1]).to.deep.equal({
      kind: 'start-failed',
      name: 'x',
      error: 'not ready in time\nlog…',
      restartInMs: 2000,
      failures: 2,
      crashLooping: false,
    });
    refuse = false;
    await clock.tickAsync(2000);
    expect(s.state()).to.equal('running');
    expect(events[2]).to.include({ kind: 'restarted', restarts: 1 });
    await s.stop();
  });

  it('fails at once when the first start fails (nothing to keep running)', async () => {
    let error: unknown;
    await supervise({
      name: 'x',
      start: () => Promise.reject(new Error('no binary')),
      log: () => '',
      onEvent: () => undefined,
    }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error).with.property('message', 'no binary');
  });

  it('stops the running process without reporting its exit', async () => {
    const f = fakes();
    const events: SupervisorEvent[] = [];
    const s = await supervise({ name: 'x', start: f.start, log: () => '', onEvent: (e) => events.push(e) });
    await s.stop();
    await clock.tickAsync(120_000);
    expect(f.last().stops()).to.equal(1);
    expect(events).to.deep.equal([]);
    expect(f.start.callCount).to.equal(1);
    expect(s.state()).to.equal('stopped');
  });

  it('stops during the back-off: no start after it', async () => {
    const f = fakes();
    const s = await supervise({ name: 'x', start: f.start, log: () => '', onEvent: () => undefined });
    f.last().kill(KILLED);
    await clock.tickAsync(0);
    await s.stop();
    await clock.tickAsync(120_000);
    expect(f.start.callCount).to.equal(1);
    expect(s.state()).to.equal('stopped');
  });

  it('stops during a restart: aborts the start and stops what it started', async () => {
    const f = fakes();
    let signalled: AbortSignal | undefined;
    let release: () => void = () => undefined;
    let slow = false;
    const s = await supervise({
      name: 'x',
      start: async (signal) => {
        if (slow) {
          signalled = signal;
          // A start that finishes its readiness wait even though it was asked to stop.
          await new Promise<void>((r) => {
            release = r;
          });
        }
        return f.start(signal);
      },
      log: () => '',
      onEvent: () => undefined,
    });
    slow = true;
    f.last().kill(KILLED);
    await clock.tickAsync(1000);
    expect(s.state()).to.equal('starting');
    const stopped = s.stop();
    expect(signalled?.aborted, 'the start is told to stop').to.equal(true);
    release();
    await stopped;
    expect(f.made).to.have.length(2);
    expect(f.last().stops(), 'what the start brought up is stopped').to.equal(1);
    expect(s.current()).to.equal(undefined);
  });

  it('describes exits, crash loops and restarts in the transcript', () => {
    expect(
      describeEvent(
        {
          kind: 'exited',
          name: 'quay-bridge-namespace',
          pid: 42,
          exit: KILLED,
          log: 'a\n\nb\nc\n',
          restartInMs: 1000,
          failures: 1,
          crashLooping: false,
        },
        2,
      ),
    ).to.equal(
      '!! namespace (pid 42) exited unexpectedly: killed by SIGKILL; restarting in 1 s. Last lines of its log:\n    | b\n    | c',
    );
    expect(
      describeEvent({
        kind: 'exited',
        name: 'apiserver_receive_adapter',
        pid: 7,
        exit: { code: 2, signal: null },
        log: '',
        restartInMs: 4000,
        failures: 3,
        crashLooping: true,
      }),
    ).to.equal(
      '!! apiserver_receive_adapter (pid 7) exited unexpectedly: exit code 2; crash-looping (CrashLoopBackOff, 3 deaths in a row); restarting in 4 s.',
    );
    expect(describeEvent({ kind: 'restarted', name: 'quay-bridge-webhook', pid: 9, restarts: 2 })).to.equal(
      '!! webhook restarted (pid 9, restart 2).',
    );
    expect(
      describeEvent({
        kind: 'start-failed',
        name: 'x',
        error: 'not ready\nmore',
        restartInMs: 60_000,
        failures: 9,
        crashLooping: true,
      }),
    ).to.equal(
      '!! x did not start again: not ready; crash-looping (CrashLoopBackOff, 9 deaths in a row); next try in 60 s.',
    );
  });
});
