import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { Resources } from '../../../shared/kube/resources.js';
import { withCallCounts } from '../../../shared/runtime/calls.js';
import { readSinceCreation } from '../../../shared/runtime/observe.js';
import { conditionsFor, conditionsPatch, type Condition } from '../../../shared/settings/conditions.js';
import { createSettingsSource, type QuayClientParams } from '../../../shared/settings/load.js';
import { fakeKube } from './fakes/kube.js';
import { fakeQuay } from './fakes/quay.js';
import { quayIntegration, tokenSecret } from './fakes/env.js';

const setup = (
  spec: Record<string, unknown> = {},
  data: Record<string, string> = { token: 'T1' },
  ttlMs = 0,
) => {
  const kube = fakeKube();
  const quay = fakeQuay();
  kube.put(Resources.QuayIntegration, quayIntegration(spec));
  kube.put(Resources.Secret, tokenSecret(data));
  let clock = 0;
  const made: QuayClientParams[] = [];
  const source = createSettingsSource({
    kube,
    ttlMs,
    now: () => clock,
    makeQuay: (p) => {
      made.push(p);
      return quay;
    },
  });
  return { kube, quay, source, made, tick: (ms: number) => (clock += ms) };
};

/**
 * Settings read at 1 000 (TTL 10 s); then `between` changes the world and `later` ms pass; then the report for an
 * object made at 1 200, which the cached report predates.
 */
const recheckAfter = async (s: ReturnType<typeof setup>, between: () => void, later = 500) => {
  s.tick(1_000);
  await s.source.configured()();
  between();
  s.tick(later);
  return s.source.configured({ readSince: 1_200 })();
};

