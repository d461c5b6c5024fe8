// `npm start` is the bridge's supervisor, as the kubelet is in a cluster. In a running embedded stack, each kind of
// child is killed with SIGKILL (as an OOM kill would): the receive adapter, a step, the webhook. Each time the
// transcript says so at once, the process is started again and the transcript says that too, and a namespace created
// during the outage converges without the periodic resync (every 5 minutes in npm start, longer than any wait here):
// after the adapter's restart through the resync it starts, after a step's through the broker's retries. A step
// killed again and again is reported as crash-looping while the others keep serving. Ctrl-C in the middle of a
// restart still stops everything.
import { imageStreamTagBuild } from '../../support/builds.js';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { processesMentioning } from '../../harness/processes.js';
import { eventually } from '../../openshift-standin/wait.js';
import { embeddedStackOf, expectCleanStop, startNpmStart, type NpmStart } from '../../support/npm-start.js';

describe('npm start supervises every process it starts (embedded stack)', function () {
  this.timeout(600_000);
  let start: NpmStart;
  let rest: KubeRest;
  let quay = '';
  let token = '';
  let logs = '';
  let cpDir = '';

  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> =>
    start.until(what, probe);
  const printed = (what: string, re: RegExp, from = 0): Promise<RegExpExecArray> =>
    start.printed(what, re, from);
  const output = (): string => start.output();
  const createNamespace = async (name: string): Promise<void> => {
    const a = await rest.request('POST', '/api/v1/namespaces', { metadata: { name } });
    expect(a.status, a.body).to.equal(201);
  };
  const organization = (ns: string): Promise<true> =>
    until(`organization local_${ns} in Quay`, async () => {
      const a = await fetch(`${quay}/api/v1/organization/local_${ns}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return a.status === 200 ? true : undefined;
    });
  const pidOf = (re: RegExp, what: string): number => Number(start.field(re, what));

  before(async () => {
    start = startNpmStart({ via: 'node' });
    await until('npm start to be running', () => (output().includes('Events handled') ? true : undefined));
    const stack = embeddedStackOf(start);
    ({ quay, token, logs, cpDir } = stack);
    const kubeconfig = stack.kubeconfig;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    rest = await kubeRest(kc);
  });

  after(() => {
    start.kill();
  });

  it('restarts the receive adapter, says so, and resyncs what was created while it was down', async () => {
    const pid = pidOf(/receive adapter\s+quay-bridge\s+\(pid (\d+)\)/, 'adapter pid');
    const from = output().length;
    process.kill(pid, 'SIGKILL');
    // Created before the new adapter lists: it sends no event for it, only the resync can find it.
    await createNamespace('while-adapter-down');
    await printed(
      'the adapter exit printed',
      new RegExp(
        String.raw`!! apiserver_receive_adapter quay-bridge \(pid ${String(pid)}\) exited unexpectedly: killed by SIGKILL; restarting in 1 s\. Last lines of its log:\n {4}\| `,
      ),
      from,
    );
    const restarted = await printed(
      'the adapter restart printed',
      /!! apiserver_receive_adapter quay-bridge restarted \(pid (\d+), restart 1\)\.\n!! resync started/,
      from,
    );
    expect(Number(restarted[1])).not.to.equal(pid);
    await organization('while-adapter-down');
    // The new adapter follows what comes next.
    await createNamespace('after-adapter-restart');
    await organization('after-adapter-restart');
    await printed('its namespace event', /namespace\s+Namespace\s+after-adapter-restart\b/, from);
  });

  it('restarts a killed step on its address, and the broker delivers it what came while it was down', async () => {
    const pid = pidOf(/^ {2}namespace\s+http\S+\s+\(pid (\d+)\)/m, 'namespace step pid');
    const from = output().length;
    process.kill(pid, 'SIGKILL');
    await createNamespace('while-step-down');
    await printed(
      'the step exit printed',
      new RegExp(String.raw`!! namespace \(pid ${String(pid)}\) exited unexpectedly: killed by SIGKILL`),
      from,
    );
    await printed('the step restart printed', /!! namespace restarted \(pid (\d+), restart 1\)/, from);
    // The namespace step itself handled the namespace's event: its old process was dead before the namespace
    // existed, so only the new one can have (the broker kept retrying until it listened; that may be just before
    // its readiness is seen and the restart printed).
    await printed(
      'the namespace step handling while-step-down',
      /namespace\s+Namespace\s+while-step-down\b/,
      from,
    );
    await organization('while-step-down');
    const ns = (await rest.request('GET', '/api/v1/namespaces/while-step-down')).json as {
      metadata: { finalizers?: string[] };
    };
    expect(ns.metadata.finalizers).to.include('quay.redhat.com/quayintegrations');
  });

  it('restarts the webhook on its registered address', async () => {
    const pid = pidOf(/^ {2}webhook\s+http\S+\s+\(pid (\d+)\)/m, 'webhook pid');
    const from = output().length;
    process.kill(pid, 'SIGKILL');
    await createNamespace('while-webhook-down');
    await printed(
      'the webhook exit printed',
      new RegExp(String.raw`!! webhook \(pid ${String(pid)}\) exited unexpectedly: killed by SIGKILL`),
      from,
    );
    await printed('the webhook restart printed', /!! webhook restarted \(pid (\d+), restart 1\)/, from);
    await organization('while-webhook-down');
    // Admission reaches it again (failurePolicy Fail: a Build it should see is refused while it is down).
    const build = imageStreamTagBuild();
    const answer = await rest.request(
      'POST',
      '/apis/build.openshift.io/v1/namespaces/while-webhook-down/builds?dryRun=All',
      build,
    );
    expect(answer.status, answer.body).to.equal(201);
  });

  it('reports a step that keeps dying as crash-looping, while the others keep serving', async () => {
    const from = output().length;
    let pid = pidOf(/^ {2}image-stream\s+http\S+\s+\(pid (\d+)\)/m, 'image-stream step pid');
    for (let restart = 1; restart <= 2; restart += 1) {
      process.kill(pid, 'SIGKILL');
      pid = Number(
        (
          await printed(
            `image-stream restart ${String(restart)}`,
            new RegExp(String.raw`!! image-stream restarted \(pid (\d+), restart ${String(restart)}\)`),
            from,
          )
        )[1],
      );
    }
    process.kill(pid, 'SIGKILL');
    await printed(
      'the crash loop reported',
      new RegExp(
        String.raw`!! image-stream \(pid ${String(pid)}\) exited unexpectedly: killed by SIGKILL; crash-looping \(CrashLoopBackOff, 3 deaths in a row\); restarting in 4 s\.`,
      ),
      from,
    );
    // The others serve meanwhile: a new namespace gets its organization and robots.
    await createNamespace('during-crash-loop');
    await organization('during-crash-loop');
    await printed('the robots made', /service-account\s+ServiceAccount\s+during-crash-loop\/builder/, from);
    process.kill(start.child.pid ?? 0, 'SIGUSR1');
    await printed(
      'a health line on SIGUSR1',
      /health \d\d:\d\d:\d\d: \d+\/11 processes up, \d+ restarts/,
      from,
    );
    await printed(
      'the step back after its back-off',
      /!! image-stream restarted \(pid \d+, restart 3\)/,
      from,
    );
  });

  it('stops everything on Ctrl-C, also while a process is being restarted', async () => {
    const pid = pidOf(/!! namespace restarted \(pid (\d+), restart 1\)/, 'namespace step pid');
    const from = output().length;
    process.kill(pid, 'SIGKILL');
    await printed('the exit printed', /!! namespace \(pid \d+\) exited unexpectedly/, from);
    // Once its next run is being started (its process exists, not yet ready: tsx alone takes seconds), when the
    // machine lets this test see it in time; either way Ctrl-C must stop everything.
    const step = `KUBECONFIG=${join(logs, 'quay-bridge.quay-bridge-namespace.kubeconfig')}`;
    await eventually(
      'the next run of the namespace step',
      () =>
        Promise.resolve(
          processesMentioning(step).some((p) => !p.startsWith(`${String(pid)}:`)) ? true : undefined,
        ),
      30_000,
      50,
    ).catch(() => undefined);
    await expectCleanStop(start, [cpDir, logs], [cpDir]);
  });
});
