// One step as it runs in its Knative Service: the production entry (functions/index.ts, QUAY_BRIDGE_STEP) under
// faas-js-runtime, as its own process, with its Knative Service's body limit. Env: PORT, KUBECONFIG, QUAY_BRIDGE_STEP
// and the QUAY_BRIDGE_* knobs.
import faas from 'faas-js-runtime';
import * as entry from '../../functions/index.js';

// The runtime reads bodyLimit (the CLI's FUNC_BODY_LIMIT), though its types do not declare it.
const options = { port: Number(process.env.PORT), bodyLimit: entry.BODY_LIMIT_BYTES };
await faas.start({ init: entry.init, handle: entry.handle }, options);
