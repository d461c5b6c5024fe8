// What the image runs for a step: the bundle `npm run build` makes (functions/bundle.ts) under the Procfile's `web`
// command (the lean host, dist/functions/host.js; every Knative Service of a step runs the same, see
// func-yaml.test.ts), as its own process, built outside the repository. And the same bundle's index.js under
// faas-js-runtime's CLI (the image's process before, still a way to serve the steps): there the runtime-patches.ts
// patch must reach the cloudevents SDK that this runtime uses. Under either, a CloudEvent the SDK refuses is poison
// and is answered 400 (dead-lettered), not 500 (retried).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bundleFunctions } from '../../../functions/bundle.js';
import { BODY_LIMIT_BYTES } from '../../../functions/index.js';
import { freePort, repoRoot } from '../../harness/index.js';
import { answerToDeclaredLength } from '../../support/declared-length.js';
import { waitReady } from '../../support/step-processes.js';

/** The Procfile's `web` process with `dist/` taken from `dist`. */
const imageCommand = (dist: string): readonly string[] => {
  const web = /^web:\s*(.+)$/m
    .exec(readFileSync(join(repoRoot, 'Procfile'), 'utf8'))?.[1]
    ?.trim()
    .split(/\s+/);
  if (web?.[0] !== 'node') throw new Error(`the Procfile's web process is not \`node …\`: ${String(web)}`);
  return web.slice(1).map((a) => (a.startsWith('dist/') ? join(dist, a.slice('dist/'.length)) : a));
};

const FAAS_CLI = join(repoRoot, 'node_modules', 'faas-js-runtime', 'bin', 'cli.js');

/** Title, command, and whether it needs node_modules beside dist/. */
const commands: readonly (readonly [string, (dist: string) => readonly string[], boolean])[] = [
  [
    // No node_modules: the host's bundle carries every module a step loads with a JSON kubeconfig (the pod's path).
    "the image's step entry (npm run build's bundle of the lean host, the Procfile's web command), without node_modules",
    imageCommand,
    false,
  ],
  [
    "the bundle's index.js under faas-js-runtime's CLI",
    (dist) => [FAAS_CLI, join(dist, 'functions', 'index.js')],
    true,
  ],
];

const post = async (url: string, headers: Record<string, string>, body: string) => {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
};

for (const [title, command, needsNodeModules] of commands)
  describe(title, function () {
    this.timeout(120_000);
    let dir = '';
    let child: ChildProcess | undefined;
    let url = '';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'quay-bridge-image-'));
      // As in the image: node_modules (if the command needs it) and a package.json of type module beside dist/.
      if (needsNodeModules) symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      await bundleFunctions(repoRoot, join(dir, 'dist'));
      // Nothing listens there: init does not call the API server, and these events never reach the step.
      const kubeconfig = join(dir, 'kubeconfig.json');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:9' } }],
          users: [{ name: 'u', user: { token: 'not-used' } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'x',
        }),
      );
      const port = await freePort();
      url = `http://127.0.0.1:${port}/`;
      child = spawn(process.execPath, [...command(join(dir, 'dist'))], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          KUBECONFIG: kubeconfig,
          QUAY_BRIDGE_STEP: 'namespace',
          // Knative's PORT (the host), and faas-js-runtime's own.
          PORT: String(port),
          FUNC_PORT: String(port),
          // As its Knative Service sets it (func-yaml.test.ts holds every step's to this value).
          FUNC_BODY_LIMIT: String(BODY_LIMIT_BYTES),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await waitReady(url.replace(/\/$/, ''), child);
    });

    after(() => {
      child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    const binary = {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': 'https://10.96.0.1:443',
      'ce-type': 'dev.knative.apiserver.resource.update',
    };

    it('answers 400 to a binary-mode CloudEvent with an empty type', async () => {
      const a = await post(url, { ...binary, 'ce-type': '' }, '{}');
      expect(a.status, a.body).to.equal(400);
    });

    it('answers 400 to a structured-mode CloudEvent whose body is not an object', async () => {
      const a = await post(url, { 'content-type': 'application/cloudevents+json' }, '"an event"');
      expect(a.status, a.body).to.equal(400);
    });

    it('runs the step for a CloudEvent the SDK accepts (here: 503, the API server is unreachable)', async () => {
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
      const a = await post(
        url,
        { ...binary, 'ce-kind': 'Namespace', 'ce-name': 'team-a', 'ce-namespace': '', 'ce-apiversion': 'v1' },
        JSON.stringify(ns),
      );
      expect(a.status, a.body).to.equal(503);
    });

    it("serves the bridge's metrics on /metrics, counting the events answered above", async () => {
      const text = await (await fetch(`${url}metrics`)).text();
      expect(text).to.match(/^quay_bridge_events_handled_total\{[^}]*step="namespace"[^}]*\} [1-9]/m);
    });

    const namespaceEvent = (ns: object) =>
      [
        { ...binary, 'ce-kind': 'Namespace', 'ce-name': 'team-a', 'ce-namespace': '', 'ce-apiversion': 'v1' },
        JSON.stringify(ns),
      ] as const;

    it('reads the event of an object as large as the API server takes (3 MiB): runs the step, not a 413', async () => {
      const big = 'x'.repeat(3 * 1024 * 1024);
      const [headers, body] = namespaceEvent({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'team-a', annotations: { big } },
      });
      const a = await post(url, headers, body);
      expect(a.status, a.body).to.equal(503);
    });

    it('refuses a body over its limit with 413, by the declared length, before reading it', async () => {
      const a = await answerToDeclaredLength(url, namespaceEvent({})[0], BODY_LIMIT_BYTES + 1);
      expect(a.status, a.body).to.equal(413);
    });
  });
