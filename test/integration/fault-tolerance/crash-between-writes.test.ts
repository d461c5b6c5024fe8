// A step's process SIGKILLed between two writes, then the event redelivered to a fresh process: the steps run as in
// their Knative Services (functions/host.ts, one process per step, events over HTTP in
// binary mode). The emulator holds Quay's answers back (latencyMs) so that the kill lands after Quay has taken a
// write and before the step could make the next one:
//   - the service-account step, after Quay took the robot PUT, before the robot Secret was written;
//   - the namespace step, after Quay took the organization DELETE, before the finalizer was removed.
// The world must end as a fault-free run ends, with every event eventually answered 2xx.
import { expect } from 'chai';
import type { StepName } from '../../../functions/index.js';
import { overHttp } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { faultFreeBaseline } from '../../support/baseline.js';
import { deadLetters } from '../../support/run.js';
import { cleanUp, expectConvergedTo, newScenario, playScenario } from '../../support/scenario.js';
import { startStepProcesses, type StepProcesses } from '../../support/step-processes.js';
import { startWorld, type World } from '../../support/world.js';

interface KillPoint {
  readonly step: StepName;
  /** The emulator's request key (`METHOD /path/{template}`) whose arrival triggers the kill. */
  readonly request: RegExp;
}

/**
 * Arms one kill: as soon as the emulator has counted a new request matching `point.request`, SIGKILL the step's
 * process and start a fresh one on the same port. Resolves with what was seen when the kill happened.
 */
const killWhen = (
  w: World,
  procs: StepProcesses,
  point: KillPoint,
  whileDead: () => Promise<void> = () => Promise.resolve(),
): Promise<{ readonly request: string }> => {
  const count = (): [string, number] | undefined =>
    [...w.quay.requestCounts()].find(([k]) => point.request.test(k));
  const start = count()?.[1] ?? 0;
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const seen = count();
      if (seen === undefined || seen[1] <= start) return;
      clearInterval(timer);
      procs
        .kill(point.step)
        .then(whileDead)
        .then(() => procs.restart(point.step))
        .then(() => {
          resolve({ request: seen[0] });
        }, reject);
    }, 2);
  });
};

describe('fault tolerance: a step process killed between two writes', function () {
  this.timeout(240_000);
  const s = newScenario('ck');
  let w: World | undefined;
  let d: Dispatcher | undefined;
  let procs: StepProcesses | undefined;

  before(async () => {
    w = await startWorld();
    procs = await startStepProcesses(['namespace', 'service-account', 'image-stream'], {
      kubeconfigPath: w.cp.kubeconfigPath,
      env: { QUAY_BRIDGE_QUAY_TIMEOUT_SECONDS: '5' },
    });
  });

  after(async () => {
    await d?.stop();
    await procs?.stop();
    if (w !== undefined) {
      w.quay.faults.latencyMs = 0;
      await cleanUp(w.rest, s);
      await w.stop();
    }
  });

  it('converges to the fault-free state once the event reaches a fresh process', async () => {
    if (w === undefined || procs === undefined) throw new Error('no world');
    const world = w;
    const processes = procs;
    const baseline = await faultFreeBaseline(world, s.imageStreams);
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport: overHttp(processes.urlOf),
      namespaces: (n) => n.startsWith(s.runId),
      policy: { retry: 15, backoffMs: 100, maxBackoffMs: 1_000 },
    });
    world.quay.faults.latencyMs = 300;
    // Evidence that the kill fell between the two writes: once Quay has finished the held PUT, a robot exists whose
    // Secret does not.
    let robotsWithoutSecret = 0;
    const robotKill = killWhen(
      world,
      processes,
      { step: 'service-account', request: /^PUT \/api\/v1\/organization\/\{[^}]+\}\/robots\/\{[^}]+\}$/ },
      async () => {
        await new Promise((r) => setTimeout(r, 400));
        for (const robot of world.quay.state().robots) {
          const m = /^openshift_(.+)\+(.+)$/.exec(robot.name);
          if (m?.[1] === undefined || !m[1].startsWith(s.runId)) continue;
          const secret = await world.rest.request(
            'GET',
            `/api/v1/namespaces/${m[1]}/secrets/${m[2] ?? ''}-quay-openshift`,
          );
          if (secret.status === 404) robotsWithoutSecret++;
        }
      },
    );
    let orgKill: Promise<{ readonly request: string }> | undefined;
    await playScenario(world, s, {
      timeoutMs: 120_000,
      beforeDelete: async () => {
        expect((await robotKill).request).to.match(/robots/);
        expect(
          robotsWithoutSecret,
          'robots created in Quay whose Secret the killed step never wrote',
        ).to.be.greaterThan(0);
        orgKill = killWhen(world, processes, {
          step: 'namespace',
          request: /^DELETE \/api\/v1\/organization\/\{[^}]+\}$/,
        });
      },
    });
    expect((await orgKill)?.request).to.match(/^DELETE/);
    world.quay.faults.latencyMs = 0;
    await expectConvergedTo(world, s, baseline.state);
    await d.idle();
    expect(deadLetters(d.results), 'dead-lettered deliveries').to.deep.equal([]);
    // The kills cut deliveries off: some attempts got no answer and were redelivered.
    const unanswered = d.results.flatMap((r) => r.attempts).filter((a) => a.status === undefined);
    expect(unanswered.length, 'attempts cut off by a kill').to.be.greaterThan(0);
  });
});
