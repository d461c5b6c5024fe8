import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { inspect } from 'node:util';
import {
  decodeQuayIntegration,
  parseQuayHostname,
  resolveSettings,
  Token,
} from '../../../shared/settings/quay-integration.js';

const qi = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'quay.redhat.com/v1',
  kind: 'QuayIntegration',
  metadata: { name: 'quay', generation: 3 },
  spec: {
    credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
    quayHostname: 'https://quay.example.com',
    ...spec,
  },
});

const resolve = (spec: Record<string, unknown>) => {
  const decoded = decodeQuayIntegration(qi(spec));
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return resolveSettings(decoded.right);
};

describe('QuayIntegration settings', () => {
  it('applies QBO defaults: clusterID openshift, key token, the fixed robot matrix', () => {
    const s = resolve({});
    expect(E.isRight(s)).to.be.true;
    if (E.isLeft(s)) return;
    expect(s.right.clusterID).to.equal('openshift');
    expect(s.right.organizationPrefix).to.equal('openshift');
    expect(s.right.credentialsSecret).to.deep.equal({
      namespace: 'quay-bridge',
      name: 'quay-token',
      key: 'token',
    });
    expect([...s.right.robotRoles]).to.deep.equal([
      ['builder', 'write'],
      ['default', 'read'],
      ['deployer', 'read'],
    ]);
    expect(s.right.generation).to.equal(3);
  });

  it('docs/qbo-compatibility.md#b1: keeps a custom credentialsSecret.key', () => {
    const s = resolve({ credentialsSecret: { namespace: 'a', name: 'b', key: 'oauth' } });
    expect(E.isRight(s) && s.right.credentialsSecret.key).to.equal('oauth');
  });

  it('adds additionalServiceAccounts to the matrix and lets them override a role', () => {
    const s = resolve({
      additionalServiceAccounts: [
        { name: 'pipeline', role: 'write' },
        { name: 'default', role: 'write' },
      ],
    });
    expect(E.isRight(s) && [...s.right.robotRoles]).to.deep.equal([
      ['builder', 'write'],
      ['default', 'write'],
      ['deployer', 'read'],
      ['pipeline', 'write'],
    ]);
  });

  it('refuses a clusterID that cannot end a Secret name', () => {
    const s = resolve({ clusterID: 'bad id' });
    expect(E.isLeft(s) && s.left.message).to.match(/organization prefix "bad id"/);
  });

  it('refuses an organizationPrefix with "_" (it would make another cluster\'s organizations look like ours)', () => {
    const s = resolve({ organizationPrefix: 'a_b' });
    expect(E.isLeft(s) && s.left.message).to.equal(
      'organization prefix "a_b" cannot start a Quay organization name: it contains "_"',
    );
  });

  it('names the failing field when the object does not decode', () => {
    const d = decodeQuayIntegration({ ...(qi({}) as object), spec: { quayHostname: 42 } });
    expect(E.isLeft(d) && d.left.message).to.equal(
      'QuayIntegration does not decode: spec.credentialsSecret: expected ' +
        '({ namespace: string, name: string } & Partial<{ key: string }>), got nothing; spec.quayHostname: expected string, got 42',
    );
  });

  describe('parseQuayHostname', () => {
    const ok: ReadonlyArray<[string, string, string]> = [
      ['https://quay.example.com', 'https://quay.example.com', 'quay.example.com'],
      ['https://quay.example.com:8443/', 'https://quay.example.com:8443', 'quay.example.com:8443'],
      ['quay.example.com', 'https://quay.example.com', 'quay.example.com'], // QBO turned this into "/org/repo"
      ['http://127.0.0.1:8089', 'http://127.0.0.1:8089', '127.0.0.1:8089'],
    ];
    for (const [raw, apiUrl, registryHost] of ok) {
      it(`reads ${raw}`, () =>
        expect(parseQuayHostname(raw)).to.deep.equal(E.right({ apiUrl, registryHost })));
    }
    const bad: ReadonlyArray<[string, RegExp]> = [
      ['ftp://quay.example.com', /must use https or http/],
      ['https://quay.example.com/quay', /no path/],
      ['https://user:pw@quay.example.com', /credentials/],
      ['https://', /not a URL/],
    ];
    for (const [raw, why] of bad) {
      it(`refuses ${raw}`, () => {
        const r = parseQuayHostname(raw);
        expect(E.isLeft(r) && r.left.message).to.match(why);
      });
    }
  });

  it('never prints a token, whichever way it is printed', () => {
    const t = new Token('SECRET-VALUE');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- printing it is the point
    const printed = [String(t), `${t}`, JSON.stringify({ t }), inspect(t), inspect({ t })].join(' ');
    expect(printed).to.not.include('SECRET-VALUE');
    expect(t.reveal()).to.equal('SECRET-VALUE');
  });
});
