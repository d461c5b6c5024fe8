// Convergence of new namespaces through step processes (direct delivery: a watch → broker-semantics dispatcher →
// the steps over HTTP), and the Quay calls they cost, measured against a control plane of the bench's own.
import type { KubeRest } from '../test/event-path/kube-rest.js';
import type { QuayEmulator } from '../test/quay-emulator/index.js';
import { eachLimited } from '../test/support/run.js';

export const ACCOUNTS = ['builder', 'default', 'deployer'] as const;

const ok = async (a: Promise<{ status: number; body: string }>, what: string): Promise<void> => {
  const r = await a;
  if (r.status >= 300 && r.status !== 409)
    throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
};

/** A namespace and its three project ServiceAccounts, as OpenShift makes them. */
export const createProject = async (rest: KubeRest, name: string): Promise<void> => {
  await ok(
    rest.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    `namespace ${name}`,
  );
  for (const sa of ACCOUNTS)
    await ok(
      rest.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: sa, namespace: name },
      }),
      `serviceaccount ${name}/${sa}`,
    );
};

interface Listed<A> {
  readonly items: A[];
}
interface Meta {
  readonly metadata: { readonly name: string; readonly namespace?: string };
}
interface Sa extends Meta {
  readonly secrets?: { name?: string }[];
  readonly imagePullSecrets?: { name?: string }[];
}

