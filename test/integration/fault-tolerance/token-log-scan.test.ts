// No token in any log line: every line the steps wrote during this mocha run (in-process sinks, the step
// processes' stdout and stderr, the webhook's sink — see test/support/log-ledger.ts) is scanned for every token any
// Quay emulator of these tests issued (the OAuth token of the QuayIntegration, every robot token, regenerated or
// deleted ones included). The file name sorts after the other fault-tolerance files, so that their logs are in the
// ledger; it also plays a short scenario of its own (in-process and in step processes, with faults that make the
// steps log errors), so that it proves something when run alone.
import { expect } from 'chai';
import { inProcess, overHttp } from '../../support/delivery.js';
import { startDispatcher } from '../../support/dispatcher.js';
import { issuedTokens, linesWithTokens, loggedLines } from '../../support/log-ledger.js';
import { cleanUp, newScenario, playScenario } from '../../support/scenario.js';
import { startStepProcesses } from '../../support/step-processes.js';
import { startWorld, type World } from '../../support/world.js';

describe('fault tolerance: no token in any log line', function () {
  this.timeout(240_000);
  const inProc = newScenario('lsi');
  const child = newScenario('lsc');
  let w: World | undefined;

  before(async () => {
    w = await startWorld();
  });

  after(async () => {
    if (w !== undefined) {
      w.quay.faults.errorRate5xx = 0;
      await cleanUp(w.rest, inProc);
      await cleanUp(w.rest, child);
      await w.stop();
    }
  });

  it('finds none of the tokens Quay issued in the logs of the whole suite', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    world.quay.faults.errorRate5xx = 0.1; // error paths log too
    const d1 = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport: inProcess(world.stepEnv({ quayTimeoutMs: 1_000 })),
      namespaces: (n) => n.startsWith(inProc.runId),
    });
    try {
      await playScenario(world, inProc, { timeoutMs: 90_000 });
    } finally {
      await d1.stop();
    }
    const procs = await startStepProcesses(['namespace', 'service-account', 'image-stream'], {
      kubeconfigPath: world.cp.kubeconfigPath,
    });
    const d2 = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport: overHttp(procs.urlOf),
      namespaces: (n) => n.startsWith(child.runId),
    });
    try {
      await playScenario(world, child, { timeoutMs: 90_000 });
    } finally {
      await d2.stop();
      await procs.stop();
    }
    world.noteTokens();

    const lines = loggedLines();
    const tokens = issuedTokens();
    // The scan has something to scan: log lines from processes and from this process, and tokens of both kinds.
    expect(lines.some((l) => l.startsWith('in-process\t'))).to.equal(true);
    expect(lines.some((l) => /^service-account\[\d+\] stdout\t/.test(l))).to.equal(true);
    expect(tokens.size, 'tokens issued (OAuth and robots)').to.be.greaterThan(6);
    // The scanner finds a token where there is one (a control).
    const [some] = [...tokens];
    expect(linesWithTokens([`x\t{"msg":"oops","value":"${some ?? ''}"}`], tokens)).to.have.length(1);

    expect(linesWithTokens(lines, tokens), `log lines with a token (of ${lines.length})`).to.deep.equal([]);
  });
});
