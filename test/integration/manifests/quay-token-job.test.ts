// The optional token Job (knative/quay-token) like the other manifests: rendered as `kubectl kustomize` renders it
// (where kubectl is installed), created with strict field validation (the Job as a dry run: no kubelet here) and
// read back whole; and held to what the command needs: the entry the image builds, the password as a mounted file
// (never an argument), and the rights to exactly the credentials Secret the steps read.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { repoRoot, sharedControlPlane } from '../../harness/index.js';
import { applyInstall } from '../../event-path/install.js';
import { kubeRest } from '../../event-path/kube-rest.js';
import { kustomize, objectId, type KubeObject } from '../../event-path/kustomize.js';

const DIR = join(repoRoot, 'knative', 'quay-token');

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** Paths where `stored` lacks or changes what `sent` has. */
const missingFrom = (sent: unknown, stored: unknown, path = ''): string[] => {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return [path];
    return sent.flatMap((v, i) => missingFrom(v, stored[i], `${path}[${i}]`));
  }
  if (isRecord(sent)) {
    if (!isRecord(stored)) return [path];
    return Object.entries(sent).flatMap(([k, v]) =>
      missingFrom(v, stored[k], path === '' ? k : `${path}.${k}`),
    );
  }
  return sent === stored ? [] : [path];
};

interface Container {
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly volumeMounts: readonly { name: string; mountPath: string }[];
}
interface JobSpec {
  readonly spec: {
    readonly template: {
      readonly spec: {
        readonly serviceAccountName: string;
        readonly containers: readonly Container[];
        readonly volumes: readonly { name: string; secret?: { secretName: string } }[];
      };
    };
  };
}
interface Rule {
  readonly resources: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}

const objects = (): KubeObject[] => kustomize(DIR);
const one = (kind: string): KubeObject => {
  const found = objects().filter((o) => o.kind === kind);
  expect(found, kind).to.have.length(1);
  return found[0] as KubeObject;
};

describe('the token Job manifests (knative/quay-token) against the real schemas', function () {
  this.timeout(120_000);

  it('renders like kubectl kustomize does (where kubectl is installed)', function () {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const theirs = parseAllDocuments(execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' }))
      .map((d) => d.toJS() as KubeObject)
      .filter((o) => isRecord(o));
    // kubectl sorts by kind; compare object by object.
    const byId = (list: readonly KubeObject[]) => new Map(list.map((o) => [objectId(o), o]));
    expect([...byId(objects())].sort()).to.deep.equal([...byId(theirs)].sort());
  });

  it('creates every object with strict field validation, and stores all of it', async () => {
    const cp = await sharedControlPlane();
    const rest = await kubeRest(cp.kubeConfig);
    await rest.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'quay-bridge' },
    });
    const applied = await applyInstall(cp.kubeConfig, objects(), { dryRunKinds: new Set(['Job']) });
    const failures = applied
      .filter((a) => a.answer.status >= 300 || a.answer.warnings.length > 0)
      .map(
        (a) =>
          `${objectId(a.object)}: HTTP ${a.answer.status} ${a.answer.warnings.join('; ')} ${a.answer.body.slice(0, 300)}`,
      );
    expect(failures).to.deep.equal([]);
    for (const { object, dryRun, answer } of applied) {
      const stored = dryRun ? answer.json : (await rest.request('GET', await rest.objectPath(object))).json;
      expect(missingFrom(object, stored), `${objectId(object)} as stored`).to.deep.equal([]);
    }
  });

  it("runs the image's build of the command, with the password as a mounted Secret file, never an argument", () => {
    const job = one('Job') as unknown as JobSpec;
    const pod = job.spec.template.spec;
    const [container] = pod.containers;
    const argv = [...(container?.command ?? []), ...(container?.args ?? [])];
    const entry = argv.find((a) => a.startsWith('dist/'));
    expect(entry).to.equal('dist/tools/quay-token/main.js');
    // tsc -p tsconfig.build.json compiles tools/ into dist/ (the image runs npm run build).
    const build = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(build.include).to.include('tools');
    expect(argv.some((a) => a === '--password' || a.startsWith('--password='))).to.equal(false);
    const file = argv[argv.indexOf('--password-file') + 1] ?? '';
    const mount = container?.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
    expect(mount, `a volume mounted above ${file}`).to.not.equal(undefined);
    expect(pod.volumes.find((v) => v.name === mount?.name)?.secret?.secretName).to.equal(
      'quay-token-password',
    );
    expect(pod.serviceAccountName).to.equal('quay-bridge-token');
  });

  it('may get and patch only the credentials Secret the steps read, and list QuayIntegrations', () => {
    const role = one('Role') as unknown as { rules: readonly Rule[] };
    const credentials = parseAllDocuments(
      readFileSync(join(repoRoot, 'knative', 'base', 'credentials.yaml'), 'utf8'),
    )
      .map((d) => d.toJS() as { kind: string; rules?: Rule[] })
      .find((o) => o.kind === 'Role');
    const stepsRead = credentials?.rules?.[0]?.resourceNames;
    expect(role.rules).to.deep.equal([
      { apiGroups: [''], resources: ['secrets'], resourceNames: stepsRead, verbs: ['get', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    const clusterRole = one('ClusterRole') as unknown as { rules: readonly Rule[] };
    expect(clusterRole.rules).to.deep.equal([
      { apiGroups: ['quay.redhat.com'], resources: ['quayintegrations'], verbs: ['list'] },
    ]);
  });
});
