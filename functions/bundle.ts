// The image's step entry, bundled: `npm run build` compiles everything with tsc, then runs this file, which replaces
// dist/functions/index.js with an esbuild bundle of functions/index.ts (and dist/functions/chunks/, one chunk per
// step and the code they share, so a step still loads only its own code). faas-js-runtime's CLI loads it exactly
// as it loaded tsc's output (knative/base/*.yaml, Procfile). A bundle starts faster and smaller than ~150 separate
// files: one read and one compile per chunk, and fp-ts and io-ts through their ES module builds, so only what is
// used is in it.
//
// Left out, and loaded from node_modules at run time:
// - faas-js-runtime: the CLI has already loaded it, and runtime-patches.ts must reach that very copy (and the
//   cloudevents SDK it resolves), not one of its own;
// - @kubernetes/client-node: only for the kubeconfigs shared/kube/access.ts leaves to it, never in a pod.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const EXTERNAL = ['faas-js-runtime', '@kubernetes/client-node'] as const;

/** `fp-ts/lib/X.js` → `fp-ts/es6/X.js` (and io-ts): the CommonJS builds cannot be tree-shaken. */
const esModuleBuilds: Plugin = {
  name: 'fp-ts-es6',
  setup(b) {
    b.onResolve({ filter: /^(fp-ts|io-ts)(\/lib\/.*)?$/ }, (args) => {
      const es6 = args.path.includes('/lib/')
        ? args.path.replace('/lib/', '/es6/')
        : `${args.path}/es6/index.js`;
      return b.resolve(es6, { kind: args.kind, resolveDir: args.resolveDir });
    });
  },
};

/**
 * Bundles `root`/functions/index.ts into `dist`/functions (index.js, index.js.map, chunks/). `dist` must be where
 * node_modules can be found from (the externals are resolved at run time).
 */
export const bundleFunctions = async (root: string, dist: string): Promise<void> => {
  const outdir = join(dist, 'functions');
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { index: join(root, 'functions', 'index.ts') },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...EXTERNAL],
    plugins: [esModuleBuilds],
    sourcemap: true,
    // CommonJS modules in an ES module bundle need a `require` for Node's own modules.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
};

// `node dist/functions/bundle.js` (npm run build): the repository is two levels up from this compiled file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
  await bundleFunctions(root, join(root, 'dist'));
}
