// Replay: the whole event log of a scenario (namespaces, their ServiceAccounts and ImageStreams, a namespace
// deletion), delivered again ten times, each time in another seeded random order, must leave the world exactly as
// the fault-free run left it: stale adds must not resurrect the deleted namespace's organization, old updates must
// not undo newer state. Steps run in-process under their runtime wrapper with the production clients.
import { expect } from 'chai';
import { deliver, inProcess } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { deadLetters, eachLimited } from '../../support/run.js';
import { cleanUp, newScenario, playScenario, stateOf } from '../../support/scenario.js';
import { seeded, seedFromEnv } from '../../support/seeded.js';
import { startWorld, type World } from '../../support/world.js';

describe('fault tolerance: the event log replayed in random orders', function () {
  this.timeout(240_000);
  const s = newScenario('rp');
  let w: World | undefined;
  let d: Dispatcher | undefined;

  before(async () => {
    w = await startWorld();
  });

  after(async () => {
    await d?.stop();
    if (w !== undefined) {
      await cleanUp(w.rest, s);
      await w.stop();
    }
  });

  it('ends in the fault-free state after each of 10 shuffled replays of every event', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const seed = seedFromEnv();
    console.log(`      replay seed ${seed} (rerun with FT_SEED=${seed})`);
    const transport = inProcess(world.stepEnv());
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport,
      namespaces: (n) => n.startsWith(s.runId),
    });
    const baseline = await playScenario(world, s);
    await d.stop();
    expect(deadLetters(d.results), 'the fault-free run dead-lettered nothing').to.deep.equal([]);
    const log = [...d.log];
    const types = new Set(log.map((e) => `${e.step} ${e.event.type.split('.').pop()}`));
    expect([...types]).to.include.members(['namespace add', 'namespace update', 'namespace delete']);
    expect([...types]).to.include.members([
      'service-account add',
      ...(s.imageStreams.length > 0 ? ['image-stream add'] : []),
    ]);

    const random = seeded(seed);
    for (let round = 1; round <= 10; round++) {
      const order = random.shuffle(log);
      const results: Awaited<ReturnType<typeof deliver>>[] = [];
      await eachLimited(order, 4, async ({ step, event }) => {
        results.push(await deliver(transport, step, event));
      });
      expect(deadLetters(results), `round ${round}: nothing dead-lettered`).to.deep.equal([]);
      expect(await stateOf(world, s), `round ${round} (seed ${seed})`).to.deep.equal(baseline);
    }
  });
});
