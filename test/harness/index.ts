// The integration tier's world: one control plane per mocha run, started on first use, with every CRD installed;
// and, for the tests of plain Kubernetes, control planes of their own without the OpenShift APIs.
import { crdFiles, installCrds, readCrds } from './crds.js';
import { leftovers, startControlPlane, type ControlPlane } from './control-plane.js';

export {
  startControlPlane,
  leftovers,
  controlPlaneBinaries,
  repoRoot,
  type ControlPlane,
} from './control-plane.js';
export { crdFiles, installCrds, openshiftCrdFiles, readCrds } from './crds.js';
export { issueCertificate } from './certs.js';
export { freePort } from './ports.js';

let shared: Promise<ControlPlane> | undefined;

export const sharedControlPlane = (): Promise<ControlPlane> => {
  shared ??= (async () => {
    const cp = await startControlPlane();
    try {
      await installCrds(cp.kubeConfig, readCrds(crdFiles()));
    } catch (e) {
      await cp.stop();
      throw e;
    }
    return cp;
  })();
  return shared;
};

/** Stops the shared control plane if one was started, and fails if anything of it outlives the stop. */
export const stopSharedControlPlane = async (): Promise<void> => {
  if (shared === undefined) return;
  const cp = await shared.catch(() => undefined);
  shared = undefined;
  if (cp === undefined) return;
  await cp.stop();
  const left = await leftovers(cp);
  if (left.length > 0) throw new Error(`the control plane left things behind: ${left.join(', ')}`);
};

/**
 * A control plane of its own (stopped by the caller) that serves no OpenShift API: quay-bridge's CRD and Knative's
 * only, as a plain Kubernetes cluster with Knative has. installCrds(cp.kubeConfig, readCrds(openshiftCrdFiles()))
 * adds the OpenShift APIs later.
 */
export const startPlainControlPlane = async (): Promise<ControlPlane> => {
  const cp = await startControlPlane();
  try {
    await installCrds(cp.kubeConfig, readCrds(crdFiles({ openshift: false })));
  } catch (e) {
    await cp.stop();
    throw e;
  }
  return cp;
};
