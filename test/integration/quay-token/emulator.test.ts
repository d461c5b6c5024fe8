// `quay-token` end to end against the Quay emulator: the command in its own process, over real HTTP (and HTTPS),
// for the success paths and every failure it names. The emulator answers as the recorded Quay does
// (signin-conformance.test.ts). Tokens go to stdout (--print) here; writing the Secret is kube.test.ts.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../harness/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { runQuayTokenCommand, startStrippingProxy, type CommandResult } from '../../support/quay-token.js';
import { selfSignedCertificate } from '../quay-client/tls.js';

const SEVEN = [
  'org:admin',
  'repo:admin',
  'repo:create',
  'repo:read',
  'repo:write',
  'user:admin',
  'user:read',
];
const TOKEN_LINE = /^[A-Z0-9]{40}\n$/;

const print = (quay: string, extra: readonly string[] = []): string[] => [
  '--quay',
  quay,
  '--org',
  'platform',
  '--password-env',
  'QUAY_PASSWORD',
  '--print',
  ...extra,
];

/** The OAuth applications of `org` (the emulator's bootstrap made `automation` for quayadmin itself). */
const appsIn = (quay: QuayEmulator, org: string) => quay.state().applications.filter((a) => a.org === org);

/** Nothing secret on stderr, ever; stdout is the token alone or nothing. */
const expectNoLeak = (r: CommandResult, secrets: readonly string[]): void => {
  for (const s of secrets) expect(r.stderr).to.not.include(s);
  if (r.status !== 0) expect(r.stdout).to.equal('');
};

const userView = async (
  quay: QuayEmulator,
  token: string,
): Promise<{ status: number; username?: string }> => {
  const res = await fetch(`${quay.url}/api/v1/user/`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { username?: string };
  return { status: res.status, ...(body.username === undefined ? {} : { username: body.username }) };
};

/** A user who is no admin of anything, made by the superuser as Quay's UI would. */
const createUser = async (quay: QuayEmulator, username: string): Promise<string> => {
  const res = await fetch(`${quay.url}/api/v1/superuser/users/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${quay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com` }),
  });
  expect(res.status).to.equal(200);
  return ((await res.json()) as { password: string }).password;
};

