import { expect } from 'chai';
import sinon from 'sinon';
import {
  EXPECTED_ECHO_TTL_MS,
  ownEchoes,
  ownEchoesPerEnvironment,
  VERSIONS_PER_KEY,
} from '../../../../shared/runtime/own-echoes.js';

const AT = { uid: 'uid-1', resourceVersion: '42' };

describe('own echoes: what this process finished or wrote (docs/design.md#own-echoes)', () => {
  describe('reconciled versions', () => {
    it('takes an event for an echo only at the same uid and the same resourceVersion', () => {
      const m = ownEchoes();
      m.record('team-a/builder', AT);
      expect(m.isEcho('team-a/builder', AT)).to.equal(true);
      expect(m.isEcho('team-a/builder', { ...AT, resourceVersion: '43' }), 'another version').to.equal(false);
      expect(m.isEcho('team-a/builder', { ...AT, uid: 'uid-2' }), 'another uid').to.equal(false);
      expect(m.isEcho('team-a/builder', { resourceVersion: '42' }), 'no uid').to.equal(false);
      expect(m.isEcho('team-a/builder', { uid: 'uid-1' }), 'no version').to.equal(false);
      expect(m.isEcho('team-a/default', AT), 'another ServiceAccount').to.equal(false);
      expect(m.isEcho('team-b/builder', AT), 'another namespace').to.equal(false);
    });

    it('replaces what it remembered with a later reconcile, and forgets it after one that did not finish', () => {
      const m = ownEchoes();
      m.record('team-a/builder', AT);
      m.record('team-a/builder', { ...AT, resourceVersion: '50' });
      expect(m.isEcho('team-a/builder', AT)).to.equal(false);
      expect(m.isEcho('team-a/builder', { ...AT, resourceVersion: '50' })).to.equal(true);
      m.forget('team-a/builder');
      expect(m.isEcho('team-a/builder', { ...AT, resourceVersion: '50' })).to.equal(false);
    });

    it('remembers each version a reconcile’s writes left (one event each), and only those', () => {
      const m = ownEchoes();
      const [finalizer, stamp] = [AT, { ...AT, resourceVersion: '43' }];
      m.record('team-a', [finalizer, stamp]);
      expect(m.isEcho('team-a', finalizer), 'the first write’s').to.equal(true);
      expect(m.isEcho('team-a', stamp), 'the second write’s').to.equal(true);
      expect(m.isEcho('team-a', { ...AT, resourceVersion: '44' }), 'a later version').to.equal(false);
      expect(m.isEcho('team-a', { ...AT, resourceVersion: '41' }), 'an earlier version').to.equal(false);
      expect(m.isEcho('team-a', { ...stamp, uid: 'uid-2' }), 'another uid').to.equal(false);
    });

    it('replaces the versions of a reconcile with a later one’s; none at all forgets them', () => {
      const m = ownEchoes();
      m.record('team-a', [AT, { ...AT, resourceVersion: '43' }]);
      m.record('team-a', [{ ...AT, resourceVersion: '50' }]);
      expect(
        ['42', '43', '50'].map((rv) => m.isEcho('team-a', { ...AT, resourceVersion: rv })),
      ).to.deep.equal([false, false, true]);
      m.record('team-a', []);
      expect(m.isEcho('team-a', { ...AT, resourceVersion: '50' })).to.equal(false);
    });

    it('keeps at most VERSIONS_PER_KEY versions of a key, the last ones', () => {
      expect(VERSIONS_PER_KEY, 'room for both of the namespace step’s writes').to.be.at.least(2);
      const m = ownEchoes();
      const all = Array.from({ length: VERSIONS_PER_KEY + 2 }, (_, i) => ({
        ...AT,
        resourceVersion: String(i),
      }));
      m.record('team-a', all);
      expect(all.map((v) => m.isEcho('team-a', v))).to.deep.equal(all.map((_, i) => i >= 2));
    });

    it('keeps at most `max` entries, dropping the least recently recorded', () => {
      const m = ownEchoes({ max: 3 });
      for (const n of ['a', 'b', 'c']) m.record(`ns/${n}`, AT);
      m.record('ns/a', AT); // a is now the newest
      m.record('ns/d', AT);
      expect(['a', 'b', 'c', 'd'].filter((n) => m.isEcho(`ns/${n}`, AT))).to.deep.equal(['a', 'c', 'd']);
    });
  });

  describe('expected echoes of writes', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    });
    afterEach(() => {
      clock.restore();
    });

    it('answers one event of the expected action, once', () => {
      const m = ownEchoes();
      m.expect('team-a/builder-quay-openshift', 'add');
      expect(m.consume('team-a/builder-quay-openshift', 'update'), 'another action').to.equal(false);
      expect(m.consume('team-a/default-quay-openshift', 'add'), 'another Secret').to.equal(false);
      expect(m.consume('team-a/builder-quay-openshift', 'add')).to.equal(true);
      expect(m.consume('team-a/builder-quay-openshift', 'add'), 'a second add').to.equal(false);
    });

    it('never takes a delete for an echo', () => {
      const m = ownEchoes();
      m.expect('team-a/builder-quay-openshift', 'add');
      m.expect('team-a/builder-quay-openshift', 'update');
      expect(m.consume('team-a/builder-quay-openshift', 'delete')).to.equal(false);
    });

    it('expects as many echoes as writes', () => {
      const m = ownEchoes();
      m.expect('k', 'update');
      m.expect('k', 'update');
      expect([m.consume('k', 'update'), m.consume('k', 'update'), m.consume('k', 'update')]).to.deep.equal([
        true,
        true,
        false,
      ]);
    });

    it('waits for an echo only for the TTL', () => {
      const m = ownEchoes();
      m.expect('k', 'add');
      m.expect('l', 'add');
      clock.tick(EXPECTED_ECHO_TTL_MS - 1);
      expect(m.consume('k', 'add'), 'within the TTL').to.equal(true);
      clock.tick(1);
      expect(m.consume('l', 'add'), 'at the TTL').to.equal(false);
    });

    it('takes an expectation back (a write that failed), leaving the others', () => {
      const m = ownEchoes();
      m.expect('k', 'update');
      const takeBack = m.expect('k', 'update');
      takeBack();
      expect([m.consume('k', 'update'), m.consume('k', 'update')]).to.deep.equal([true, false]);
    });

    it('keeps at most `max` Secrets expected, dropping the oldest', () => {
      const m = ownEchoes({ max: 2 });
      for (const k of ['a', 'b', 'c']) m.expect(k, 'add');
      expect(['a', 'b', 'c'].map((k) => m.consume(k, 'add'))).to.deep.equal([false, true, true]);
    });
  });

  it('keeps one memory per environment', () => {
    const of = ownEchoesPerEnvironment();
    const [one, other] = [{}, {}];
    of(one).record('k', AT);
    expect(of(one).isEcho('k', AT)).to.equal(true);
    expect(of(other).isEcho('k', AT)).to.equal(false);
  });
});