/** Which of `names` are converged: org + 3 robots + 3 default permissions + 3 Secrets + 3 SAs linking them. */
export const convergedOf = async (
  rest: KubeRest,
  quay: QuayEmulator,
  names: readonly string[],
): Promise<Set<string>> => {
  const q = quay.state();
  const orgs = new Set(q.organizations.map((o) => o.name));
  const robots = new Map<string, number>();
  for (const r of q.robots) {
    const org = r.name.split('+')[0] ?? '';
    robots.set(org, (robots.get(org) ?? 0) + 1);
  }
  const prototypes = new Map<string, number>();
  for (const p of q.prototypes) prototypes.set(p.org, (prototypes.get(p.org) ?? 0) + 1);
  const inQuay = names.filter((ns) => {
    const org = `openshift_${ns}`;
    return orgs.has(org) && robots.get(org) === 3 && prototypes.get(org) === 3;
  });
  // The cluster is read only for namespaces whose Quay half is there.
  if (inQuay.length === 0) return new Set();
  // A few namespaces (one at a time: polled every 10 ms) are read in their own namespace, two small lists in
  // parallel; a cluster-wide list on every poll would load the API server the steps are timed against.
  const scoped = inQuay.length <= 4;
  const listed = async <A>(path: (ns: string) => string, all: string): Promise<A[]> =>
    scoped
      ? (
          await Promise.all(
            inQuay.map(async (ns) => ((await rest.request('GET', path(ns))).json as Listed<A>).items),
          )
        ).flat()
      : ((await rest.request('GET', all)).json as Listed<A>).items;
  const selector = 'labelSelector=app.kubernetes.io%2Fmanaged-by%3Dquay-bridge';
  const [secrets, sas] = await Promise.all([
    listed<Meta>((ns) => `/api/v1/namespaces/${ns}/secrets?${selector}`, `/api/v1/secrets?${selector}`),
    listed<Sa>((ns) => `/api/v1/namespaces/${ns}/serviceaccounts`, '/api/v1/serviceaccounts'),
  ]);
  const secretCount = new Map<string, number>();
  for (const s of secrets)
    secretCount.set(s.metadata.namespace ?? '', (secretCount.get(s.metadata.namespace ?? '') ?? 0) + 1);
  const linked = new Map<string, number>();
  for (const sa of sas) {
    const want = `${sa.metadata.name}-quay-openshift`;
    if (
      (sa.secrets ?? []).some((r) => r.name === want) &&
      (sa.imagePullSecrets ?? []).some((r) => r.name === want)
    )
      linked.set(sa.metadata.namespace ?? '', (linked.get(sa.metadata.namespace ?? '') ?? 0) + 1);
  }
  return new Set(inQuay.filter((ns) => secretCount.get(ns) === 3 && linked.get(ns) === 3));
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Creates the namespaces one after the other, each once the previous one converged; the time each took. `created`
 * (optional) receives how long each creation alone took: the namespace and its three ServiceAccounts, four requests
 * in a row, a floor under any bridge's figure.
 */
export const sequentialConvergence = async (
  rest: KubeRest,
  quay: QuayEmulator,
  names: readonly string[],
  timeoutMs: number,
  created: number[] = [],
): Promise<number[]> => {
  const times: number[] = [];
  for (const ns of names) {
    const t0 = performance.now();
    await createProject(rest, ns);
    created.push(performance.now() - t0);
    const deadline = Date.now() + timeoutMs;
    while (!(await convergedOf(rest, quay, [ns])).has(ns)) {
      if (Date.now() > deadline) throw new Error(`namespace ${ns} did not converge in ${timeoutMs} ms`);
      await sleep(10);
    }
    times.push(performance.now() - t0);
  }
  return times;
};

/**
 * Creates all namespaces at once (32 requests in flight) and waits until every one converged, all within
 * `timeoutMs` from the first creation: namespaces not yet created when it runs out are not created, and count as
 * not converged.
 */
export const burstConvergence = async (
  rest: KubeRest,
  quay: QuayEmulator,
  names: readonly string[],
  timeoutMs: number,
  onTick: () => void = () => undefined,
): Promise<{
  readonly ms: number;
  readonly created: number;
  /** When the bench had made the last of them (its namespaces and their ServiceAccounts). */
  readonly createdMs: number;
  readonly converged: number;
}> => {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  let created = 0;
  await eachLimited(names, 32, async (ns) => {
    if (Date.now() > deadline) return;
    await createProject(rest, ns);
    created += 1;
  });
  const createdMs = performance.now() - t0;
  let done = 0;
  for (;;) {
    onTick();
    done = (await convergedOf(rest, quay, names)).size;
    if (done === names.length || Date.now() > deadline) break;
    // Each look lists every robot Secret and ServiceAccount: on the same two cores as the steps and the API server,
    // so a large burst is looked at less often (1 s for 1,000 namespaces) rather than slowed down by the looking.
    await sleep(Math.max(250, names.length));
  }
  return { ms: performance.now() - t0, created, createdMs, converged: done };
};

/** The chain of calls a new namespace needs at the least, one after the other, timed once on the same servers. */
export const necessaryChainMs = async (rest: KubeRest, quay: QuayEmulator, ns: string): Promise<number> => {
  await createProject(rest, ns);
  const q = (method: string, path: string, body?: unknown) =>
    fetch(`${quay.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${quay.adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then((r) => r.text());
  const org = `chain_${ns}`;
  const t0 = performance.now();
  await rest.request('GET', `/api/v1/namespaces/${ns}`);
  await rest.request(
    'PATCH',
    `/api/v1/namespaces/${ns}`,
    { metadata: { finalizers: ['bench/chain'] } },
    'application/merge-patch+json',
  );
  await q('POST', '/api/v1/organization/', { name: org, email: `${org}@example.com` });
  await q('PUT', `/api/v1/organization/${org}/robots/builder`, {});
  await q('POST', `/api/v1/organization/${org}/prototypes`, {
    role: 'write',
    delegate: { kind: 'user', name: `${org}+builder` },
  });
  await rest.request(
    'PATCH',
    `/api/v1/namespaces/${ns}/secrets/builder-chain?fieldManager=bench&force=true`,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'builder-chain', namespace: ns },
      data: { a: 'YQ==' },
    },
    'application/apply-patch+yaml',
  );
  await rest.request(
    'PATCH',
    `/api/v1/namespaces/${ns}/serviceaccounts/builder`,
    { imagePullSecrets: [{ name: 'builder-chain' }], secrets: [{ name: 'builder-chain' }] },
    'application/merge-patch+json',
  );
  const ms = performance.now() - t0;
  await removeNamespace(rest, ns);
  return ms;
};

/** Deletes a namespace, its finalizers first (nothing is to wait for it), without waiting for it to go. */
export const removeNamespace = async (rest: KubeRest, ns: string): Promise<void> => {
  await rest.request(
    'PATCH',
    `/api/v1/namespaces/${ns}`,
    { metadata: { finalizers: null } },
    'application/merge-patch+json',
  );
  await rest.request('DELETE', `/api/v1/namespaces/${ns}`);
};

export const percentile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
