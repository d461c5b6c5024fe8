import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { applyJsonPatch, kustomize, objectId } from '../../event-path/kustomize.js';

const pod = (name: string, image: string, ns = 'a') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  initContainers: [{name: init, image: ${image}}]
  containers: [{name: c, image: ${image}}]
`;

const ksvc = (name: string, image: string) => `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: ${name}, namespace: a}
spec: {template: {spec: {containers: [{image: ${image}}]}}}
`;

describe('the kustomize renderer', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const imagesOf = (dir: string): string[] =>
    kustomize(join(root, dir)).flatMap((o) => {
      const spec = o.spec as {
        containers?: { image: string }[];
        template?: { spec: { containers: { image: string }[] } };
      };
      return (spec.containers ?? spec.template?.spec.containers ?? []).map((c) => c.image);
    });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kustomize-test-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('collects files and kustomization directories in order, skipping empty documents', () => {
    write('base/kustomization.yaml', 'resources: [p.yaml]\n');
    write('base/p.yaml', `# a comment only\n---\n${pod('one', 'x')}---\n${pod('two', 'x')}`);
    write('top/kustomization.yaml', 'resources: [../base, s.yaml]\n');
    write('top/s.yaml', ksvc('three', 'x'));
    expect(kustomize(join(root, 'top')).map(objectId)).to.deep.equal([
      'v1 Pod a/one',
      'v1 Pod a/two',
      'serving.knative.dev/v1 Service a/three',
    ]);
  });

  describe('images', () => {
    const cases: readonly [string, string, string][] = [
      ['newName and newTag', 'quay-bridge', 'name: quay-bridge\n    newName: reg.io/x/qb\n    newTag: v2'],
      ['newTag on a tagged image', 'quay-bridge:old', 'name: quay-bridge\n    newTag: v2'],
      [
        'a digest replaces the tag',
        'quay-bridge:old',
        'name: quay-bridge\n    newName: reg.io/x/qb\n    digest: sha256:abc',
      ],
      [
        'a registry with a port is part of the name',
        'localhost:5000/quay-bridge:1',
        'name: localhost:5000/quay-bridge\n    newTag: v2',
      ],
      ['other images are left alone', 'other:1', 'name: quay-bridge\n    newTag: v2'],
    ];
    const expected = [
      'reg.io/x/qb:v2',
      'quay-bridge:v2',
      'reg.io/x/qb@sha256:abc',
      'localhost:5000/quay-bridge:v2',
      'other:1',
    ];
    cases.forEach(([name, image, rule], i) => {
      it(`${name}: ${image} → ${expected[i] ?? ''}`, () => {
        write('k/kustomization.yaml', `resources: [p.yaml, s.yaml]\nimages:\n  - ${rule}\n`);
        write('k/p.yaml', pod('p', image));
        write('k/s.yaml', ksvc('s', image));
        // init container, container, and the Knative Service's nested container
        expect(imagesOf('k')).to.deep.equal([expected[i], expected[i]]);
        const p = kustomize(join(root, 'k'))[0]?.spec as { initContainers: { image: string }[] };
        expect(p.initContainers[0]?.image).to.equal(expected[i]);
      });
    });

    it('applies to what included kustomizations rendered', () => {
      write('base/kustomization.yaml', 'resources: [s.yaml]\n');
      write('base/s.yaml', ksvc('s', 'quay-bridge'));
      write(
        'top/kustomization.yaml',
        'resources: [../base]\nimages:\n  - name: quay-bridge\n    newTag: v9\n',
      );
      expect(imagesOf('top')).to.deep.equal(['quay-bridge:v9']);
    });
  });

  describe('JSON 6902 patches', () => {
    it('patches the targets it selects, by kind and name', () => {
      write(
        'k/kustomization.yaml',
        `resources: [p.yaml]
patches:
  - target: {kind: Pod, name: one}
    patch: |-
      - op: add
        path: /metadata/annotations
        value: {x: "1"}
      - op: replace
        path: /spec/containers/0/image
        value: patched
`,
      );
      write('k/p.yaml', `${pod('one', 'x')}---\n${pod('two', 'x')}`);
      expect(imagesOf('k')).to.deep.equal(['patched', 'x']);
      expect(kustomize(join(root, 'k'))[0]?.metadata.annotations).to.deep.equal({ x: '1' });
    });

    it('refuses a patch that matches nothing (kustomize would ignore the typo)', () => {
      write(
        'k/kustomization.yaml',
        `resources: [p.yaml]
patches:
  - target: {kind: Pod, name: nope}
    patch: '[{op: remove, path: /spec}]'
`,
      );
      write('k/p.yaml', pod('one', 'x'));
      expect(() => kustomize(join(root, 'k'))).to.throw(/patches\[0\] matches no resource/);
    });

    it('applies add, remove, replace and test like RFC 6902', () => {
      const doc = { a: [1, 2], b: { c: 'x', 'd/e': 1 } };
      expect(
        applyJsonPatch(
          doc,
          [
            { op: 'test', path: '/b/c', value: 'x' },
            { op: 'add', path: '/a/-', value: 3 },
            { op: 'add', path: '/a/0', value: 0 },
            { op: 'remove', path: '/b/d~1e' },
            { op: 'replace', path: '/b/c', value: 'y' },
          ],
          'test',
        ),
      ).to.deep.equal({ a: [0, 1, 2, 3], b: { c: 'y' } });
      expect(doc, 'the input is not changed').to.deep.equal({ a: [1, 2], b: { c: 'x', 'd/e': 1 } });
      expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/b/c', value: 'z' }], 'here')).to.throw(
        'here: test /b/c failed',
      );
      expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/b/zz', value: 1 }], 'here')).to.throw(
        'here: replace /b/zz: zz does not exist',
      );
    });
  });

  describe('refuses what kustomize refuses, or what the renderer does not do', () => {
    const cases: readonly [string, () => void, RegExp][] = [
      [
        'a file outside the kustomization root',
        () => {
          write('other.yaml', pod('p', 'x'));
          write('k/kustomization.yaml', 'resources: [../other.yaml]\n');
        },
        /file \.\.\/other\.yaml is outside the kustomization root/,
      ],
      [
        'the same resource twice',
        () => {
          write('k/kustomization.yaml', 'resources: [p.yaml, q.yaml]\n');
          write('k/p.yaml', pod('p', 'x'));
          write('k/q.yaml', pod('p', 'y'));
        },
        /v1 Pod a\/p is registered twice/,
      ],
      [
        'a field it does not implement',
        () => {
          write('k/kustomization.yaml', 'namespace: b\nresources: []\n');
        },
        /unsupported field namespace/,
      ],
      [
        'a base that contains the overlay (cycle)',
        () => {
          write('k/kustomization.yaml', 'resources: [p.yaml]\n');
          write('k/p.yaml', pod('p', 'x'));
          write('k/overlay/kustomization.yaml', 'resources: [..]\n');
        },
        /cycle/,
      ],
      [
        'a missing resource',
        () => {
          write('k/kustomization.yaml', 'resources: [nope.yaml]\n');
        },
        /resource nope\.yaml does not exist/,
      ],
      [
        'a directory without a kustomization',
        () => {
          write('k/kustomization.yaml', 'resources: [sub]\n');
          write('k/sub/p.yaml', pod('p', 'x'));
        },
        /has no kustomization\.yaml/,
      ],
      [
        'an object without a name',
        () => {
          write('k/kustomization.yaml', 'resources: [p.yaml]\n');
          write('k/p.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {}\n');
        },
        /document 1: is not an object with apiVersion, kind and metadata\.name/,
      ],
    ];
    for (const [name, setup, error] of cases)
      it(name, () => {
        setup();
        const dir = name.includes('cycle') ? join(root, 'k', 'overlay') : join(root, 'k');
        expect(() => kustomize(dir)).to.throw(error);
      });
  });
});

