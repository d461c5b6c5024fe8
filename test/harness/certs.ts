// Throwaway PKI for one control plane, made with the openssl CLI (Node can parse certificates but not issue them).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** PEM of the CA, for kubeconfigs and webhook caBundles. */
  readonly caPem: string;
}

const openssl = (dir: string, args: readonly string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

/** A client or serving certificate signed by the CA; `san` like `IP:127.0.0.1,DNS:localhost`. */
export const issueCertificate = (
  dir: string,
  name: string,
  subject: string,
  opts: { readonly san?: string; readonly serverAuth?: boolean } = {},
): { cert: string; key: string } => {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  const usage = opts.serverAuth === true ? 'serverAuth' : 'clientAuth';
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${usage}`,
      ...(opts.san !== undefined ? [`subjectAltName=${opts.san}`] : []),
    ].join('\n'),
  );
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  openssl(dir, ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
};

export const createPki = (dir: string): Pki => {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=quay-bridge-test-ca',
    '-days',
    '2',
    '-sha256',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.crt',
  ]);
  const serving = issueCertificate(dir, 'serving', '/CN=kube-apiserver', {
    san: 'IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
    serverAuth: true,
  });
  // system:masters bypasses RBAC: the admin identity of tests. Steps are tested under their own RBAC by impersonation.
  const admin = issueCertificate(dir, 'admin', '/O=system:masters/CN=admin');
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key']);
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  };
};
