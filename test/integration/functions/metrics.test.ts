// The Prometheus metrics of the steps, scraped over HTTP from `/metrics` of each step process (the image's process,
// functions/host.ts, the host's own endpoint) after a scenario, and held against the Quay emulator's own
// count of the requests it received.
import { expect } from 'chai';
import { HTTP, type CloudEvent } from 'cloudevents';
import type { StepName } from '../../../functions/index.js';
import { startStepProcesses, type StepProcesses } from '../../support/step-processes.js';
import { startWorld, type World } from '../../support/world.js';
import { apiServerEvent, pingEvent } from '../../unit/shared/fakes/events.js';

const STEPS: readonly StepName[] = ['namespace', 'service-account', 'image-stream', 'resync'];
const NS = 'mt-a';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The text exposition format, samples only. */
const parse = (text: string): Sample[] =>
  text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) return [];
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    return [{ name: m[1] as string, labels, value: Number(m[3]) }];
  });

describe('Prometheus metrics of the step processes, scraped over HTTP', function () {
  this.timeout(180_000);
  let w: World | undefined;
  let procs: StepProcesses | undefined;

  before(async function () {
    this.timeout(300_000);
    w = await startWorld();
    procs = await startStepProcesses(STEPS, { kubeconfigPath: w.cp.kubeconfigPath });
  });
  after(async function () {
    this.timeout(120_000);
    await procs?.stop();
    if (w !== undefined) {
      await w.rest.request(
        'PATCH',
        `/api/v1/namespaces/${NS}`,
        { metadata: { finalizers: null } },
        'application/merge-patch+json',
      );
      await w.rest.request('DELETE', `/api/v1/namespaces/${NS}`);
      await w.stop();
    }
  });

  const deliver = async (step: StepName, event: CloudEvent<unknown>): Promise<number> => {
    if (procs === undefined) throw new Error('no processes');
    const message = HTTP.binary(event);
    const res = await fetch(`${procs.urlOf(step)}/`, {
      method: 'POST',
      headers: message.headers as Record<string, string>,
      body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body),
    });
    await res.text();
    return res.status;
  };
  const get = async (path: string): Promise<object> => {
    if (w === undefined) throw new Error('no world');
    const r = await w.rest.request('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
    return r.json as object;
  };
  const scrape = async (step: StepName): Promise<Sample[]> => {
    if (procs === undefined) throw new Error('no processes');
    const res = await fetch(`${procs.urlOf(step)}/metrics`);
    expect(res.status).to.equal(200);
    return parse(await res.text());
  };

  it('counts every Quay request the emulator received, by route, and every event by step, kind and result', async () => {
    if (w === undefined) throw new Error('no world');
    const created = await w.rest.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
    expect(created.status).to.equal(201);
    const sas = ['builder', 'default', 'deployer'];
    for (const sa of sas)
      for (let i = 0; ; i++) {
        const r = await w.rest.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/${sa}`);
        if (r.status === 200) break;
        if (i > 600) throw new Error(`no ServiceAccount ${sa}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    const stream = await w.rest.request('POST', `/apis/image.openshift.io/v1/namespaces/${NS}/imagestreams`, {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: { name: 'web' },
      spec: {},
    });
    expect(stream.status).to.equal(201);
    w.quay.resetCounts();

    expect(await deliver('namespace', apiServerEvent('add', await get(`/api/v1/namespaces/${NS}`)))).to.equal(
      204,
    );
    for (const sa of sas)
      expect(
        await deliver(
          'service-account',
          apiServerEvent('add', await get(`/api/v1/namespaces/${NS}/serviceaccounts/${sa}`)),
        ),
      ).to.equal(204);
    const is = await get(`/apis/image.openshift.io/v1/namespaces/${NS}/imagestreams/web`);
    expect(await deliver('image-stream', apiServerEvent('add', is))).to.equal(204);
    // Quay rate-limits every request for one event: the client's four attempts are all answered 429.
    w.quay.faults.rateLimitRate = 1;
    try {
      expect(await deliver('image-stream', apiServerEvent('update', is))).to.equal(429);
    } finally {
      w.quay.faults.rateLimitRate = 0;
    }
    expect(await deliver('resync', pingEvent())).to.equal(204);

    const samples = (await Promise.all(STEPS.map(scrape))).flat();
    const sum = (name: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true) =>
      samples.filter((s) => s.name === name && where(s.labels)).reduce((a, s) => a + s.value, 0);

    // Every request the emulator saw, by route, and no other.
    const byRoute = new Map<string, number>();
    for (const s of samples.filter((s) => s.name === 'quay_bridge_quay_requests_total')) {
      const key = `${s.labels.method} ${s.labels.route}`;
      byRoute.set(key, (byRoute.get(key) ?? 0) + s.value);
    }
    const emulator = Object.fromEntries(w.quay.requestCounts());
    expect(Object.keys(emulator).length).to.be.greaterThan(3);
    expect(Object.fromEntries(byRoute)).to.deep.equal(emulator);
    expect(sum('quay_bridge_quay_request_duration_seconds_count')).to.equal(w.quay.totalRequests());
    expect(sum('quay_bridge_quay_rate_limited_total')).to.equal(w.quay.faults.injected?.['rate-limit']);
    expect(sum('quay_bridge_quay_requests_total', (l) => l.status === '429')).to.equal(4);
    expect(sum('quay_bridge_quay_retries_total')).to.equal(3);
    // Each 429's back-off held the step's Quay requests (a jittered wait, above 0 but for a draw of exactly 0).
    expect(sum('quay_bridge_quay_held_seconds_total')).to.be.greaterThan(0);

    const handled = (step: string, kind: string, result: string) =>
      sum(
        'quay_bridge_events_handled_total',
        (l) => l.step === step && l.kind === kind && l.result === result,
      );
    expect(handled('namespace', 'Namespace', 'created')).to.equal(1);
    expect(handled('service-account', 'ServiceAccount', 'created')).to.equal(3);
    expect(handled('image-stream', 'ImageStream', 'unchanged')).to.equal(1);
    expect(handled('image-stream', 'ImageStream', 'failed')).to.equal(1);
    expect(sum('quay_bridge_events_handled_total')).to.equal(7);
    expect(sum('quay_bridge_gate_wait_seconds_count')).to.equal(7);
    expect(sum('quay_bridge_resync_duration_seconds_count')).to.equal(1);
    expect(sum('quay_bridge_resync_objects', (l) => l.state === 'failed')).to.equal(0);
    expect(sum('quay_bridge_resync_objects', (l) => l.state === 'reconciled')).to.be.greaterThan(4);
    // The process's own metrics are on the same page: one registry.
    expect(sum('process_resident_memory_bytes')).to.be.greaterThan(0);

    // No label value names a tenant's object.
    const values = samples.flatMap((s) => Object.values(s.labels));
    expect(values.filter((v) => v.includes(NS))).to.deep.equal([]);
  });
});
