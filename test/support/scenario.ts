// The scenario every fault is injected into: two namespaces appear (the stand-in gives each its builder, default
// and deployer ServiceAccounts), one gets two ImageStreams, and the other is deleted once provisioned. Convergence is
// "the state a fault-free run ends in"; `provisioned`/`converged` state that shape without reference to a run.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { KubeRest } from '../event-path/kube-rest.js';
import { eventually } from '../openshift-standin/wait.js';
import type { World } from './world.js';
import { worldState, type NamespaceState, type WorldState } from './world-state.js';

export const ACCOUNTS = ['builder', 'default', 'deployer'] as const;
export const IMAGE_STREAMS = ['app', 'web'] as const;

export interface Scenario {
  readonly runId: string;
  /** Provisioned, with ImageStreams; stays. */
  readonly keep: string;
  /** Provisioned, then deleted. */
  readonly gone: string;
  readonly namespaces: readonly string[];
  /** ImageStreams created in `keep`. */
  readonly imageStreams: readonly string[];
}

export const newScenario = (label: string, imageStreams: readonly string[] = IMAGE_STREAMS): Scenario => {
  const runId = `${label}${randomBytes(3).toString('hex')}`;
  return {
    runId,
    keep: `${runId}-keep`,
    gone: `${runId}-gone`,
    namespaces: [`${runId}-keep`, `${runId}-gone`],
    imageStreams,
  };
};

export const stateOf = (w: World, s: Scenario): Promise<WorldState> =>
  worldState(w.rest, w.quay, s.runId, s.namespaces);

const check = async (what: string, a: Promise<{ status: number; body: string }>): Promise<void> => {
  const r = await a;
  if (r.status >= 300 && r.status !== 409)
    throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
};

export const createNamespace = (rest: KubeRest, name: string): Promise<void> =>
  check(
    `create namespace ${name}`,
    rest.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
  );

export const createImageStream = (rest: KubeRest, namespace: string, name: string): Promise<void> =>
  check(
    `create imagestream ${namespace}/${name}`,
    rest.request('POST', `/apis/image.openshift.io/v1/namespaces/${namespace}/imagestreams`, {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: { name, namespace },
      spec: {},
    }),
  );

export const deleteNamespace = (rest: KubeRest, name: string): Promise<void> =>
  check(`delete namespace ${name}`, rest.request('DELETE', `/api/v1/namespaces/${name}`));

const orgKey = (ns: 'keep' | 'gone'): string => `openshift_RUN-${ns}`;

/** Problems that keep a namespace from being provisioned (empty when it is). */
export const provisioningProblems = (state: WorldState, which: 'keep' | 'gone', repos: readonly string[]) => {
  const problems: string[] = [];
  const org = state.organizations[orgKey(which)];
  const ns = state.namespaces[`RUN-${which}`];
  if (org === undefined) return [`no organization ${orgKey(which)}`];
  if (ns === undefined || ns === 'absent') return [`namespace RUN-${which} absent`];
  const n: NamespaceState = ns;
  if (org.robots.length !== ACCOUNTS.length) problems.push(`robots ${org.robots.join(',')}`);
  if (Object.keys(org.prototypes).length !== ACCOUNTS.length)
    problems.push(`prototypes ${JSON.stringify(org.prototypes)}`);
  for (const r of repos) if (org.repositories[r] === undefined) problems.push(`no repository ${r}`);
  if (!n.finalizers.includes('quay.redhat.com/quayintegrations')) problems.push('no finalizer');
  for (const sa of ACCOUNTS) {
    const secret = n.secrets[`${sa}-quay-openshift`];
    if (
      secret === undefined ||
      !Object.values(secret.auths).every((a) => a.consistent) ||
      Object.keys(secret.auths).length === 0
    )
      problems.push(`Secret of ${sa} missing or inconsistent`);
    const links = n.links[sa];
    if (links?.secrets.length !== 1 || links.imagePullSecrets.length !== 1) problems.push(`links of ${sa}`);
  }
  return problems;
};

/** The scenario's end: `keep` provisioned with its repositories, `gone` and its organization gone. */
export const convergenceProblems = (
  state: WorldState,
  imageStreams: readonly string[] = IMAGE_STREAMS,
): string[] => [
  ...provisioningProblems(state, 'keep', imageStreams),
  ...(state.namespaces['RUN-gone'] === 'absent' ? [] : ['namespace RUN-gone still there']),
  ...(state.organizations[orgKey('gone')] === undefined
    ? []
    : [`organization ${orgKey('gone')} still there`]),
];

export const waitForProblemsGone = async (
  w: World,
  s: Scenario,
  what: string,
  problems: (state: WorldState) => string[],
  timeoutMs: number,
): Promise<WorldState> => {
  let last: string[] = [];
  try {
    return await eventually(
      what,
      async () => {
        const state = await stateOf(w, s);
        last = problems(state);
        return last.length === 0 ? state : undefined;
      },
      timeoutMs,
      200,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${last.join('; ')}`);
  }
};

/**
 * Plays the scenario against whatever delivers events (a dispatcher, started by the caller), and waits for it to
 * converge. `beforeDelete` runs once both namespaces are provisioned.
 */
export const playScenario = async (
  w: World,
  s: Scenario,
  options: { readonly timeoutMs?: number; readonly beforeDelete?: () => Promise<void> } = {},
): Promise<WorldState> => {
  const timeoutMs = options.timeoutMs ?? 60_000;
  await createNamespace(w.rest, s.keep);
  await createNamespace(w.rest, s.gone);
  for (const is of s.imageStreams) await createImageStream(w.rest, s.keep, is);
  await waitForProblemsGone(
    w,
    s,
    `${s.runId}: both namespaces provisioned`,
    (st) => [...provisioningProblems(st, 'keep', s.imageStreams), ...provisioningProblems(st, 'gone', [])],
    timeoutMs,
  );
  await options.beforeDelete?.();
  await deleteNamespace(w.rest, s.gone);
  return waitForProblemsGone(
    w,
    s,
    `${s.runId}: converged`,
    (st) => convergenceProblems(st, s.imageStreams),
    timeoutMs,
  );
};

/** Waits until the scenario's state equals `expected` (deadline, not a timed assertion), then asserts it. */
export const expectConvergedTo = async (
  w: World,
  s: Scenario,
  expected: WorldState,
  timeoutMs = 60_000,
): Promise<void> => {
  let last: WorldState | undefined;
  await eventually(
    `${s.runId}: the state of the fault-free run`,
    async () => {
      last = await stateOf(w, s);
      return JSON.stringify(last) === JSON.stringify(expected) ? last : undefined;
    },
    timeoutMs,
    200,
  ).catch(() => undefined);
  expect(last).to.deep.equal(expected);
};

/** Removes what a scenario left (its namespaces, our finalizer first: no step may be running), without waiting. */
export const cleanUp = async (rest: KubeRest, s: Scenario): Promise<void> => {
  for (const ns of s.namespaces) {
    await rest.request(
      'PATCH',
      `/api/v1/namespaces/${ns}`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    await rest.request('DELETE', `/api/v1/namespaces/${ns}`);
  }
};