describe('settings loading', () => {
  // The API calls carry the org-admin token: only an explicit setting turns their certificate check off.
  const tls: [string, Record<string, unknown>, boolean][] = [
    ['by default', {}, false],
    ['with insecureRegistry (image imports only, as in QBO)', { insecureRegistry: true }, false],
    ['with insecureSkipTLSVerifyAPI', { insecureSkipTLSVerifyAPI: true }, true],
    ['with both', { insecureRegistry: true, insecureSkipTLSVerifyAPI: true }, true],
  ];
  for (const [when, spec, insecure] of tls)
    it(`verifies Quay's API certificate ${insecure ? 'not ' : ''}${when}`, async () => {
      const s = setup(spec);
      expect(E.isRight(await s.source.configured()())).to.equal(true);
      expect(s.made.map((p) => p.insecure)).to.deep.equal([insecure]);
    });

  it('makes a new client when insecureSkipTLSVerifyAPI changes, not when insecureRegistry does', async () => {
    const s = setup();
    await s.source.configured()();
    s.kube.put(Resources.QuayIntegration, quayIntegration({ insecureRegistry: true }));
    await s.source.configured()();
    expect(s.made).to.have.length(1);
    s.kube.put(Resources.QuayIntegration, quayIntegration({ insecureSkipTLSVerifyAPI: true }));
    await s.source.configured()();
    expect(s.made.map((p) => p.insecure)).to.deep.equal([false, true]);
  });

  it('docs/qbo-compatibility.md#b1: reads the token from the configured key, trimmed of a trailing newline', async () => {
    const s = setup(
      { credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token', key: 'oauth' } },
      { oauth: 'ABC\n', token: 'WRONG' },
    );
    const r = await s.source.configured()();
    expect(E.isRight(r)).to.equal(true);
    expect(s.made.map((p) => p.token.reveal())).to.deep.equal(['ABC']);
    expect(String(s.made[0]?.token)).to.equal('[token]');
  });

  const problems: readonly [string, () => ReturnType<typeof setup>, string, RegExp][] = [
    [
      'no QuayIntegration',
      () => {
        const s = setup();
        s.kube.remove(Resources.QuayIntegration, undefined, 'quay');
        return s;
      },
      'NoQuayIntegration',
      /no QuayIntegration exists/,
    ],
    [
      'two QuayIntegrations',
      () => {
        const s = setup();
        s.kube.put(Resources.QuayIntegration, quayIntegration({}, 'b'));
        return s;
      },
      'SeveralQuayIntegrations',
      /2 QuayIntegrations exist \(b, quay\)/,
    ],
    [
      'a missing Secret',
      () => {
        const s = setup();
        s.kube.remove(Resources.Secret, 'quay-bridge', 'quay-token');
        return s;
      },
      'SecretNotFound',
      /Secret quay-bridge\/quay-token does not exist/,
    ],
    ['a missing key', () => setup({}, { other: 'x' }), 'KeyMissing', /has no key "token"/],
    ['an empty token', () => setup({}, { token: ' \n' }), 'TokenEmpty', /is empty/],
    [
      'an unusable quayHostname',
      () => setup({ quayHostname: 'https://quay.example.com/path' }),
      'InvalidSpec',
      /must be scheme:\/\/host\[:port\]/,
    ],
  ];
  for (const [name, make, reason, message] of problems)
    it(`reports ${name} as NotConfigured (${reason}) without asking Quay`, async () => {
      const s = make();
      const r = await s.source.configured()();
      if (E.isRight(r) || r.left._tag !== 'NotConfigured')
        throw new Error(`expected NotConfigured, got ${JSON.stringify(r)}`);
      expect(r.left.reason).to.equal(reason);
      expect(r.left.message).to.match(message);
      expect(s.quay.calls).to.deep.equal([]);
    });

  it('validates the token once per change of the QuayIntegration or its Secret', async () => {
    const s = setup();
    await s.source.configured()();
    await s.source.configured()();
    expect(s.quay.calls).to.deep.equal(['currentUser()']);
    s.kube.put(Resources.Secret, tokenSecret({ token: 'T2' }));
    await s.source.configured()();
    expect(s.quay.calls).to.deep.equal(['currentUser()', 'currentUser()']);
    expect(s.made.map((p) => p.token.reveal())).to.deep.equal(['T1', 'T2']);
  });

  it('reuses a report for its TTL, and reads afresh when asked to', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    await s.source.configured()();
    await s.source.configured()();
    expect(s.kube.calls.filter((c) => c.startsWith('list QuayIntegration'))).to.have.length(1);
    await s.source.configured({ fresh: true })();
    s.tick(10_001);
    await s.source.configured()();
    expect(s.kube.calls.filter((c) => c.startsWith('list QuayIntegration'))).to.have.length(3);
  });

  it('reads afresh for an object created after the cached report was read, and not for older ones', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    const reads = () => s.kube.calls.filter((c) => / QuayIntegration /.test(c));
    s.tick(1_000);
    await s.source.configured()(); // read at 1 000
    await s.source.configured({ readSince: 1_000 })(); // an object older than the report: cached
    expect(reads()).to.deep.equal(['list QuayIntegration *']);
    s.tick(500);
    // created after the report was read: the QuayIntegration may have changed in between; the one the report
    // named is read by name (a quorum read, docs/design.md#settings-reads)
    await s.source.configured({ readSince: 1_200 })();
    expect(reads()).to.deep.equal(['list QuayIntegration *', 'get QuayIntegration /quay']);
    await s.source.configured({ readSince: 1_200 })(); // read at 1 500 now: cached
    expect(reads()).to.have.length(2);
    expect(s.quay.calls.filter((c) => c.startsWith('currentUser'))).to.have.length(1); // the token is checked once
  });

  describe('a read under way', () => {
    /** setup() whose reads of the credentials Secret (the end of every settings read) wait for `release`. */
    const held = () => {
      const s = setup({}, { token: 'T1' }, 10_000);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const { get } = s.kube;
      Object.assign(s.kube, {
        get: (ref: Parameters<typeof get>[0]) =>
          ref.type.kind === 'Secret'
            ? async () => {
                await gate;
                return get(ref)();
              }
            : get(ref),
      });
      return {
        ...s,
        release: () => {
          release();
        },
      };
    };
    const flush = () => new Promise((r) => setImmediate(r));
    const reads = (s: ReturnType<typeof setup>) => s.kube.calls.filter((c) => / QuayIntegration /.test(c));

    /** held(), with a read under way that started at 1 000 (now 1 010). */
    const underWay = async () => {
      const s = held();
      s.tick(1_000);
      const first = s.source.configured({ readSince: 900 })();
      await flush();
      s.tick(10);
      return { ...s, first };
    };

    it('is joined by the events whose objects are older than its start: one read for a burst', async () => {
      const { first, ...s } = await underWay();
      const second = s.source.configured({ readSince: 1_000 })(); // made before the read started: joins it
      s.release();
      const answers = await Promise.all([first, second]);
      expect(answers.map(E.isRight)).to.deep.equal([true, true]);
      expect(reads(s)).to.deep.equal(['list QuayIntegration *']);
    });

    it('is not joined by an event whose object is younger than its start, nor by a fresh read', async () => {
      const { first, ...s } = await underWay();
      const younger = s.source.configured({ readSince: 1_005 })();
      const fresh = s.source.configured({ fresh: true })();
      s.release();
      await Promise.all([first, younger, fresh]);
      expect(reads(s)).to.have.length(3);
    });
  });

  it('sees a change of the QuayIntegration through its read by name', async () => {
    const s = setup({ allowlistNamespaces: ['a'] }, { token: 'T1' }, 10_000);
    const r = await recheckAfter(s, () => {
      // A spec change, as the API server makes it: same uid, the next generation.
      const before = s.kube.read(Resources.QuayIntegration, undefined, 'quay');
      const changed = quayIntegration({ allowlistNamespaces: ['a', 'b'] });
      s.kube.put(Resources.QuayIntegration, {
        ...changed,
        metadata: { ...(changed.metadata as object), uid: before?.metadata.uid, generation: 2 },
      });
    });
    expect(E.isRight(r) && r.right.settings.allowlistNamespaces).to.deep.equal(['a', 'b']);
  });

  it('keeps a Ready report whose QuayIntegration read by name has the same uid and generation, reading no Secret', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    s.tick(1_000);
    const first = await s.source.configured()();
    const before = s.kube.calls.length;
    // A status write (the resync's) leaves the generation as it was.
    const stored = s.kube.read(Resources.QuayIntegration, undefined, 'quay');
    s.kube.put(Resources.QuayIntegration, { ...stored, status: { conditions: [] } });
    s.tick(500);
    const again = await s.source.configured({ readSince: 1_200 })();
    expect(s.kube.calls.slice(before)).to.deep.equal(['get QuayIntegration /quay']);
    expect(E.isRight(again) && E.isRight(first) && again.right.quay).to.equal(
      E.isRight(first) && first.right.quay,
    );
  });

  it('reads the credentials Secret again for a report that was not Ready (the Secret may have come since)', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    s.kube.remove(Resources.Secret, 'quay-bridge', 'quay-token');
    s.tick(1_000);
    const missing = await s.source.configured()();
    expect(E.isLeft(missing) && missing.left._tag === 'NotConfigured' && missing.left.reason).to.equal(
      'SecretNotFound',
    );
    s.kube.put(Resources.Secret, tokenSecret({ token: 'T1' }));
    s.tick(500);
    expect(E.isRight(await s.source.configured({ readSince: 1_200 })())).to.equal(true);
  });

  it('lists again when the QuayIntegration read by name is gone, or its API is no longer served', async () => {
    for (const gone of [
      (s: ReturnType<typeof setup>) => {
        s.kube.remove(Resources.QuayIntegration, undefined, 'quay');
      },
      (s: ReturnType<typeof setup>) => {
        s.kube.unserve(Resources.QuayIntegration.apiVersion);
      },
    ]) {
      const s = setup({}, { token: 'T1' }, 10_000);
      const r = await recheckAfter(s, () => {
        gone(s);
      });
      expect(E.isLeft(r) && r.left._tag === 'NotConfigured' && r.left.reason).to.equal('NoQuayIntegration');
      expect(s.kube.calls.filter((c) => / QuayIntegration /.test(c)).slice(1)).to.deep.equal([
        'get QuayIntegration /quay',
        'list QuayIntegration *',
      ]);
    }
  });

  it('lists when RBAC refuses the read by name (an install that grants only the list)', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    const r = await recheckAfter(s, () => {
      s.kube.failNext('get QuayIntegration', { _tag: 'KubeForbidden', status: 403, message: 'forbidden' });
    });
    expect(E.isRight(r)).to.equal(true);
    expect(s.kube.calls.filter((c) => / QuayIntegration /.test(c))).to.deep.equal([
      'list QuayIntegration *',
      'get QuayIntegration /quay',
      'list QuayIntegration *',
    ]);
  });

  it('sees a second QuayIntegration by the list made when the TTL runs out', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    const r = await recheckAfter(
      s,
      () => {
        s.kube.put(Resources.QuayIntegration, { ...quayIntegration({}), metadata: { name: 'second' } });
      },
      10_000,
    );
    expect(E.isLeft(r) && r.left._tag === 'NotConfigured' && r.left.reason).to.equal(
      'SeveralQuayIntegrations',
    );
  });

  it('readSinceCreation: settings read 2 s after the creation time (whole seconds, clocks apart)', () => {
    expect(
      readSinceCreation(O.some({ metadata: { creationTimestamp: '2026-12-01T10:00:00Z' } })),
    ).to.deep.equal({
      readSince: Date.parse('2026-12-01T10:00:02Z'),
    });
    expect(readSinceCreation(O.none)).to.deep.equal({});
    expect(readSinceCreation(O.some({ metadata: {} }))).to.deep.equal({});
    expect(readSinceCreation(O.some({ metadata: { creationTimestamp: 'yesterday' } }))).to.deep.equal({});
  });

  it('readSinceCreation: for a young object, settings read since its first event here will do', () => {
    const created = Date.parse('2026-12-01T10:00:00Z');
    const young = (uid: string) => O.some({ metadata: { creationTimestamp: '2026-12-01T10:00:00Z', uid } });
    // Its first event: settings read now or later (no cached copy can prove it was read after the creation).
    expect(readSinceCreation(young('u-1'), created + 300)).to.deep.equal({ readSince: created + 300 });
    // Its next events (the bridge's own writes to it): a read since that first event was after its creation.
    expect(readSinceCreation(young('u-1'), created + 900)).to.deep.equal({ readSince: created + 300 });
    // Another object, even of the same creation second, has its own first event.
    expect(readSinceCreation(young('u-2'), created + 900)).to.deep.equal({ readSince: created + 900 });
    // Past the creation bound, the bound itself.
    expect(readSinceCreation(young('u-3'), created + 5_000)).to.deep.equal({ readSince: created + 2_000 });
  });

  it("readSinceCreation: within an event's work, its arrival, not the start of its work, bounds a young object", async () => {
    const created = Date.now() - 100;
    const young = O.some({
      metadata: { creationTimestamp: new Date(created).toISOString(), uid: 'u-arrival' },
    });
    // It waited 50 ms in the queue: settings read while it waited will do.
    const arrival = { wall: Date.now() - 50, mono: 0 };
    const { result } = await withCallCounts(() => Promise.resolve(readSinceCreation(young)), arrival);
    expect(result).to.deep.equal({ readSince: arrival.wall });
  });

  it('passes a transient Quay failure through (retried), and does not cache it', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    s.quay.fail('currentUser', { _tag: 'QuayUnreachable', message: 'ECONNREFUSED' }, 1);
    const first = await s.source.configured()();
    expect(E.isLeft(first) && first.left._tag).to.equal('QuayUnreachable');
    const second = await s.source.configured()();
    expect(E.isRight(second)).to.equal(true);
  });
});

