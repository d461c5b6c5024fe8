// `npm start` with no cluster of one's own, as a new user runs it: the embedded stack comes up, the printed command
// creates a namespace, its organization appears in the printed Quay, and Ctrl-C (to the whole process group, as a
// terminal sends it) stops everything: "Stopped.", exit 0, no process and no control-plane directory left.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeRest } from '../../event-path/kube-rest.js';
import { repoRoot } from '../../harness/index.js';
import { armWatchdog, processesMentioning } from '../../harness/processes.js';
import { eventually } from '../../openshift-standin/wait.js';

const field = (output: string, re: RegExp, what: string): string => {
  const m = re.exec(output)?.[1];
  if (m === undefined) throw new Error(`npm start printed no ${what}:\n${output}`);
  return m;
};

describe('npm start with no cluster (the embedded stack)', function () {
  this.timeout(300_000);

  it('comes up, turns a new namespace into an organization, and stops cleanly on Ctrl-C', async () => {
    let output = '';
    const child = spawn('npm', ['start', '--silent'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        KUBECONFIG: '/nonexistent/kubeconfig',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const disarm = armWatchdog([child.pid ?? 0]);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    // 'close': every process holding npm's output has ended (npm itself ends on the Ctrl-C, the bridge after it).
    const closed = new Promise<string>((resolve) =>
      child.once('close', (code, signal) => {
        resolve(signal ?? String(code));
      }),
    );
    const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
      eventually(what, probe, 180_000, 200).catch((e: unknown) => {
        throw new Error(`${String(e)}\nnpm start printed:\n${output}`);
      });
    try {
      await until('npm start to be running', () =>
        Promise.resolve(output.includes('Events handled') ? true : undefined),
      );
      expect(output).not.to.include('Not running against a cluster'); // no kubeconfig: no notice
      const kubeconfig = field(output, /kubectl --kubeconfig (\S+) create namespace demo/, 'kubectl command');
      const quay = field(output, /Quay emulator\s+(http\S+)/, 'Quay URL');
      const token = field(output, /token: (\S+)/, 'token');
      const logs = field(output, /logs\s+(\/\S+)/, 'log directory');
      const cpDir = kubeconfig.replace(/\/[^/]+$/, '');

      // What the printed command does (kubectl create namespace demo), with the printed kubeconfig.
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const created = await (
        await kubeRest(kc)
      ).request('POST', '/api/v1/namespaces', { metadata: { name: 'demo' } });
      expect(created.status, created.body).to.equal(201);
      await until('organization local_demo in the printed Quay', async () => {
        const a = await fetch(`${quay}/api/v1/organization/local_demo`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return a.status === 200 ? true : undefined;
      });
      // The robot Secret of the sample's clusterID: the install's RBAC was made for `local`, not the default.
      await until('Secret demo/builder-quay-local written by the ServiceAccount step', async () => {
        const a = await (
          await kubeRest(kc)
        ).request('GET', '/api/v1/namespaces/demo/secrets/builder-quay-local');
        return a.status === 200 ? true : undefined;
      });
      await until('the handled event printed', () =>
        Promise.resolve(/namespace\s+Namespace\s+demo\b/.test(output) ? true : undefined),
      );
      expect(processesMentioning(cpDir).length, 'the control plane runs').to.be.greaterThan(2);

      process.kill(-(child.pid ?? 0), 'SIGINT'); // Ctrl-C
      expect(await closed, output).to.be.oneOf(['0', 'SIGINT']);
      expect(output).to.match(/\nStopping\.\.\.\nStopped\.\n$/);
      for (const dir of [cpDir, logs]) {
        const left = await eventually(
          `every process of ${dir} to end`,
          () => Promise.resolve(processesMentioning(dir).length === 0 ? [] : undefined),
          10_000,
          200,
        ).catch(() => processesMentioning(dir));
        expect(left, `processes left behind (${dir})`).to.deep.equal([]);
      }
      expect(existsSync(cpDir), 'the control plane directory is removed').to.equal(false);
    } finally {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // the group is gone already
      }
      disarm();
    }
  });
});
