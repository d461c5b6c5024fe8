import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { loadTls, watchTls, type TlsMaterial } from '../../../functions/build-webhook/tls-files.js';

const selfSigned = (dir: string, name: string): TlsMaterial => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      join(dir, `${name}.crt`),
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
};

describe('build webhook: serving certificate files', () => {
  let dir: string;
  let one: TlsMaterial;
  let two: TlsMaterial;
  const files = () => ({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  const install = (m: TlsMaterial) => {
    writeFileSync(files().certFile, m.cert);
    writeFileSync(files().keyFile, m.key);
  };

  before(function () {
    this.timeout(20_000);
    dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
    one = selfSigned(dir, 'one');
    two = selfSigned(dir, 'two');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on a certificate and a key that do not match', () => {
    writeFileSync(files().certFile, one.cert);
    writeFileSync(files().keyFile, two.key);
    const r = watchTls(files(), { onChange: () => undefined });
    expect(E.isLeft(r) && r.left).to.match(/^cannot use .*tls\.crt and .*tls\.key as a TLS pair: /);
  });

  it('hands on a new pair once, keeps the old one while the files are half written, then takes the new one', () => {
    install(one);
    const changes: TlsMaterial[] = [];
    const invalid: string[] = [];
    const w = watchTls(files(), {
      pollMs: 3_600_000,
      onChange: (m) => changes.push(m),
      onInvalid: (m) => invalid.push(m),
    });
    if (E.isLeft(w)) throw new Error(w.left);
    try {
      expect(w.right.current()).to.deep.equal(one);
      expect(w.right.check()).to.equal('unchanged');

      writeFileSync(files().certFile, two.cert); // the key still is the old one
      expect(w.right.check()).to.equal('invalid');
      expect(w.right.check()).to.equal('invalid');
      expect(invalid).to.have.length(1); // one report per distinct problem
      expect(w.right.current()).to.deep.equal(one);

      writeFileSync(files().keyFile, two.key);
      expect(w.right.check()).to.equal('changed');
      expect(w.right.check()).to.equal('unchanged');
      expect(changes).to.deep.equal([two]);
      expect(w.right.current()).to.deep.equal(two);
    } finally {
      w.right.stop();
    }
  });

  it('reads a valid pair', () => {
    install(one);
    expect(loadTls(files())).to.deep.equal(E.right(one));
  });
});
