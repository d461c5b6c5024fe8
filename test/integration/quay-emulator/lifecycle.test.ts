// The emulator's state and lifecycle beyond the recorded exchanges: garbage collection of deleted names and
// repositories, token expiry, bootstrap, the world snapshot, paging, and HTTPS.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki } from '../../harness/certs.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const call = async (
  quay: QuayEmulator,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> => {
  const res = await fetch(`${quay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? quay.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
};

const detail = (a: Answer): unknown => (a.body as { detail?: unknown }).detail;

describe('Quay emulator lifecycle', function () {
  this.timeout(30_000);
  let quay: QuayEmulator;
  beforeEach(async () => {
    quay = await startQuayEmulator();
  });
  afterEach(async () => {
    await quay.close();
  });

  it('holds a deleted organization name back ("Username is not available") until garbage collection', async () => {
    expect((await call(quay, 'POST', '/api/v1/organization/', { name: 'team-a' })).status).to.equal(201);
    expect((await call(quay, 'DELETE', '/api/v1/organization/team-a')).status).to.equal(204);
    expect((await call(quay, 'GET', '/api/v1/organization/team-a')).status).to.equal(404);
    const again = await call(quay, 'POST', '/api/v1/organization/', { name: 'team-a' });
    expect([again.status, detail(again)]).to.deep.equal([400, 'Username is not available']);
    expect(quay.state().pendingDeletion.namespaces).to.deep.equal(['team-a']);
    quay.runGarbageCollection();
    expect(quay.state().pendingDeletion.namespaces).to.deep.equal([]);
    expect((await call(quay, 'POST', '/api/v1/organization/', { name: 'team-a' })).status).to.equal(201);
  });

  it('collects garbage by itself gcAfterMs after a deletion', async () => {
    await quay.close();
    quay = await startQuayEmulator({ gcAfterMs: 100 });
    await call(quay, 'POST', '/api/v1/organization/', { name: 'team-b' });
    await call(quay, 'DELETE', '/api/v1/organization/team-b');
    expect((await call(quay, 'POST', '/api/v1/organization/', { name: 'team-b' })).status).to.equal(400);
    // The timer may fire late on a loaded machine; poll until the name is free.
    const deadline = Date.now() + 5000;
    let status = 400;
    while (status === 400 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await call(quay, 'POST', '/api/v1/organization/', { name: 'team-b' })).status;
    }
    expect(status).to.equal(201);
  });

  it('frees a deleted repository name at once, but lists it under a UUID in robot permissions until GC', async () => {
    await call(quay, 'POST', '/api/v1/organization/', { name: 'apps' });
    await call(quay, 'PUT', '/api/v1/organization/apps/robots/builder');
    const repo = { namespace: 'apps', repository: 'web', visibility: 'private', description: '' };
    await call(quay, 'POST', '/api/v1/repository', repo);
    await call(quay, 'PUT', '/api/v1/repository/apps/web/permissions/user/apps+builder', { role: 'write' });
    expect((await call(quay, 'DELETE', '/api/v1/repository/apps/web')).status).to.equal(204);
    expect((await call(quay, 'POST', '/api/v1/repository', repo)).status).to.equal(201);
    const listed = await call(quay, 'GET', '/api/v1/organization/apps/robots/builder/permissions');
    const names = (listed.body as { permissions: { repository: { name: string } }[] }).permissions.map(
      (p) => p.repository.name,
    );
    expect(names).to.have.length(1);
    expect(names[0]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(quay.state().pendingDeletion.repositories).to.deep.equal([
      { namespace: 'apps', name: 'web', deletedAs: names[0] },
    ]);
    quay.runGarbageCollection();
    const after = await call(quay, 'GET', '/api/v1/organization/apps/robots/builder/permissions');
    expect(after.body).to.deep.equal({ permissions: [] });
  });

  it('treats an expired token as no token: 401 on reads, the CSRF 403 on writes', async () => {
    const expired = quay.createToken('quayadmin', ['org:admin'], { expiresInSeconds: -1 });
    expect((await call(quay, 'GET', '/api/v1/organization/x/robots', undefined, expired)).status).to.equal(
      401,
    );
    const write = await fetch(`${quay.url}/api/v1/organization/x/robots/y`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${expired}` },
    });
    expect([write.status, write.headers.get('content-type'), await write.json()]).to.deep.equal([
      403,
      'text/html; charset=utf-8',
      { error: 'CSRF token was invalid or missing.' },
    ]);
  });

  it('bootstraps through POST /api/v1/user/initialize when started empty, once', async () => {
    await quay.close();
    quay = await startQuayEmulator({ bootstrap: false });
    expect(() => quay.adminToken).to.throw(/bootstrap/);
    const init = (body: unknown): Promise<Response> =>
      fetch(`${quay.url}/api/v1/user/initialize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await init({
      username: 'quayadmin',
      password: 'password1',
      email: 'a@example.com',
      access_token: true,
    });
    expect(first.status).to.equal(200);
    const created = (await first.json()) as { username: string; access_token: string };
    expect(created.username).to.equal('quayadmin');
    expect(created.access_token).to.match(/^[A-Z0-9]{40}$/);
    const me = await call(quay, 'GET', '/api/v1/user/', undefined, created.access_token);
    expect((me.body as { super_user?: boolean }).super_user).to.equal(true);
    const second = await init({ username: 'other', password: 'password1' });
    expect([second.status, await second.json()]).to.deep.equal([
      400,
      { message: 'Cannot initialize user in a non-empty database' },
    ]);
  });

  it('shows the state of the world: organizations, robots, prototypes, repositories, permissions and tags', async () => {
    await call(quay, 'POST', '/api/v1/organization/', { name: 'shop', email: 'shop@example.com' });
    const robot = await call(quay, 'PUT', '/api/v1/organization/shop/robots/builder', {
      description: 'builds',
    });
    const proto = await call(quay, 'POST', '/api/v1/organization/shop/prototypes', {
      role: 'write',
      delegate: { kind: 'user', name: 'shop+builder' },
    });
    await call(quay, 'POST', '/api/v1/repository', {
      namespace: 'shop',
      repository: 'cart',
      visibility: 'private',
      description: 'the cart',
    });
    const digest = `sha256:${'ab'.repeat(32)}`;
    quay.pushTag('shop', 'cart', 'v1', digest, { size: 42 });
    const state = quay.state();
    expect(state.organizations.map((o) => [o.name, o.email, o.teams])).to.deep.equal([
      ['shop', 'shop@example.com', [{ name: 'owners', role: 'admin', members: ['quayadmin'] }]],
    ]);
    expect(state.robots.map((r) => [r.name, r.description, r.token, r.lastAccessed])).to.deep.equal([
      ['shop+builder', 'builds', (robot.body as { token: string }).token, null],
    ]);
    expect(state.prototypes).to.deep.equal([
      {
        org: 'shop',
        id: (proto.body as { id: string }).id,
        role: 'write',
        activatingUser: null,
        delegate: { kind: 'user', name: 'shop+builder' },
      },
    ]);
    expect(state.repositories).to.deep.equal([
      {
        namespace: 'shop',
        name: 'cart',
        visibility: 'private',
        description: 'the cart',
        userPermissions: { quayadmin: 'admin', 'shop+builder': 'write' },
        teamPermissions: {},
        tags: [{ name: 'v1', manifestDigest: digest, size: 42 }],
      },
    ]);
    expect(() => {
      quay.pushTag('shop', 'nope', 'v1', digest);
    }).to.throw(/no repository shop\/nope/);
  });

  it('pages repositories 100 at a time with next_page, and answers a garbled token with the first page', async () => {
    await call(quay, 'POST', '/api/v1/organization/', { name: 'many' });
    for (let i = 0; i < 101; i++) {
      const created = await call(quay, 'POST', '/api/v1/repository', {
        namespace: 'many',
        repository: `r${String(i).padStart(3, '0')}`,
        visibility: 'private',
        description: '',
      });
      expect(created.status).to.equal(201);
    }
    const page = async (token?: string) => {
      const q = token === undefined ? '' : `&next_page=${encodeURIComponent(token)}`;
      return (await call(quay, 'GET', `/api/v1/repository?namespace=many${q}`)).body as {
        repositories: { name: string }[];
        next_page?: string;
      };
    };
    const first = await page();
    expect(first.repositories).to.have.length(100);
    expect(first.next_page).to.match(/^gAAAAA/);
    const second = await page(first.next_page);
    expect(second.repositories.map((r) => r.name)).to.deep.equal(['r100']);
    expect(second.next_page).to.equal(undefined);
    expect((await page('gAAAAAgarbage')).repositories[0]?.name).to.equal('r000');
  });

  it('lists, and deletes with their organization, robots of look-alike names when the name has a "_"', async () => {
    // Quay selects robots with an unescaped ILIKE '<org>+%' (data/model/user.py), where "_" matches any character.
    for (const name of ['c1_ns', 'c1-ns']) {
      await call(quay, 'POST', '/api/v1/organization/', { name });
      await call(quay, 'PUT', `/api/v1/organization/${name}/robots/builder`);
    }
    const listed = await call(quay, 'GET', '/api/v1/organization/c1_ns/robots?token=false');
    expect((listed.body as { robots: { name: string }[] }).robots.map((r) => r.name).sort()).to.deep.equal([
      'c1-ns+builder',
      'c1_ns+builder',
    ]);
    await call(quay, 'DELETE', '/api/v1/organization/c1_ns');
    expect(quay.state().robots.map((r) => r.name)).to.deep.equal([]);
  });

  it("gives a robot on a team the team's repository role, and lists the team with the robot", async () => {
    await call(quay, 'POST', '/api/v1/organization/', { name: 'lab' });
    const robot = await call(quay, 'PUT', '/api/v1/organization/lab/robots/ci');
    const created = await call(quay, 'PUT', '/api/v1/organization/lab/team/ci', { role: 'member' });
    expect((created.body as { new_team: boolean }).new_team).to.equal(true);
    const member = await call(quay, 'PUT', '/api/v1/organization/lab/team/ci/members/lab+ci');
    expect(member.body).to.include({ name: 'lab+ci', kind: 'user', is_robot: true, invited: false });
    const twice = await call(quay, 'PUT', '/api/v1/organization/lab/team/ci/members/lab+ci');
    expect([twice.status, twice.body]).to.deep.equal([
      400,
      { message: 'User lab+ci is already a member of team ci' },
    ]);
    await call(quay, 'POST', '/api/v1/repository', {
      namespace: 'lab',
      repository: 'app',
      visibility: 'private',
      description: '',
    });
    await call(quay, 'PUT', '/api/v1/repository/lab/app/permissions/team/ci', { role: 'write' });
    const listed = await call(quay, 'GET', '/api/v1/organization/lab/robots?permissions=true&token=false');
    const entry = (
      listed.body as { robots: { name: string; teams: { name: string }[]; repositories: string[] }[] }
    ).robots[0];
    expect([entry?.name, entry?.teams.map((t) => t.name), entry?.repositories]).to.deep.equal([
      'lab+ci',
      ['ci'],
      [],
    ]);
    const basic = Buffer.from(`lab+ci:${(robot.body as { token: string }).token}`).toString('base64');
    const auth = await fetch(`${quay.url}/v2/auth?service=x&scope=repository:lab/app:push,pull`, {
      headers: { authorization: `Basic ${basic}` },
    });
    const { token } = (await auth.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      access: unknown;
    };
    expect(claims.access).to.deep.equal([{ type: 'repository', name: 'lab/app', actions: ['push', 'pull'] }]);
    expect((await call(quay, 'DELETE', '/api/v1/organization/lab/team/ci')).status).to.equal(204);
    expect(quay.state().organizations[0]?.teams.map((t) => t.name)).to.deep.equal(['owners']);
    expect(quay.state().repositories[0]?.teamPermissions).to.deep.equal({});
  });

  it('serves HTTPS with the certificate it is given', async () => {
    await quay.close();
    const dir = mkdtempSync(join(tmpdir(), 'quay-emulator-tls-'));
    try {
      const pki = createPki(dir);
      quay = await startQuayEmulator({ tls: { cert: pki.servingCert, key: pki.servingKey } });
      expect(quay.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https
          .get(
            `${quay.url}/api/v1/user/`,
            { ca: pki.caPem, headers: { authorization: `Bearer ${quay.adminToken}` } },
            (res) => {
              res.resume();
              resolve(res.statusCode);
            },
          )
          .on('error', reject);
      });
      expect(status).to.equal(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
