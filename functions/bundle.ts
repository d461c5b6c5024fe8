// The image's step processes, bundled: `npm run build` compiles everything with tsc, then runs this file, which
// writes two esbuild bundles into dist/functions (with dist/functions/chunks/, one chunk per step and the code they
// share, so a step still loads only its own code):
// - host.js, the image's process (knative/base/*.yaml, Procfile): functions/host.ts with EVERY dependency in it
//   (prom-client, got, fp-ts, io-ts…), so Node resolves no module tree and reads a few files at start;
// - index.js, the same steps as a faas-js-runtime function module (`faas-js-runtime dist/functions/index.js`), with
//   faas-js-runtime and prom-client left out: runtime-patches.ts and exposeOnRuntime must reach the runtime's own
//   copies (and the cloudevents SDK it resolves), not copies of their own.
// fp-ts and io-ts go in through their ES module builds, so only what is used is in a bundle. Minified.
//
// Left out of both, and loaded from node_modules at run time: @kubernetes/client-node, only for the kubeconfigs
// shared/kube/access.ts leaves to it, never in a pod.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** Never bundled. */
export const EXTERNAL = ['@kubernetes/client-node'] as const;
/** Also left out of index.js: what faas-js-runtime must share with the steps it serves. */
export const RUNTIME_SHARED = ['faas-js-runtime', 'prom-client'] as const;

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

/** Bundles `entry` (a path) into `outdir`/`name`.js, with chunks/ (also used by bench/cold-start.ts's floor). */
export const bundleEntry = async (
  root: string,
  outdir: string,
  name: string,
  entry: string,
  external: readonly string[],
): Promise<void> => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [name]: entry },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...external],
    plugins: [esModuleBuilds],
    // Whitespace and syntax minified, identifiers kept: the source V8 keeps of the loaded chunks shrinks (about a
    // third of what full minifying saves, 1.1-1.4 MB of idle RSS per step), and a logged stack still names the
    // functions, which an operator reads without the .map files (docs/design.md#packaging).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: true,
    // CommonJS modules in an ES module bundle need a `require` for Node's own modules.
    banner: {
      js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
};

/**
 * Bundles `root`/functions/host.ts and index.ts into `dist`/functions (host.js, index.js, their maps, chunks/).
 * `dist` must be where node_modules can be found from (the externals are resolved at run time).
 */
export const bundleFunctions = async (root: string, dist: string): Promise<void> => {
  const outdir = join(dist, 'functions');
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  await bundleEntry(root, outdir, 'host', join(root, 'functions', 'host.ts'), EXTERNAL);
  await bundleEntry(root, outdir, 'index', join(root, 'functions', 'index.ts'), [
    ...EXTERNAL,
    ...RUNTIME_SHARED,
  ]);
};

// `node dist/functions/bundle.js` (npm run build): the repository is two levels up from this compiled file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
  await bundleFunctions(root, join(root, 'dist'));
}