describe('settings loading: warming at process start', () => {
  const lists = (s: ReturnType<typeof setup>) =>
    s.kube.calls.filter((c) => c.startsWith('list QuayIntegration')).length;

  it('reads ahead, so that the first event finds the settings with the token checked', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    await s.source.warm();
    expect([lists(s), s.quay.calls]).to.deep.equal([1, ['currentUser()']]);
    const r = await s.source.configured()();
    expect(E.isRight(r)).to.equal(true);
    expect([lists(s), s.quay.calls]).to.deep.equal([1, ['currentUser()']]);
  });

  it('makes an event that arrives during the read wait for it instead of reading a second time', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    const warming = s.source.warm();
    const r = await s.source.configured()();
    await warming;
    expect(E.isRight(r)).to.equal(true);
    expect([lists(s), s.quay.calls]).to.deep.equal([1, ['currentUser()']]);
  });

  it('does nothing when reports are not cached (ttl 0)', async () => {
    const s = setup({}, { token: 'T1' }, 0);
    await s.source.warm();
    expect([s.kube.calls, s.quay.calls]).to.deep.equal([[], []]);
  });

  it('keeps nothing that is not Ready: a QuayIntegration created after the start is seen by the first event', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    s.kube.remove(Resources.QuayIntegration, undefined, 'quay');
    await s.source.warm();
    s.kube.put(Resources.QuayIntegration, quayIntegration({}));
    const r = await s.source.configured()();
    expect(E.isRight(r), JSON.stringify(r)).to.equal(true);
    expect(lists(s)).to.equal(2);
  });

  it('leaves a failed read to the first event, which reads again', async () => {
    const s = setup({}, { token: 'T1' }, 10_000);
    s.kube.failNext('list QuayIntegration', { _tag: 'KubeUnavailable', status: 503, message: 'etcd' });
    await s.source.warm();
    const r = await s.source.configured()();
    expect(E.isRight(r)).to.equal(true);
    expect(lists(s)).to.equal(2);
  });
});

