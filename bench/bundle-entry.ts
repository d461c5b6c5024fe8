// The entry the bench bundles with esbuild: the production step entry under faas-js-runtime, as CommonJS (some of
// the runtime's dependencies assign undeclared globals, which ESM's strict mode refuses), so no top-level await.
import faas from 'faas-js-runtime';
import * as entry from '../functions/index.js';

faas
  .start({ init: entry.init, handle: entry.handle }, { port: Number(process.env.PORT) })
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
