// Hostile input: a seeded generator of broken CloudEvents (malformed JSON in binary and structured mode, wrong
// types, envelopes that lie about their object, names like "../", unicode, 10,000 characters, bodies over the
// limit) sent over HTTP to the step processes (functions/host.ts), and of broken
// AdmissionReviews sent over TLS to the Build webhook. Every CloudEvent is answered with a 4xx (never retried,
// never a crash), every AdmissionReview with a 4xx or a well-formed refusal, no process dies, and Quay is never
// called.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { expect } from 'chai';
import { BODY_LIMIT_BYTES, type StepName } from '../../../functions/index.js';
import { startWebhook, type Webhook } from '../../../functions/build-webhook/main.js';
import { issueCertificate } from '../../harness/index.js';
import { answerToDeclaredLength } from '../../support/declared-length.js';
import { seeded, seedFromEnv, type Seeded } from '../../support/seeded.js';
import { startStepProcesses, type StepProcesses } from '../../support/step-processes.js';
import { ledgerLogger, startWorld, type World } from '../../support/world.js';

const STEPS: readonly StepName[] = ['namespace', 'service-account', 'image-stream'];
const CASES_PER_STEP = 80;
const ADMISSION_CASES = 120;

const hostileNames = [
  '../etc',
  '..',
  '.',
  '../../api/v1/namespaces',
  'a/b',
  '%2e%2e%2f',
  'ñamespace',
  '名前空間',
  'emoji-😀',
  'x'.repeat(10_000),
  '',
  ' ',
  'UPPER',
  '-leading',
  'trailing-',
  'nul\u0000byte',
  'new\nline',
  'a'.repeat(254),
  '<script>',
  'quote\'"',
];

const kinds: Record<StepName, { kind: string; apiVersion: string; plural: string }> = {
  namespace: { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces' },
  'service-account': { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts' },
  'image-stream': { kind: 'ImageStream', apiVersion: 'image.openshift.io/v1', plural: 'imagestreams' },
  resync: { kind: 'QuayIntegration', apiVersion: 'quay.redhat.com/v1', plural: 'quayintegrations' },
  build: { kind: 'Build', apiVersion: 'build.openshift.io/v1', plural: 'builds' },
};

interface Request {
  readonly what: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
  /** Sent as Content-Length with no body: a body over the limit is refused by its declared length. */
  readonly declaredLength?: number;
}

const binary = (attrs: Record<string, string>, body: string | Buffer, what: string): Request => ({
  what,
  headers: {
    'content-type': 'application/json',
    ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`ce-${k}`, encodeURIComponent(v)])),
  },
  body,
});

/** One broken CloudEvent for `step`. */
const brokenEvent = (r: Seeded, step: StepName, n: number): Request => {
  const k = kinds[step];
  const name = r.pick(hostileNames);
  const ns = step === 'namespace' ? '' : r.pick([...hostileNames, 'team-a']);
  const attrs = {
    specversion: '1.0',
    id: `fuzz-${n}`,
    source: 'https://10.96.0.1:443',
    type: `dev.knative.apiserver.resource.${r.pick(['add', 'update', 'delete'])}`,
    subject: `/apis/${k.apiVersion}/namespaces/${ns}/${k.plural}/${name}`,
    kind: k.kind,
    apiversion: k.apiVersion,
    name,
    namespace: ns,
  };
  const object = {
    apiVersion: k.apiVersion,
    kind: k.kind,
    metadata: { name, ...(step === 'namespace' ? {} : { namespace: ns }) },
  };
  switch (r.int(9)) {
    case 0: // malformed JSON in binary mode
      return binary(
        attrs,
        r.pick(['{', '{"metadata":', 'nul\u0000', '[1,2', '{"a":1}}', '\u00ff\u00fe']),
        'malformed JSON',
      );
    case 1: {
      // malformed structured mode
      const body = r.pick(['{"specversion":"1.0",', '{"data":', 'null', '"a string"', '{"specversion":1}']);
      return {
        what: `the malformed structured event ${body}`,
        headers: { 'content-type': 'application/cloudevents+json' },
        body,
      };
    }
    case 2: // data of the wrong type
      return binary(
        attrs,
        JSON.stringify(r.pick([42, 'text', [object], null, true, { metadata: 7 }])),
        'data of the wrong type',
      );
    case 3: // an envelope that names one object and carries another
      return binary(
        { ...attrs, name: 'honest-name' },
        JSON.stringify({ ...object, metadata: { ...object.metadata, name: 'other-name' } }),
        'extensions and object disagree',
      );
    case 4: // the wrong kind for this step
      return binary(
        {
          ...attrs,
          kind: r.pick(['Pod', 'Secretx', 'namespace', '']),
          apiversion: r.pick(['v1', 'apps/v1', '']),
        },
        JSON.stringify(object),
        'a kind this step does not take',
      );
    case 5: {
      // an unknown event type
      const type = r.pick(['dev.knative.apiserver.resource.patch', 'com.example.other', '']);
      return binary({ ...attrs, type }, JSON.stringify(object), `the unknown type ${JSON.stringify(type)}`);
    }
    case 6: // a body over the step's limit (its Knative Service's FUNC_BODY_LIMIT), refused by its declared length
      return {
        ...binary(attrs, '', 'a body over the limit'),
        declaredLength: BODY_LIMIT_BYTES + 1 + r.int(4 * 1024 * 1024),
      };
    case 7: {
      // a missing extension (a Namespace event legitimately has an empty namespace: not a fault there)
      const dropped = r.pick(
        step === 'namespace' ? ['kind', 'name', 'apiversion'] : ['kind', 'name', 'namespace', 'apiversion'],
      );
      return binary(
        Object.fromEntries(Object.entries(attrs).filter(([key]) => key !== dropped)),
        JSON.stringify(object),
        `the missing extension ${dropped}`,
      );
    }
    default: // hostile names in a well-formed event
      return binary(attrs, JSON.stringify(object), `the hostile name ${JSON.stringify(name.slice(0, 20))}`);
  }
};

