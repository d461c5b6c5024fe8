import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import {
  Build,
  parseDestination,
  parseImageStreamTag,
  repositoryOf,
} from '../../../functions/build/build.js';
import { imageStreamImport, markImported, plan, type ImportPlan } from '../../../functions/build/plan.js';

const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const ref = { namespace: 'team-a', name: 'app-1' };

const completed = (
  o: {
    phase?: string;
    annotations?: Record<string, string>;
    digest?: string | null;
    to?: Record<string, string>;
  } = {},
): Build => {
  const decoded = Build.decode({
    apiVersion: 'build.openshift.io/v1',
    kind: 'Build',
    metadata: {
      name: 'app-1',
      namespace: 'team-a',
      resourceVersion: '4711',
      annotations: o.annotations ?? {
        'quay-registry-operator.quay.redhat.com/quay-registry-operator-managed': 'true',
        'quay-registry-operator.quay.redhat.com/destination-imagestream': 'team-a/app:v1',
      },
    },
    spec: {
      strategy: { type: 'Docker', dockerStrategy: {} },
      output: {
        to: o.to ?? { kind: 'DockerImage', name: 'quay.example.com:8443/openshift_team-a/app:v1' },
        pushSecret: { name: 'builder-quay-openshift' },
      },
    },
    status: {
      phase: o.phase ?? 'Complete',
      ...(o.digest === null ? {} : { output: { to: { imageDigest: o.digest ?? DIGEST } } }),
    },
  });
  if (E.isLeft(decoded)) throw new Error('fixture does not decode');
  return decoded.right;
};

const importPlan = (b: Build): ImportPlan => {
  const p = plan(ref, b);
  if (E.isLeft(p) || p.right._tag !== 'Import')
    throw new Error(`expected an import, got ${JSON.stringify(p)}`);
  return p.right;
};

const ignoredBecause = (b: Build): string => {
  const p = plan(ref, b);
  if (E.isLeft(p) || p.right._tag !== 'Ignore') throw new Error(`expected Ignore, got ${JSON.stringify(p)}`);
  return p.right.reason;
};

const errorOf = (b: Build): string => {
  const p = plan(ref, b);
  if (E.isRight(p)) throw new Error(`expected an error, got ${JSON.stringify(p.right)}`);
  expect(p.left._tag).to.equal('BadEvent');
  return (p.left as { message: string }).message;
};