describe('settings loading: the Quay client of replaced settings', () => {
  /**
   * A source whose factory makes a fresh fake client per call, each counting its closes; getOrganization waits for
   * `hold` (a Quay call still under way).
   */
  const closing = () => {
    const kube = fakeKube();
    kube.put(Resources.QuayIntegration, quayIntegration({}));
    kube.put(Resources.Secret, tokenSecret({ token: 'T1' }));
    let hold: Promise<void> = Promise.resolve();
    const made: { readonly token: string; closed: number }[] = [];
    const source = createSettingsSource({
      kube,
      ttlMs: 0,
      makeQuay: (p) => {
        const client = { token: p.token.reveal(), closed: 0 };
        made.push(client);
        const quay = fakeQuay();
        quay.addOrg('local_a');
        return {
          ...quay,
          getOrganization: (org) => async () => {
            await hold;
            return quay.getOrganization(org)();
          },
          close: () => {
            client.closed += 1;
          },
        };
      },
    });
    const configured = async () => {
      const r = await source.configured()();
      if (E.isLeft(r)) throw new Error(`expected settings, got ${JSON.stringify(r.left)}`);
      return r.right;
    };
    const closes = () => made.map((c) => [c.token, c.closed]);
    return {
      kube,
      configured,
      closes,
      hold: (p: Promise<void>) => {
        hold = p;
      },
    };
  };

  it('closes the client of the old token when the token changes, and keeps the new one open', async () => {
    const s = closing();
    await s.configured();
    await s.configured();
    expect(s.closes()).to.deep.equal([['T1', 0]]);
    s.kube.put(Resources.Secret, tokenSecret({ token: 'T2' }));
    await s.configured();
    expect(s.closes()).to.deep.equal([
      ['T1', 1],
      ['T2', 0],
    ]);
  });

  it('closes the client of the old Quay when quayHostname changes', async () => {
    const s = closing();
    await s.configured();
    s.kube.put(Resources.QuayIntegration, quayIntegration({ quayHostname: 'https://other.example' }));
    await s.configured();
    expect(s.closes()).to.deep.equal([
      ['T1', 1],
      ['T1', 0],
    ]);
  });

  it('closes a replaced client only once the call it is running has finished, and again after a late call', async () => {
    const s = closing();
    const old = await s.configured();
    let release: () => void = () => undefined;
    s.hold(
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    const running = old.quay.getOrganization('local_a')();
    s.kube.put(Resources.Secret, tokenSecret({ token: 'T2' }));
    await s.configured();
    expect(s.closes(), 'under a running call').to.deep.equal([
      ['T1', 0],
      ['T2', 0],
    ]);
    release();
    expect(E.isRight(await running)).to.equal(true);
    expect(s.closes(), 'once idle').to.deep.equal([
      ['T1', 1],
      ['T2', 0],
    ]);
    // A step that still holds the old client may call it once more: what that opens is closed too.
    await old.quay.getOrganization('local_a')();
    expect(s.closes()).to.deep.equal([
      ['T1', 2],
      ['T2', 0],
    ]);
  });
});

describe('QuayIntegration conditions', () => {
  const now = new Date('2026-11-25T10:00:00Z');
  const ready: readonly Condition[] = [
    { type: 'Ready', status: 'True', reason: 'Synced', message: 'm', observedGeneration: 3 },
  ];

  it('writes nothing when the stored conditions already say the same', () => {
    const stored = [{ ...ready[0], lastTransitionTime: '2026-01-01T00:00:00Z' }];
    expect(conditionsPatch(stored, ready, now)).to.equal(undefined);
  });

  it('moves lastTransitionTime only when the status changes', () => {
    const stored = [{ ...ready[0], message: 'old', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    expect(conditionsPatch(stored, ready, now)?.[0]?.lastTransitionTime).to.equal('2026-01-01T00:00:00Z');
    const flipped = [{ ...ready[0], status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    expect(conditionsPatch(flipped, ready, now)?.[0]?.lastTransitionTime).to.equal('2026-11-25T10:00:00Z');
  });

  it('writes nothing for a missing QuayIntegration (there is none to write on)', () => {
    expect(
      conditionsFor(
        { integrations: [], state: { _tag: 'NoIntegration' } },
        { name: 'x', generation: 1, conditions: [] },
        undefined,
      ),
    ).to.deep.equal([]);
  });
});
