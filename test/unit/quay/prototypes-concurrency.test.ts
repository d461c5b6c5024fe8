// Default permissions added by two deliveries at once: in one process (one client) and in two (two clients on one
// Quay). Quay accepts duplicate prototypes, so only the client's own discipline keeps the world at one per robot.
// The races are made deterministic by holding requests until their partner arrives.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { bindQuayClient } from '../../../shared/quay/client.js';
import type { QuayHttp, QuayRequest, QuayResponse } from '../../../shared/quay/request.js';

interface Stored {
  readonly id: string;
  role: string;
  readonly robot: string;
}

const PROTOTYPES = '/api/v1/organization/demo/prototypes';

/** Quay's prototype endpoints of one organization, in memory; `hold` pairs up the first requests of a kind. */
const fakeQuay = () => {
  const stored: Stored[] = [];
  let ids = 0;
  const sent: string[] = [];
  const waiting = new Map<string, { count: number; release: (() => void)[] }>();
  const held = new Map<string, number>();
  /** The first `pairs` × 2 requests of `kind` (e.g. "POST") are answered only once their partner has arrived. */
  const hold = (kind: string, pairs: number): void => {
    held.set(kind, pairs * 2);
  };
  const gate = async (kind: string): Promise<void> => {
    const left = held.get(kind) ?? 0;
    if (left === 0) return;
    held.set(kind, left - 1);
    const w = waiting.get(kind) ?? { count: 0, release: [] };
    waiting.set(kind, w);
    w.count += 1;
    if (w.count % 2 === 0) {
      for (const r of w.release.splice(0)) r();
      return;
    }
    await new Promise<void>((resolve) => w.release.push(resolve));
  };
  const view = (p: Stored) => ({
    activating_user: null,
    delegate: { name: p.robot, is_robot: true, kind: 'user', is_org_member: true },
    role: p.role,
    id: p.id,
  });
  const answer = (r: QuayRequest, status: number, body?: unknown): QuayResponse => ({
    method: r.method,
    path: r.path,
    status,
    headers: { 'content-type': 'application/json' },
    body,
    text: body === undefined ? '' : JSON.stringify(body),
  });
  /** A transport onto the shared state; `reversed` lists newest first, as another database plan might. */
  const http = (reversed = false): QuayHttp => ({
    send: (r) => async () => {
      sent.push(r.method);
      if (r.method === 'GET' && r.path === PROTOTYPES) {
        await gate('GET');
        const list = stored.map(view);
        return E.right(answer(r, 200, { prototypes: reversed ? list.reverse() : list }));
      }
      if (r.method === 'POST' && r.path === PROTOTYPES) {
        const body = r.body as { role: string; delegate: { name: string } };
        // Applied at once; the answer waits for the partner, so both adds are in before either re-reads.
        const p: Stored = {
          id: `p${String(++ids).padStart(3, '0')}`,
          role: body.role,
          robot: body.delegate.name,
        };
        stored.push(p);
        await gate('POST');
        return E.right(answer(r, 200, view(p)));
      }
      const id = r.path.slice(PROTOTYPES.length + 1);
      const i = stored.findIndex((p) => p.id === id);
      if (r.method === 'DELETE') {
        if (i < 0) return E.right(answer(r, 404, { detail: 'Not Found' }));
        stored.splice(i, 1);
        return E.right(answer(r, 204));
      }
      if (r.method === 'PUT' && i >= 0) {
        const p = stored[i] as Stored;
        p.role = (r.body as { role: string }).role;
        return E.right(answer(r, 200, view(p)));
      }
      return E.right(answer(r, 404, { detail: 'Not Found' }));
    },
  });
  return { stored, sent, hold, http };
};

describe('default permissions added concurrently', () => {
  it('two processes adding the same prototype at once end with exactly one, the same kept by both', async () => {
    const quay = fakeQuay();
    // Both read an empty list, both add, both re-read the two adds and remove duplicates at the same time; the
    // second process sees the list in the other order.
    quay.hold('GET', 2);
    quay.hold('POST', 1);
    const a = bindQuayClient(quay.http(), 'token-a');
    const b = bindQuayClient(quay.http(true), 'token-b');
    const results = await Promise.all([
      a.ensureDefaultPermission('demo', 'demo+builder', 'write')(),
      b.ensureDefaultPermission('demo', 'demo+builder', 'write')(),
    ]);
    expect(results).to.deep.equal([E.right('created'), E.right('created')]);
    expect(quay.sent.filter((m) => m === 'POST')).to.have.length(2);
    expect(quay.stored).to.deep.equal([{ id: 'p001', role: 'write', robot: 'demo+builder' }]);
  });

  it('in one process, two deliveries at once add the prototype once', async () => {
    const quay = fakeQuay();
    quay.hold('GET', 1); // both deliveries read the empty list before either adds
    const client = bindQuayClient(quay.http(), 'token');
    const delivery = async () => {
      const listed = await client.listDefaultPermissions('demo')();
      if (E.isLeft(listed)) throw new Error(listed.left._tag);
      return client.ensureDefaultPermission('demo', 'demo+builder', 'write', listed.right)();
    };
    const results = await Promise.all([delivery(), delivery()]);
    expect(results.map((r) => (E.isRight(r) ? r.right : r.left._tag)).sort()).to.deep.equal([
      'created',
      'unchanged',
    ]);
    expect(quay.sent.filter((m) => m === 'POST')).to.have.length(1);
    expect(quay.stored).to.have.length(1);
  });

  it('in one process, a batch and a single call for the same robot add the prototype once', async () => {
    const quay = fakeQuay();
    quay.hold('GET', 1);
    const client = bindQuayClient(quay.http(), 'token');
    const listed = async () => {
      const l = await client.listDefaultPermissions('demo')();
      if (E.isLeft(l)) throw new Error(l.left._tag);
      return l.right;
    };
    const [first, second] = await Promise.all([listed(), listed()]);
    const results = await Promise.all([
      client.ensureDefaultPermissions(
        'demo',
        [
          { robotName: 'demo+builder', role: 'write' },
          { robotName: 'demo+default', role: 'read' },
        ],
        first,
      )(),
      client.ensureDefaultPermission('demo', 'demo+builder', 'write', second)(),
    ]);
    expect(results).to.deep.equal([E.right(['created', 'created']), E.right('unchanged')]);
    expect(quay.stored.map((p) => `${p.robot}=${p.role}`).sort()).to.deep.equal([
      'demo+builder=write',
      'demo+default=read',
    ]);
  });
});
