// The integration tier's world: one control plane per mocha run, started on first use, with every CRD installed.
import { crdFiles, installCrds, readCrds } from './crds.js';
import { leftovers, startControlPlane, type ControlPlane } from './control-plane.js';

export {
  startControlPlane,
  leftovers,
  controlPlaneBinaries,
  repoRoot,
  type ControlPlane,
} from './control-plane.js';
export { crdFiles, installCrds, readCrds } from './crds.js';
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