const brokenReview = (r: Seeded, n: number): string => {
  const name = r.pick(hostileNames);
  const request = {
    uid: `fuzz-${n}`,
    kind: { group: 'build.openshift.io', version: 'v1', kind: 'Build' },
    resource: { group: 'build.openshift.io', version: 'v1', resource: 'builds' },
    namespace: r.pick(hostileNames),
    operation: r.pick(['CREATE', 'UPDATE', 'DELETE', 'x']),
    object: {
      apiVersion: 'build.openshift.io/v1',
      kind: 'Build',
      metadata: { name },
      spec: {
        output: { to: { kind: 'ImageStreamTag', name: r.pick([`${name}:latest`, name, ':', 'a:b:c']) } },
      },
    },
  };
  switch (r.int(6)) {
    case 0:
      return r.pick(['{', '[]', 'null', '{"request":', '\u0000']);
    case 1:
      return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    case 2:
      return JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { ...request, uid: 7 },
      });
    case 3:
      return JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { ...request, object: 'x' },
      });
    case 4:
      return JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta7', kind: 'Pod', request });
    default:
      return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
  }
};

const post = async (url: string, req: Request): Promise<number> => {
  if (req.declaredLength !== undefined)
    return (await answerToDeclaredLength(url, req.headers, req.declaredLength)).status;
  const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body });
  await res.text();
  return res.status;
};

const postTls = (port: number, ca: string, body: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/admissionwebhook',
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

describe('fault tolerance: fuzzed CloudEvents and AdmissionReviews', function () {
  this.timeout(180_000);
  let w: World | undefined;
  let procs: StepProcesses | undefined;
  let webhook: Webhook | undefined;

  before(async () => {
    w = await startWorld({ standIn: false });
    procs = await startStepProcesses(STEPS, { kubeconfigPath: w.cp.kubeconfigPath });
  });

  after(async () => {
    await webhook?.stop();
    await procs?.stop();
    await w?.stop();
  });

  it('answers every broken CloudEvent with a 4xx, keeps every step process alive and never calls Quay', async () => {
    if (w === undefined || procs === undefined) throw new Error('no world');
    const seed = seedFromEnv();
    console.log(`      fuzz seed ${seed} (rerun with FT_SEED=${seed})`);
    const r = seeded(seed);
    w.quay.resetCounts();
    const wrong: string[] = [];
    let n = 0;
    for (const step of STEPS)
      for (let i = 0; i < CASES_PER_STEP; i++) {
        const req = brokenEvent(r, step, n++);
        const status = await post(procs.urlOf(step), req).catch((e: unknown) => `no answer (${String(e)})`);
        if (typeof status !== 'number' || status < 400 || status > 499)
          wrong.push(`${step}, ${req.what}: ${String(status)}`);
      }
    expect(wrong, `answers that are not a 4xx (seed ${seed})`).to.deep.equal([]);
    for (const step of STEPS) {
      const child = procs.get(step).child;
      expect(child.exitCode ?? child.signalCode, `${step} process`).to.equal(null);
    }
    expect(Object.fromEntries(w.quay.requestCounts()), 'Quay requests').to.deep.equal({});
  });

  it('answers every broken AdmissionReview with a 4xx or a well-formed answer, and keeps serving', async () => {
    if (w === undefined) throw new Error('no world');
    const { cert, key } = issueCertificate(w.cp.pki.dir, 'fuzz-webhook', '/CN=fuzz-webhook', {
      san: 'IP:127.0.0.1',
      serverAuth: true,
    });
    webhook = await startWebhook({
      kubeConfig: w.kubeConfig,
      port: 0,
      tlsPort: 0,
      host: '127.0.0.1',
      tls: { certFile: cert, keyFile: key },
      log: ledgerLogger('webhook'),
    });
    await webhook.firstSync;
    const ca = readFileSync(w.cp.pki.caCert, 'utf8');
    const seed = seedFromEnv();
    const r = seeded(seed + 1);
    w.quay.resetCounts();
    const wrong: string[] = [];
    for (let i = 0; i < ADMISSION_CASES; i++) {
      const body = brokenReview(r, i);
      const a = await postTls(webhook.tlsPort, ca, body);
      if (a.status >= 400 && a.status <= 499) continue;
      const answer = (() => {
        try {
          return JSON.parse(a.body) as { response?: { uid?: unknown; allowed?: unknown } };
        } catch {
          return undefined;
        }
      })();
      if (a.status !== 200 || typeof answer?.response?.allowed !== 'boolean')
        wrong.push(`${body.slice(0, 80)}: ${a.status} ${a.body.slice(0, 120)}`);
    }
    expect(wrong, `answers that are neither a 4xx nor an AdmissionReview (seed ${seed})`).to.deep.equal([]);
    const big = await postTls(
      webhook.tlsPort,
      ca,
      JSON.stringify({ padding: 'p'.repeat(8 * 1024 * 1024) }),
    ).catch(() => ({ status: 0, body: '' }));
    expect(
      big.status === 0 || (big.status >= 400 && big.status <= 499),
      `a huge body: ${big.status}`,
    ).to.equal(true);
    expect(webhook.ready(), 'the webhook still serves').to.equal(true);
    expect(Object.fromEntries(w.quay.requestCounts()), 'Quay requests').to.deep.equal({});
  });
});
