// The Quay call budget of a new namespace through events, and of a resync of unchanged namespaces, counted by the
// emulator. Every step runs in this process with an environment of its own (its own settings source and Quay
// client, as each step's Knative Service has), against the real kube-apiserver.
//
// A new namespace causes these events (the project's three ServiceAccounts made as OpenShift makes them): the
// Namespace's add and the updates our finalizer and our organization stamp make; each ServiceAccount's add and the
// update our link makes; each robot Secret's add (with the optional robot-secrets source). Delivered once each, one after the other, in that
// order, the counts are deterministic, and so are the ceilings asserted here. A second test lets the broker stand-in
// deliver the same events as they come (concurrently, with retries) and reports what that costs.
import { Watch } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { CloudEvent } from 'cloudevents';
import { ACCOUNTS, convergedOf, createProject, removeNamespace } from '../../../bench/convergence.js';
import type { StepName } from '../../../functions/index.js';
import { eventually } from '../../openshift-standin/wait.js';
import { inProcess, type Transport } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { deadLetters } from '../../support/run.js';
import { ledgerLogger, startWorld, type World } from '../../support/world.js';
import type { Logger } from '../../../shared/log.js';
import { apiServerEvent, pingEvent, type Action } from '../../unit/shared/fakes/events.js';

const PREFIX = 'budget';
// The first namespace only warms the steps up (each checks the token once per process): it is not counted.
const WARM_UP = `${PREFIX}-warm`;
const IN_ORDER = [`${PREFIX}-0`, `${PREFIX}-1`];
const AS_THEY_COME = [`${PREFIX}-2`, `${PREFIX}-3`, `${PREFIX}-4`];

/** The API server calls of each event handled, by CloudEvent id, from the step's log line. */
const kubeCallsById = new Map<string, number>();
const counting = (log: Logger): Logger => ({
  ...log,
  info: (msg, fields) => {
    if (typeof fields?.id === 'string' && typeof fields.kubeCalls === 'number')
      kubeCallsById.set(fields.id, fields.kubeCalls);
    log.info(msg, fields);
  },
});

/** Each step in its own environment, as each runs in its own Knative Service. */
const separateSteps = (w: World): Transport => {
  const transports = new Map<StepName, Transport>();
  return (step, event) => {
    let t = transports.get(step);
    if (t === undefined) {
      t = inProcess(w.stepEnv({ log: counting(ledgerLogger('in-process')) }));
      transports.set(step, t);
    }
    return t(step, event);
  };
};

/** Quay calls per event of a new namespace, by what the event is. */
interface Costs {
  readonly namespaceAdd: number;
  readonly namespaceUpdate: number;
  readonly serviceAccountAdd: number[];
  readonly serviceAccountUpdate: number[];
  readonly secretAdd: number[];
  /** API server calls of the service-account step's echoes (its link patches', its Secrets'). */
  readonly echoKubeCalls: number[];
  /** API server calls of the namespace step's echoes (its finalizer patch's, its stamp patch's). */
  readonly namespaceEchoKubeCalls: number[];
}

const total = (c: Omit<Costs, 'echoKubeCalls' | 'namespaceEchoKubeCalls'>): number =>
  c.namespaceAdd +
  c.namespaceUpdate +
  [...c.serviceAccountAdd, ...c.serviceAccountUpdate, ...c.secretAdd].reduce((a, b) => a + b, 0);

