// One step as it runs in its Knative Service: the production entry (functions/index.ts, QUAY_BRIDGE_STEP) under
// faas-js-runtime, as its own process. Env: PORT, KUBECONFIG, QUAY_BRIDGE_STEP and the QUAY_BRIDGE_* knobs.
import faas from 'faas-js-runtime';
import * as entry from '../../functions/index.js';

await faas.start({ init: entry.init, handle: entry.handle }, { port: Number(process.env.PORT) });
