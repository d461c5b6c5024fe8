// Whether the cluster answers the bridge, checked every few seconds with the bridge's own credentials (read again
// at each check, so an exec or auth-provider plugin's expiring token is refreshed as it is for the steps). The
// transcript says when the cluster was lost and when it came back; coming back starts a resync, since the receive
// adapter drops what it relists after a long outage (its initial list is dropped, and so is a relist).
import http from 'node:http';
import https from 'node:https';
import { loadKubeAccess } from '../shared/kube/access.js';

export type Reach = { readonly lostAt: number; readonly error: string } | undefined;

export interface ReachStep {
  readonly next: Reach;
  readonly line?: string;
  readonly regained: boolean;
}

/** One check's result (`undefined`: answered; else why not) applied to what was known. Pure. */
export const reachStep = (server: string, was: Reach, error: string | undefined, now: number): ReachStep => {
  if (error === undefined) {
    if (was === undefined) return { next: undefined, regained: false };
    const s = Math.round((now - was.lostAt) / 1000);
    return {
      next: undefined,
      regained: true,
      line: `!! regained the cluster ${server} after ${String(s)} s; resync started.`,
    };
  }
  if (was !== undefined) return { next: was, regained: false };
  return {
    next: { lostAt: now, error },
    regained: false,
    line: `!! lost the cluster ${server}: ${error}. Still running; events wait in the broker's retries.`,
  };
};

/** A check of the kubeconfig's cluster: undefined when it lists namespaces with its credentials, else why not. */
export const clusterCheck = async (kubeconfigPath: string): Promise<() => Promise<string | undefined>> => {
  const access = await loadKubeAccess({ KUBECONFIG: kubeconfigPath });
  const server = access.getCurrentCluster()?.server ?? '';
  const url = new URL('/api/v1/namespaces?limit=1', server);
  return async () => {
    const opts: https.RequestOptions = { method: 'GET', timeout: 5000 };
    try {
      await access.applyToHTTPSOptions(opts);
    } catch (e) {
      return `credentials: ${e instanceof Error ? e.message : String(e)}`;
    }
    return new Promise((resolve) => {
      const req = (url.protocol === 'http:' ? http : https).request(url, opts, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(
            status === 200
              ? undefined
              : status === 401
                ? 'HTTP 401 (credentials refused)'
                : `HTTP ${String(status)}`,
          );
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
      req.on('error', (e) => {
        resolve(e.message);
      });
      req.end();
    });
  };
};

/** Checks every `intervalMs`; returns a stop function. */
export const watchReachability = (o: {
  readonly server: string;
  readonly check: () => Promise<string | undefined>;
  readonly intervalMs: number;
  readonly say: (line: string) => void;
  readonly onRegained: () => void;
}): { readonly stop: () => void; readonly lost: () => boolean } => {
  let reach: Reach;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void o
      .check()
      .then((error) => {
        const step = reachStep(o.server, reach, error, Date.now());
        reach = step.next;
        if (step.line !== undefined) o.say(step.line);
        if (step.regained) o.onRegained();
      })
      .finally(() => {
        busy = false;
      });
  }, o.intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
    },
    lost: () => reach !== undefined,
  };
};
