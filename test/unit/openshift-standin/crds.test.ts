import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../../harness/index.js';

interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly additionalProperties?: Schema | boolean;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-embedded-resource'?: boolean;
}
interface Version {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly subresources?: { readonly status?: object };
  readonly schema: { readonly openAPIV3Schema: Schema };
}
interface Crd {
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly scope: string;
    readonly names: { readonly kind: string };
    readonly versions: readonly Version[];
  };
}

const crd = (file: string): Crd => parse(readFileSync(join(repoRoot, 'test', 'crds', file), 'utf8')) as Crd;
const versionOf = (c: Crd): Version => c.spec.versions[0]!;
const schemaOf = (c: Crd): Schema => versionOf(c).schema.openAPIV3Schema;
/** The schema under a path of property names. */
const at = (s: Schema, ...names: string[]): Schema =>
  names.reduce<Schema>((cur, n) => {
    const next = cur.properties?.[n];
    if (next === undefined) throw new Error(`no property ${n}`);
    return next;
  }, s);

/** Every place of a schema that breaks the structural rules the API server enforces, and where unknown fields are kept. */
const walk = (s: Schema, path: string, problems: string[], open: string[]): void => {
  const typed =
    typeof s.type === 'string' ||
    s['x-kubernetes-int-or-string'] === true ||
    s['x-kubernetes-preserve-unknown-fields'] === true;
  if (!typed) problems.push(`${path}: no type`);
  if (s.properties !== undefined && s.type !== 'object') problems.push(`${path}: properties on a non-object`);
  if (s.type === 'array' && s.items === undefined) problems.push(`${path}: array without items`);
  if (s['x-kubernetes-preserve-unknown-fields'] === true) open.push(path);
  for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`, problems, open);
  if (s.items !== undefined) walk(s.items, `${path}[]`, problems, open);
  if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}{}`, problems, open);
};

describe('the OpenShift stand-in CRDs (test/crds)', () => {
  const table = [
    ['imagestream.yaml', 'imagestreams.image.openshift.io', 'ImageStream', true],
    ['build.yaml', 'builds.build.openshift.io', 'Build', false],
    ['imagestreamimport.yaml', 'imagestreamimports.image.openshift.io', 'ImageStreamImport', false],
  ] as const;
  for (const [file, name, kind, statusSubresource] of table) {
    it(`${file} defines ${name}: namespaced v1 ${kind}, ${statusSubresource ? 'with' : 'without'} a status subresource`, () => {
      const c = crd(file);
      expect(c.metadata.name).to.equal(name);
      expect(c.spec.scope).to.equal('Namespaced');
      expect(c.spec.names.kind).to.equal(kind);
      expect(c.spec.versions).to.have.length(1);
      expect(versionOf(c)).to.include({ name: 'v1', served: true, storage: true });
      expect(versionOf(c).subresources?.status !== undefined).to.equal(statusSubresource);
    });

    it(`${file} has a structural schema`, () => {
      const problems: string[] = [];
      walk(schemaOf(crd(file)), '', problems, []);
      expect(problems).to.deep.equal([]);
    });
  }

  it('keeps unknown fields only in the image config, which OpenShift stores as an open document', () => {
    const open: string[] = [];
    for (const [file] of table) walk(schemaOf(crd(file)), file, [], open);
    expect(open).to.deep.equal([
      'imagestreamimport.yaml.status.images[].image.dockerImageMetadata',
      'imagestreamimport.yaml.status.images[].manifests[].dockerImageMetadata',
      'imagestreamimport.yaml.status.repository.images[].image.dockerImageMetadata',
      'imagestreamimport.yaml.status.repository.images[].manifests[].dockerImageMetadata',
    ]);
  });

  it('describes the ImageStream an import returns exactly as the ImageStream CRD does', () => {
    const stream = schemaOf(crd('imagestream.yaml'));
    const returned = at(schemaOf(crd('imagestreamimport.yaml')), 'status', 'import');
    expect(returned['x-kubernetes-embedded-resource']).to.equal(true);
    expect(at(returned, 'spec')).to.deep.equal(at(stream, 'spec'));
    expect(at(returned, 'status')).to.deep.equal(at(stream, 'status'));
  });

  it('makes a new Build phase New, as OpenShift’s API server does', () => {
    const status = at(schemaOf(crd('build.yaml')), 'status');
    expect(status.default).to.deep.equal({});
    expect(at(status, 'phase').default).to.equal('New');
    expect(at(status, 'phase').enum).to.deep.equal([
      'New',
      'Pending',
      'Running',
      'Complete',
      'Failed',
      'Error',
      'Cancelled',
    ]);
  });

  it('covers the Build fields quay-bridge and QBO read and write', () => {
    const build = schemaOf(crd('build.yaml'));
    const fields = (...names: string[]) => Object.keys(at(build, ...names).properties ?? {});
    expect(fields('spec', 'strategy')).to.include.members([
      'type',
      'dockerStrategy',
      'sourceStrategy',
      'customStrategy',
      'jenkinsPipelineStrategy',
    ]);
    expect(fields('spec', 'output', 'to')).to.include.members(['kind', 'name', 'namespace']);
    expect(fields('spec', 'output')).to.include.members(['to', 'pushSecret', 'imageLabels']);
    expect(at(build, 'status', 'output', 'to', 'imageDigest').type).to.equal('string');
  });
});
