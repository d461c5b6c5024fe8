// Drives one Build one phase further per reconcile, after the step delay. Status is written with the main
// resource (Builds have no status subresource), guarded by the resourceVersion that was read, so a write never
// undoes someone else's change; after a conflict the Build's own MODIFIED event brings it back.
import { setTimeout as sleep } from 'node:timers/promises';
import { nextBuildStep } from './build-phases.js';
import { describeAnswer, expectOk, paths, type KubeHttp } from './kube-http.js';
import { Build, decodeOrThrow } from './objects.js';

export interface BuildEnv {
  readonly http: KubeHttp;
  readonly stepDelayMs: number;
  readonly signal: AbortSignal;
  readonly now: () => Date;
  /**
   * The push of `ref`: answers the digest the registry gave (reported instead of the made-up `digest`), or nothing
   * to keep that one; a rejection fails the build with PushImageToRegistryFailed.
   */
  readonly push: (ref: string, digest: string, build: Build) => Promise<string | undefined>;
  readonly onPushError: (ref: string, error: unknown) => void;
}

export const reconcileBuild = async (env: BuildEnv, namespace: string, name: string): Promise<void> => {
  const got = await env.http.get(paths.build(namespace, name));
  if (got.status === 404) return;
  const build = decodeOrThrow(Build, 'a Build')(expectOk(`read Build ${namespace}/${name}`, got));
  if (nextBuildStep(build, env.now()).kind === 'none') return;
  await sleep(env.stepDelayMs, undefined, { signal: env.signal });
  const step = nextBuildStep(build, env.now());
  if (step.kind === 'none') return;
  let status = step.status;
  if (step.kind === 'advance' && step.push !== undefined) {
    try {
      const pushed = await env.push(step.push.ref, step.push.digest, build);
      if (pushed !== undefined) status = { ...status, output: { to: { imageDigest: pushed } } };
    } catch (e) {
      env.onPushError(step.push.ref, e);
      status = step.ifPushFails ?? status;
    }
  }
  const written = await env.http.patch(paths.build(namespace, name), 'merge', {
    metadata: { resourceVersion: build.metadata.resourceVersion },
    status,
  });
  if (written.status === 409 || written.status === 404) return;
  if (written.status >= 300)
    throw new Error(`write status of Build ${namespace}/${name}: ${describeAnswer(written)}`);
};
