// Quay failing one call in five — 5xx, 429 without and then with Retry-After, answers that never come, dropped
// connections — while the scenario plays: events are redelivered as the broker would (bounded), and the world must
// end exactly as after a fault-free run, with nothing dead-lettered and no answer of the dead-letter class.
import { expect } from 'chai';
import { inProcess } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { faultFreeBaseline } from '../../support/baseline.js';
import { deadLetters } from '../../support/run.js';
import { cleanUp, expectConvergedTo, newScenario, playScenario } from '../../support/scenario.js';
import { seedFromEnv } from '../../support/seeded.js';
import { startWorld, type World } from '../../support/world.js';

describe('fault tolerance: Quay failing 20% of calls', function () {
  this.timeout(240_000);
  const s = newScenario('qf');
  let w: World | undefined;
  let d: Dispatcher | undefined;

  before(async () => {
    w = await startWorld();
  });

  after(async () => {
    await d?.stop();
    if (w !== undefined) {
      w.quay.faults.errorRate5xx = 0;
      w.quay.faults.rateLimitRate = 0;
      w.quay.faults.timeoutRate = 0;
      w.quay.faults.dropRate = 0;
      await cleanUp(w.rest, s);
      await w.stop();
    }
  });

  it('converges to the fault-free state, dead-letters nothing and never answers a non-retryable 4xx', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const baseline = await faultFreeBaseline(world, s.imageStreams);
    const seed = seedFromEnv();
    console.log(`      fault seed ${seed} (rerun with FT_SEED=${seed})`);
    const faults = world.quay.faults;
    faults.seed = seed;
    faults.errorRate5xx = 0.05;
    faults.rateLimitRate = 0.05;
    faults.retryAfterSeconds = undefined;
    faults.timeoutRate = 0.05;
    faults.dropRate = 0.05;
    // One of each kind first, whatever the seed: fewer Quay calls per namespace made a kind-less run likely.
    faults.forced = ['drop', 'timeout', 'rate-limit', 'server-error'];
    const before = world.quay.totalRequests();
    const injectedBefore = { ...faults.injected };
    // A hung request costs one attempt timeout (production: QUAY_BRIDGE_QUAY_TIMEOUT_SECONDS).
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport: inProcess(world.stepEnv({ quayTimeoutMs: 1_000 })),
      namespaces: (n) => n.startsWith(s.runId),
    });
    await playScenario(world, s, {
      timeoutMs: 120_000,
      beforeDelete: () => {
        faults.retryAfterSeconds = 1; // the deletion runs into 429s that say when to come back
        return Promise.resolve();
      },
    });
    await expectConvergedTo(world, s, baseline.state);
    await d.idle();
    const faulty = world.quay.totalRequests() - before;
    faults.errorRate5xx = 0;
    faults.rateLimitRate = 0;
    faults.timeoutRate = 0;
    faults.dropRate = 0;
    faults.forced = [];

    expect(deadLetters(d.results), 'dead-lettered deliveries').to.deep.equal([]);
    const answers = d.results.flatMap((r) => r.attempts.map((a) => a.status));
    const deadLetterClass = answers.filter(
      (st) => st !== undefined && st >= 400 && st < 500 && ![404, 408, 409, 429].includes(st),
    );
    expect(deadLetterClass, 'answers the broker would dead-letter').to.deep.equal([]);
    // The faults were real: every kind was injected during this run. (Total request counts are no proof: how many
    // reads concurrent deliveries repeat varies from run to run, with or without faults.)
    const injected = Object.fromEntries(
      Object.entries(faults.injected ?? {}).map(([kind, n]) => [
        kind,
        n - (injectedBefore[kind as keyof typeof injectedBefore] ?? 0),
      ]),
    );
    console.log(
      `      faults injected: ${JSON.stringify(injected)}; Quay requests ${faulty} (fault-free run: ${baseline.quayRequests})`,
    );
    for (const kind of ['drop', 'timeout', 'rate-limit', 'server-error'])
      expect(injected[kind], `${kind} faults injected`).to.be.greaterThan(0);
  });
});