describe('Quay call budget through events', function () {
  this.timeout(240_000);
  let w: World | undefined;
  let transport: Transport;
  let d: Dispatcher | undefined;

  before(async function () {
    this.timeout(300_000);
    w = await startWorld({ standIn: false });
    transport = separateSteps(w);
  });
  after(async function () {
    this.timeout(120_000);
    await d?.stop();
    if (w === undefined) return;
    for (const ns of [WARM_UP, ...IN_ORDER, ...AS_THEY_COME]) await removeNamespace(w.rest, ns);
    await w.stop();
  });

  const get = async (path: string): Promise<object> => {
    if (w === undefined) throw new Error('no world');
    const r = await w.rest.request('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
    return r.json as object;
  };

  /** Delivers one event and answers how many Quay calls it cost. */
  const cost = async (step: StepName, event: CloudEvent<unknown>): Promise<number> => {
    if (w === undefined) throw new Error('no world');
    const before = w.quay.totalRequests();
    const answer = await transport(step, event);
    expect(answer.status, `${step} ${event.type} ${event.subject ?? ''}: ${answer.body ?? ''}`).to.equal(204);
    return w.quay.totalRequests() - before;
  };
  const objectEvent = async (action: Action, path: string, mode: 'resource' | 'ref' = 'resource') =>
    apiServerEvent(action, await get(path), { mode });
  const versionOf = (o: object): string | undefined =>
    (o as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;

  /**
   * Delivers a namespace's add, then the update events of the writes its handling made (as the source sends them:
   * a watch from the version the add showed, each at its version, in order), and answers their costs.
   */
  const namespaceEvents = async (ns: string) => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const nsPath = `/api/v1/namespaces/${ns}`;
    const created = await get(nsPath);
    const writes: object[] = [];
    const watching = await new Watch(world.kubeConfig).watch(
      '/api/v1/namespaces',
      { fieldSelector: `metadata.name=${ns}`, resourceVersion: versionOf(created) ?? '' },
      (type, obj: object) => {
        if (type === 'MODIFIED') writes.push(obj);
      },
      () => undefined,
    );
    try {
      const namespaceAdd = await cost('namespace', apiServerEvent('add', created));
      const last = versionOf(await get(nsPath));
      await eventually(`the watch of namespace ${ns} at ${last ?? ''}`, () =>
        Promise.resolve(writes.some((o) => versionOf(o) === last) ? true : undefined),
      );
      let namespaceUpdate = 0;
      const namespaceEchoKubeCalls: number[] = [];
      for (const o of writes) {
        const event = apiServerEvent('update', o);
        namespaceUpdate += await cost('namespace', event);
        namespaceEchoKubeCalls.push(kubeCallsById.get(event.id) ?? Number.NaN);
      }
      return { namespaceAdd, namespaceUpdate, namespaceEchoKubeCalls };
    } finally {
      watching.abort();
    }
  };

  /** A new namespace's events, once each, in order. */
  const inOrder = async (ns: string): Promise<Costs> => {
    if (w === undefined) throw new Error('no world');
    await createProject(w.rest, ns);
    const saPath = (sa: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${sa}`;
    const { namespaceAdd, namespaceUpdate, namespaceEchoKubeCalls } = await namespaceEvents(ns);
    const serviceAccountAdd: number[] = [];
    for (const sa of ACCOUNTS)
      serviceAccountAdd.push(await cost('service-account', await objectEvent('add', saPath(sa))));
    const echoKubeCalls: number[] = [];
    const echo = async (event: CloudEvent<unknown>): Promise<number> => {
      const quayCalls = await cost('service-account', event);
      echoKubeCalls.push(kubeCallsById.get(event.id) ?? Number.NaN);
      return quayCalls;
    };
    const serviceAccountUpdate: number[] = [];
    for (const sa of ACCOUNTS) serviceAccountUpdate.push(await echo(await objectEvent('update', saPath(sa))));
    const secretAdd: number[] = [];
    for (const sa of ACCOUNTS)
      secretAdd.push(
        await echo(await objectEvent('add', `/api/v1/namespaces/${ns}/secrets/${sa}-quay-openshift`, 'ref')),
      );
    expect((await convergedOf(w.rest, w.quay, [ns])).has(ns), `${ns} converged`).to.equal(true);
    return {
      namespaceAdd,
      namespaceUpdate,
      serviceAccountAdd,
      serviceAccountUpdate,
      secretAdd,
      echoKubeCalls,
      namespaceEchoKubeCalls,
    };
  };

  it('costs a new namespace 7 Quay calls over its 12 events, delivered once each in order: its echoes cost none, nor any API server call', async () => {
    await inOrder(WARM_UP);
    const costs: Costs[] = [];
    for (const ns of IN_ORDER) costs.push(await inOrder(ns));
    for (const c of costs) {
      console.log(`      in order: ${total(c)} Quay calls: ${JSON.stringify(c)}`);
      // The organization: one POST, whether it is new or not.
      expect(c.namespaceAdd, 'Namespace add').to.equal(1);
      // The bridge's own echoes (its finalizer and stamp on the namespace, its link patches, its Secrets): the
      // cluster shows what was ensured, so Quay is not asked.
      expect(c.namespaceUpdate, 'Namespace updates (our finalizer and stamp)').to.equal(0);
      // The namespace step remembers the versions its two patches left (docs/design.md#own-echoes).
      expect(
        c.namespaceEchoKubeCalls,
        'API server calls of the echoes of our finalizer and stamp patches',
      ).to.deep.equal([0, 0]);
      // A new robot: its PUT (the 201 carries the token) and its default permission's POST, not re-read: only the
      // creator gets the 201 (docs/design.md#default-permissions).
      for (const n of c.serviceAccountAdd) expect(n, 'ServiceAccount add (new robot)').to.equal(2);
      for (const n of [...c.serviceAccountUpdate, ...c.secretAdd])
        expect(n, 'echo of our link patch or Secret write').to.equal(0);
      // The service-account step remembers them (docs/design.md#own-echoes): not even the cluster is read.
      expect(
        c.echoKubeCalls,
        'API server calls of the echoes of our link patches and Secret writes',
      ).to.deep.equal([0, 0, 0, 0, 0, 0]);
      expect(total(c)).to.equal(7);
    }
  });

  it('resyncs an unchanged namespace in at most 2 Quay calls, plus one per pass for the orphan sweep', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    // A first pass settles what else the cluster has (quay-bridge's own namespace, say).
    expect((await transport('resync', pingEvent())).status).to.equal(204);
    world.quay.resetCounts();
    expect((await transport('resync', pingEvent())).status).to.equal(204);
    const orgs = world.quay.state().organizations.filter((o) => o.name.startsWith('openshift_')).length;
    const calls = world.quay.totalRequests();
    console.log(
      `      unchanged resync: ${(calls / orgs).toFixed(2)} Quay calls per namespace (${calls} for ${orgs} organizations): ${JSON.stringify(Object.fromEntries(world.quay.requestCounts()))}`,
    );
    expect(orgs).to.be.at.least(IN_ORDER.length + 1);
    expect(calls).to.be.at.most(2 * orgs + 1);
  });

  it('reports what new namespaces cost when the broker stand-in delivers their events as they come', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport,
      namespaces: (n) => AS_THEY_COME.includes(n),
    });
    const dispatcher = d;
    world.quay.resetCounts();
    for (const ns of AS_THEY_COME) {
      await createProject(world.rest, ns);
      await eventually(
        `namespace ${ns} converged`,
        async () => ((await convergedOf(world.rest, world.quay, [ns])).has(ns) ? true : undefined),
        60_000,
      );
    }
    await dispatcher.idle();
    expect(deadLetters(dispatcher.results), 'dead-lettered deliveries').to.deep.equal([]);
    console.log(
      `      as they come: ${(world.quay.totalRequests() / AS_THEY_COME.length).toFixed(2)} Quay calls per namespace (${world.quay.totalRequests()} for ${AS_THEY_COME.length}; ${dispatcher.log.length} events so far): ${JSON.stringify(Object.fromEntries(world.quay.requestCounts()))}`,
    );
  });
});