describe('quay-token against the Quay emulator (its own process, over HTTP)', function () {
  this.timeout(60_000);
  let quay: QuayEmulator;
  let password: string;
  let dir: string;

  before(async () => {
    quay = await startQuayEmulator({ seed: 1501 });
    quay.createOrganization('platform', 'quayadmin');
    password = quay.adminPassword;
    dir = mkdtempSync(join(tmpdir(), 'quay-token-'));
  });
  after(async () => {
    await quay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a token with exactly the seven scopes, from an OAuth application it creates in the organization', async () => {
    const r = await runQuayTokenCommand(print(quay.url), { QUAY_PASSWORD: password });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(TOKEN_LINE);
    const token = r.stdout.trim();
    expectNoLeak(r, [password, token]);
    expect(r.stderr).to.include('OAuth application quay-bridge in platform: created');
    expect(appsIn(quay, 'platform')).to.deep.equal([
      {
        org: 'platform',
        name: 'quay-bridge',
        clientId: appsIn(quay, 'platform')[0]?.clientId,
        redirectUri: `${quay.url}/oauth/localapp`,
        tokens: [SEVEN],
      },
    ]);
    expect(await userView(quay, token)).to.deep.equal({ status: 200, username: 'quayadmin' });
  });

  it('run again, reuses the application by name and gets a new token (the application holds both)', async () => {
    const r = await runQuayTokenCommand(print(quay.url), { QUAY_PASSWORD: password });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(TOKEN_LINE);
    expect(r.stderr).to.include('OAuth application quay-bridge in platform: reused');
    expect(appsIn(quay, 'platform').map((a) => [a.name, a.tokens])).to.deep.equal([
      ['quay-bridge', [SEVEN, SEVEN]],
    ]);
  });

  it('reads the password from --password-file, ignoring its trailing newline', async () => {
    const file = join(dir, 'password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const r = await runQuayTokenCommand([
      '--quay',
      quay.url,
      '--org',
      'platform',
      '--password-file',
      file,
      '--print',
    ]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(TOKEN_LINE);
  });

  it('refuses a password on the command line, and asks for a terminal only when there is one', async () => {
    for (const args of [
      ['--quay', quay.url, '--org', 'platform', '--password', password, '--print'],
      ['--quay', quay.url, '--org', 'platform', `--password=${password}`, '--print'],
    ]) {
      const r = await runQuayTokenCommand(args);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.include('never taken from the command line');
      expectNoLeak(r, [password]);
    }
    const noTty = await runQuayTokenCommand(['--quay', quay.url, '--org', 'platform', '--print']);
    expect(noTty.status).to.equal(1);
    expect(noTty.stderr).to.include('stdin is not a TTY').and.include('--password-file');
    const unset = await runQuayTokenCommand(print(quay.url));
    expect(unset.stderr).to.include('QUAY_PASSWORD (--password-env) is not set');
  });

  it('a user who is no admin of the organization is told so, and nothing is created', async () => {
    const bobPassword = await createUser(quay, 'bob');
    const before = appsIn(quay, 'platform');
    const r = await runQuayTokenCommand([...print(quay.url), '--user', 'bob'], {
      QUAY_PASSWORD: bobPassword,
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('"bob" is not an admin of the organization "platform"');
    expectNoLeak(r, [bobPassword]);
    expect(appsIn(quay, 'platform')).to.deep.equal(before);
  });

  it('an organization that does not exist is named; --create-org creates it with the user as its admin', async () => {
    const args = ['--quay', quay.url, '--org', 'tools', '--password-env', 'QUAY_PASSWORD', '--print'];
    const missing = await runQuayTokenCommand(args, { QUAY_PASSWORD: password });
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.include('Quay has no organization "tools"').and.include('--create-org');
    const created = await runQuayTokenCommand([...args, '--create-org'], { QUAY_PASSWORD: password });
    expect(created.status, created.stderr).to.equal(0);
    expect(created.stderr).to.include('organization tools: created, quayadmin is an admin');
    const tools = quay.state().organizations.find((o) => o.name === 'tools');
    expect(tools?.teams).to.deep.equal([{ name: 'owners', role: 'admin', members: ['quayadmin'] }]);
  });

  it('a Quay that offers no password sign-in (FEATURE_DIRECT_LOGIN off) sends the user to the UI', async () => {
    const sso = await startQuayEmulator({ seed: 1502, features: { directLogin: false } });
    try {
      sso.createOrganization('platform', 'quayadmin');
      const r = await runQuayTokenCommand(print(sso.url), { QUAY_PASSWORD: sso.adminPassword });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('does not offer password sign-in').and.include('FEATURE_DIRECT_LOGIN');
    } finally {
      await sso.close();
    }
  });

  it('a proxy that loses the session cookie or the CSRF header: the CSRF refusal is named, with what to do', async () => {
    for (const strip of ['cookie', 'x-csrf-token']) {
      const proxy = await startStrippingProxy(quay.url, [strip]);
      try {
        const r = await runQuayTokenCommand(print(proxy.url), { QUAY_PASSWORD: password });
        expect(r.status, strip).to.equal(1);
        expect(r.stderr, strip).to.include("refused the session's CSRF token while signing in");
        expect(r.stderr, strip).to.include('point --quay at Quay itself');
      } finally {
        await proxy.close();
      }
    }
  });

  it('a proxy that loses the session after the sign-in (cookies dropped on reads): said as a lost session', async () => {
    const proxy = await startStrippingProxy(quay.url, ['cookie'], (req) => req.method === 'GET');
    try {
      const r = await runQuayTokenCommand(print(proxy.url), { QUAY_PASSWORD: password });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(
        'Quay no longer knew the signed-in session while reading the signed-in user',
      );
    } finally {
      await proxy.close();
    }
  });

  it('nothing listening, or something that is not Quay, is said as such', async () => {
    const port = await freePort();
    const down = await runQuayTokenCommand(print(`http://127.0.0.1:${port}`), { QUAY_PASSWORD: password });
    expect(down.status).to.equal(1);
    expect(down.stderr)
      .to.include(`cannot reach Quay at http://127.0.0.1:${port}`)
      .and.include('ECONNREFUSED');
    const other = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>nginx</html>');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const r = await runQuayTokenCommand(print(url), { QUAY_PASSWORD: password });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('does not answer like Quay (GET /csrf_token answered HTTP 404)');
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('HTTPS with a private CA: refused with the way out, accepted with --ca-file, and with --insecure', async () => {
    const tls = selfSignedCertificate();
    const secure = await startQuayEmulator({ seed: 1503, tls });
    try {
      secure.createOrganization('platform', 'quayadmin');
      const env = { QUAY_PASSWORD: secure.adminPassword };
      const refused = await runQuayTokenCommand(print(secure.url), env);
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.include(`TLS to ${secure.url} failed`).and.include('--ca-file');
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, tls.cert);
      const trusted = await runQuayTokenCommand(print(secure.url, ['--ca-file', ca]), env);
      expect(trusted.status, trusted.stderr).to.equal(0);
      expect(trusted.stdout).to.match(TOKEN_LINE);
      const insecure = await runQuayTokenCommand(print(secure.url, ['--insecure']), env);
      expect(insecure.status, insecure.stderr).to.equal(0);
      expect(insecure.stderr).to.include("--insecure: Quay's TLS certificate is not checked");
    } finally {
      await secure.close();
    }
  });
});

describe("quay-token: wrong passwords and Quay's sign-in back-off", function () {
  this.timeout(60_000);
  // The emulator's clock stands still, so the second attempt is inside the back-off window however slowly the
  // processes start: no timing in this test.
  const clock = Date.parse('2026-12-03T10:00:00Z');
  let quay: QuayEmulator;
  before(async () => {
    quay = await startQuayEmulator({ seed: 1504, now: () => clock });
    quay.createOrganization('platform', 'quayadmin');
  });
  after(async () => {
    await quay.close();
  });

  it('says the password was refused, then that Quay makes it wait (even with the right password)', async () => {
    const wrong = await runQuayTokenCommand(print(quay.url), { QUAY_PASSWORD: 'not-the-password' });
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.include('Quay refused the user name or password of "quayadmin"');
    expectNoLeak(wrong, ['not-the-password']);
    const throttled = await runQuayTokenCommand(print(quay.url), { QUAY_PASSWORD: quay.adminPassword });
    expect(throttled.status).to.equal(1);
    expect(throttled.stderr)
      .to.include('Quay refuses sign-ins of "quayadmin"')
      .and.include('Too many login attempts');
    expect(appsIn(quay, 'platform')).to.deep.equal([]);
  });
});

describe('quay-token --initialize: the first user of a brand-new Quay', function () {
  this.timeout(60_000);

  const initialize = (url: string, extra: readonly string[] = []): string[] => [
    '--quay',
    url,
    '--initialize',
    '--user',
    'quayadmin',
    '--email',
    'quayadmin@example.com',
    '--password-env',
    'QUAY_PASSWORD',
    '--print',
    ...extra,
  ];

  it('creates the user, prints the token Quay returns and warns that it expires; a second time is refused', async () => {
    const fresh = await startQuayEmulator({ seed: 1505, bootstrap: false });
    try {
      const r = await runQuayTokenCommand(initialize(fresh.url), { QUAY_PASSWORD: 'a-long-password' });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(TOKEN_LINE);
      expect(r.stderr).to.include('EXPIRES after about 2.5 hours');
      expectNoLeak(r, ['a-long-password', r.stdout.trim()]);
      expect(await userView(fresh, r.stdout.trim())).to.deep.equal({ status: 200, username: 'quayadmin' });
      expect(fresh.state().users.map((u) => [u.username, u.superUser])).to.deep.equal([['quayadmin', true]]);
      const again = await runQuayTokenCommand(initialize(fresh.url), { QUAY_PASSWORD: 'a-long-password' });
      expect(again.status).to.equal(1);
      expect(again.stderr).to.include('Quay already has users').and.include('Run without --initialize');
    } finally {
      await fresh.close();
    }
  });

  it("passes on Quay's refusal of a bad first password, and names a Quay without FEATURE_USER_INITIALIZE", async () => {
    const fresh = await startQuayEmulator({ seed: 1506, bootstrap: false });
    const off = await startQuayEmulator({
      seed: 1507,
      bootstrap: false,
      features: { userInitialize: false },
    });
    try {
      const short = await runQuayTokenCommand(initialize(fresh.url), { QUAY_PASSWORD: 'short' });
      expect(short.status).to.equal(1);
      expect(short.stderr).to.include(
        'Quay refused to create the first user: Failed to initialize user: Invalid password, password must be at least 8 characters',
      );
      expect(fresh.state().users).to.deep.equal([]);
      const r = await runQuayTokenCommand(initialize(off.url), { QUAY_PASSWORD: 'a-long-password' });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(
        'does not offer POST /api/v1/user/initialize (404): FEATURE_USER_INITIALIZE is off',
      );
    } finally {
      await fresh.close();
      await off.close();
    }
  });
});