describe('build step: plan', () => {
  it('imports a completed, redirected, not yet imported Build by the digest it pushed', () => {
    const p = importPlan(completed());
    expect(p).to.deep.equal({
      _tag: 'Import',
      build: { namespace: 'team-a', name: 'app-1', resourceVersion: '4711' },
      destination: { namespace: 'team-a', imageStream: 'app', tag: 'v1' },
      from: `quay.example.com:8443/openshift_team-a/app@${DIGEST}`,
      tagged: 'quay.example.com:8443/openshift_team-a/app:v1',
    });
  });

  it('builds the ImageStreamImport QBO makes, but from the digest, with the QuayIntegration policy', () => {
    const p = importPlan(completed());
    expect(imageStreamImport(p, { insecureRegistry: true, scheduledImageStreamImport: false })).to.deep.equal(
      {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStreamImport',
        metadata: { name: 'app', namespace: 'team-a' },
        spec: {
          import: true,
          images: [
            {
              from: { kind: 'DockerImage', name: `quay.example.com:8443/openshift_team-a/app@${DIGEST}` },
              to: { name: 'v1' },
              importPolicy: { insecure: true, scheduled: false },
              referencePolicy: { type: 'Source' },
            },
          ],
        },
      },
    );
  });

  it('with scheduledImageStreamImport imports the pushed tag (a scheduled import of a digest never changes)', () => {
    const p = importPlan(completed());
    const image = (
      imageStreamImport(p, { insecureRegistry: false, scheduledImageStreamImport: true }) as {
        spec: { images: { from: object; importPolicy: object }[] };
      }
    ).spec.images[0];
    expect(image?.from).to.deep.equal({
      kind: 'DockerImage',
      name: 'quay.example.com:8443/openshift_team-a/app:v1',
    });
    expect(image?.importPolicy).to.deep.equal({ insecure: false, scheduled: true });
  });

  it('marks the Build imported under a resourceVersion precondition', () => {
    expect(markImported(importPlan(completed()))).to.deep.equal({
      metadata: {
        resourceVersion: '4711',
        annotations: { 'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported': 'true' },
      },
    });
  });

  // docs/qbo-compatibility.md#b5: QBO imported on every event of every annotated Build.
  for (const phase of ['New', 'Pending', 'Running']) {
    it(`docs/qbo-compatibility.md#b5: ignores a ${phase} Build (nothing pushed yet)`, () => {
      expect(ignoredBecause(completed({ phase }))).to.equal(`phase ${phase}: nothing pushed yet`);
    });
  }
  for (const phase of ['Failed', 'Error', 'Cancelled']) {
    it(`docs/qbo-compatibility.md#b5: ignores a ${phase} Build`, () => {
      expect(ignoredBecause(completed({ phase }))).to.equal(`phase ${phase}: nothing to import`);
    });
  }

  it('docs/qbo-compatibility.md#b5: ignores a Build already imported (a historical build replayed by a restart or resync)', () => {
    const b = completed({
      annotations: {
        'quay-registry-operator.quay.redhat.com/destination-imagestream': 'team-a/app:v1',
        'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported': 'true',
      },
    });
    expect(ignoredBecause(b)).to.equal('already imported');
  });

  it('docs/qbo-compatibility.md#b5: ignores a Build the webhook did not redirect', () => {
    expect(ignoredBecause(completed({ annotations: {} }))).to.equal(
      'not redirected to Quay (no destination annotation)',
    );
  });

  it('fails clearly when a completed Build reports no digest', () => {
    expect(errorOf(completed({ digest: null }))).to.equal(
      'Build team-a/app-1 completed without status.output.to.imageDigest, so the pushed image cannot be imported ' +
        'by digest; import quay.example.com:8443/openshift_team-a/app:v1 into team-a/app:v1 by hand (oc import-image)',
    );
  });

  it('fails clearly on a digest that is not one', () => {
    expect(errorOf(completed({ digest: 'latest' }))).to.include('"latest" is not a digest');
  });

  it('fails clearly on a malformed destination annotation', () => {
    const b = completed({
      annotations: { 'quay-registry-operator.quay.redhat.com/destination-imagestream': 'app:v1' },
    });
    expect(errorOf(b)).to.include('is not <namespace>/<imagestream>:<tag>');
  });

  it('fails clearly when the annotated Build does not output a DockerImage', () => {
    expect(errorOf(completed({ to: { kind: 'ImageStreamTag', name: 'app:v1' } }))).to.include(
      'is not a DockerImage reference',
    );
  });
});

describe('build step: names', () => {
  const cases: [string, string][] = [
    ['quay.example.com/org/app:v1', 'quay.example.com/org/app'],
    ['quay.example.com:8443/org/app:v1', 'quay.example.com:8443/org/app'],
    ['quay.example.com:8443/org/app', 'quay.example.com:8443/org/app'],
    [`quay.example.com:8443/org/app@${DIGEST}`, 'quay.example.com:8443/org/app'],
    [`quay.example.com/org/app:v1@${DIGEST}`, 'quay.example.com/org/app'],
  ];
  for (const [reference, repository] of cases)
    it(`repository of ${reference.slice(0, 40)} is ${repository}`, () => {
      expect(repositoryOf(reference)).to.equal(repository);
    });

  it('reads destinations as QBO does: one "/", then one ":"', () => {
    expect(parseDestination('team-a/app:v1')).to.deep.equal(
      E.right({ namespace: 'team-a', imageStream: 'app', tag: 'v1' }),
    );
    for (const bad of [
      'app:v1',
      'a/b/c:v1',
      'team-a/app',
      'team-a/app:v1:x',
      '/app:v1',
      'team-a/:v1',
      'team-a/app:',
    ])
      expect(E.isLeft(parseDestination(bad)), bad).to.equal(true);
  });

  it('reads ImageStreamTag names with latest as the default tag', () => {
    expect(parseImageStreamTag('app')).to.deep.equal(E.right({ imageStream: 'app', tag: 'latest' }));
    expect(parseImageStreamTag('app:v1')).to.deep.equal(E.right({ imageStream: 'app', tag: 'v1' }));
  });
});
