// The token command as the image has it: `npm run build`'s tsc step (tsconfig.build.json) compiles tools/ into
// dist/, and the Job (knative/quay-token) runs `node dist/tools/quay-token/main.js`: plain Node on compiled
// JavaScript, no tsx. Built here outside the repository and run against the Quay emulator.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../harness/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

describe("the image's quay-token entry (tsc's dist/tools/quay-token/main.js under plain node)", function () {
  this.timeout(300_000);
  let dir = '';
  let quay: QuayEmulator;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quay-token-image-'));
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(dir, 'dist'),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // As in the image: node_modules and a package.json of type module beside dist/.
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    quay = await startQuayEmulator({ seed: 1520 });
    quay.createOrganization('platform', 'quayadmin');
  });
  after(async () => {
    await quay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Its own process, asynchronously: the emulator in this one must go on answering. */
  const node = (
    args: readonly string[],
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['dist/tools/quay-token/main.js', ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (status) => {
        resolve({ status, stdout, stderr });
      });
    });

  it('prints its usage, and gets a token the way the Job runs it', async () => {
    const help = await node(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include('node dist/tools/quay-token/main.js');
    const password = join(dir, 'password');
    writeFileSync(password, quay.adminPassword, { mode: 0o600 });
    const run = await node(['--quay', quay.url, '--org', 'platform', '--password-file', password, '--print']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^[A-Z0-9]{40}\n$/);
  });
});
