// One step as it runs in its Knative Service: the image's process (functions/host.ts: the lean host serving the
// step QUAY_BRIDGE_STEP names), from source, as its own process. Env: PORT, KUBECONFIG, QUAY_BRIDGE_STEP and the
// QUAY_BRIDGE_* knobs; the body limit is its Knative Service's (FUNC_BODY_LIMIT, default BODY_LIMIT_BYTES).
import { hostSettings, startStepHost } from '../../functions/host.js';

const host = await startStepHost(process.env.QUAY_BRIDGE_STEP, hostSettings(process.env));
process.once('SIGTERM', () => {
  void host.drain().then(() => process.exit(0));
});
