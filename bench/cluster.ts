// What every bench program runs against: its own control plane with the CRDs installed, the Quay emulator (one
// seed, so that runs compare) and a QuayIntegration naming it.
import { crdFiles, installCrds, readCrds, type ControlPlane } from '../test/harness/index.js';
import { kubeRest, type KubeRest } from '../test/event-path/kube-rest.js';
import { startQuayEmulator, type QuayEmulator } from '../test/quay-emulator/index.js';
import { configureIntegration } from '../test/support/world.js';

export const prepareCluster = async (
  cp: ControlPlane,
): Promise<{ readonly rest: KubeRest; readonly quay: QuayEmulator }> => {
  await installCrds(cp.kubeConfig, readCrds(crdFiles()));
  const rest = await kubeRest(cp.kubeConfig);
  const quay = await startQuayEmulator({ seed: 7 });
  await configureIntegration(rest, quay);
  return { rest, quay };
};