describe('the kustomize renderer: replacements and local-config', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const settings = (id: string, localConfig = true) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: a
${localConfig ? '  annotations: {config.kubernetes.io/local-config: "true"}\n' : ''}data: {clusterID: ${id}}
`;
  const role = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
  - {apiGroups: [""], resources: [configmaps], verbs: [get]}
  - {apiGroups: [""], resources: [secrets], resourceNames: [builder-quay, my-quay-sa-quay], verbs: [get]}
`;
  const replacement = (fieldPaths: string, options = '{delimiter: "-", index: 999}') => `replacements:
  - source: {kind: ConfigMap, name: settings, fieldPath: data.clusterID}
    targets:
      - select: {kind: ClusterRole, name: r}
        fieldPaths: [${fieldPaths}]
        options: ${options}
`;
  const namesOf = (dir: string): unknown =>
    (
      kustomize(join(root, dir)).find((o) => o.kind === 'ClusterRole') as unknown as {
        rules: { resourceNames?: string[] }[];
      }
    ).rules[1]?.resourceNames;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kustomize-test-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('appends the value to every element with `*` and an index past the last part, whatever dashes it holds', () => {
    write('k/kustomization.yaml', `resources: [s.yaml, r.yaml]\n${replacement('rules.1.resourceNames.*')}`);
    write('k/s.yaml', settings('prod-1'));
    write('k/r.yaml', role);
    expect(namesOf('k')).to.deep.equal(['builder-quay-prod-1', 'my-quay-sa-quay-prod-1']);
  });

  it('replaces one part, prefixes with a negative index, and replaces a whole value without a delimiter', () => {
    const cases: readonly [string, string, string[]][] = [
      ['rules.1.resourceNames.0', '{delimiter: "-", index: 0}', ['x-quay', 'my-quay-sa-quay']],
      ['rules.1.resourceNames.1', '{delimiter: "-", index: -1}', ['builder-quay', 'x-my-quay-sa-quay']],
      ['rules.1.resourceNames.1', '{}', ['builder-quay', 'x']],
    ];
    for (const [path, options, expected] of cases) {
      write('k/kustomization.yaml', `resources: [s.yaml, r.yaml]\n${replacement(path, options)}`);
      write('k/s.yaml', settings('x'));
      write('k/r.yaml', role);
      expect(namesOf('k'), `${path} ${options}`).to.deep.equal(expected);
    }
  });

  it('drops local-config objects from the final output only, so that an including kustomization still reads them', () => {
    write('base/kustomization.yaml', 'resources: [s.yaml, r.yaml]\n');
    write('base/s.yaml', settings('inner'));
    write('base/r.yaml', role);
    write('top/kustomization.yaml', `resources: [../base]\n${replacement('rules.1.resourceNames.*')}`);
    expect(kustomize(join(root, 'base')).map((o) => o.kind)).to.deep.equal(['ClusterRole']);
    expect(kustomize(join(root, 'top')).map((o) => o.kind)).to.deep.equal(['ClusterRole']);
    expect(namesOf('top')).to.deep.equal(['builder-quay-inner', 'my-quay-sa-quay-inner']);
    write('base/s.yaml', settings('kept', false));
    expect(kustomize(join(root, 'base')).map((o) => o.kind)).to.deep.equal(['ConfigMap', 'ClusterRole']);
  });

  describe('refuses', () => {
    const cases: readonly [string, string, RegExp][] = [
      ['a target field that does not exist', replacement('rules.1.resourceNames.5'), /unable to find field/],
      [
        'a source that selects nothing',
        replacement('rules.1.resourceNames.*').replace('name: settings', 'name: nope'),
        /selects 0/,
      ],
      [
        'a target that selects nothing',
        replacement('rules.1.resourceNames.*').replace('name: r}', 'name: nope}'),
        /selects no resource/,
      ],
      [
        'an index without a delimiter',
        replacement('rules.1.resourceNames.*', '{index: 1}'),
        /needs options.delimiter/,
      ],
      [
        'a list selector in a field path',
        replacement('"rules.[resources.0=secrets].resourceNames.0"'),
        /only dotted keys/,
      ],
      ['a replacement from a file', 'replacements:\n  - path: r.yaml\n', /unsupported field path/],
    ];
    for (const [name, text, error] of cases)
      it(name, () => {
        write('k/kustomization.yaml', `resources: [s.yaml, r.yaml]\n${text}`);
        write('k/s.yaml', settings('x'));
        write('k/r.yaml', role);
        expect(() => kustomize(join(root, 'k'))).to.throw(error);
      });
  });
});
