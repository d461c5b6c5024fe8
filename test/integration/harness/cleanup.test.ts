import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { leftovers, repoRoot } from '../../harness/index.js';

interface Started {
  pids: number[];
  ports: number[];
}

const runChild = (
  how: string,
): Promise<{ started: Started; exited: Promise<number | null>; kill: () => void }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/harness/crash-child.ts', how], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((r) =>
      child.once('exit', (code) => {
        r(code);
      }),
    );
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve({ started: JSON.parse(line) as Started, exited, kill: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => {
      reject(new Error(`child exited (${code}) before reporting`));
    });
  });

const settle = async (started: Started): Promise<string[]> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await leftovers(started);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('the harness never leaves a process or a port behind', function () {
  this.timeout(120_000);

  it('when the test process dies of an uncaught error', async () => {
    const { started, exited } = await runChild('throw');
    expect(started.pids).to.have.length(3);
    expect(await exited).to.not.equal(0);
    expect(await settle(started)).to.deep.equal([]);
  });

  it('when the test process is killed with SIGKILL (no exit handler runs)', async () => {
    const { started, exited, kill } = await runChild('sigkill');
    kill();
    await exited;
    expect(await settle(started)).to.deep.equal([]);
  });
});
