// The state a fault-free run of the scenario ends in, computed once per mocha process (normalised, so that it does
// not depend on the world it was computed in) and compared with the end of every faulty run.
import { inProcess } from './delivery.js';
import { startDispatcher } from './dispatcher.js';
import { deadLetters } from './run.js';
import { cleanUp, IMAGE_STREAMS, newScenario, playScenario } from './scenario.js';
import type { World } from './world.js';
import type { WorldState } from './world-state.js';

export interface Baseline {
  readonly state: WorldState;
  /** Quay requests the fault-free run made. */
  readonly quayRequests: number;
}

const cached = new Map<string, Promise<Baseline>>();

/** The fault-free end state of the scenario with these ImageStreams. */
export const faultFreeBaseline = (
  w: World,
  imageStreams: readonly string[] = IMAGE_STREAMS,
): Promise<Baseline> => {
  const key = JSON.stringify(imageStreams);
  let found = cached.get(key);
  found ??= (async () => {
    const s = newScenario('base', imageStreams);
    const before = w.quay.totalRequests();
    const d = await startDispatcher({
      kubeConfig: w.kubeConfig,
      transport: inProcess(w.stepEnv()),
      namespaces: (n) => n.startsWith(s.runId),
    });
    try {
      const state = await playScenario(w, s);
      await d.idle();
      const dead = deadLetters(d.results);
      if (dead.length > 0) throw new Error(`the fault-free run dead-lettered:\n${dead.join('\n')}`);
      return { state, quayRequests: w.quay.totalRequests() - before };
    } finally {
      await d.stop();
      await cleanUp(w.rest, s);
    }
  })();
  cached.set(key, found);
  return found;
};
