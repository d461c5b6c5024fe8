import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import { Build, parseDestination, parseImageStreamTag, repositoryOf } from '../../../shared/build.js';
import {
  ALL_CHECKS,
  confine,
  imageStreamImport,
  markImported,
  plan,
  quayTagOf,
  verifyDigest,
  type Candidate,
  type ImportPlan,
  type RefusalReason,
} from '../../../functions/build/plan.js';
import {
  decodeQuayIntegration,
  resolveSettings,
  type Settings,
} from '../../../shared/settings/quay-integration.js';

const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const OTHER_DIGEST = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
const ref = { namespace: 'team-a', name: 'app-1' };
const DEST = 'quay-registry-operator.quay.redhat.com/destination-imagestream';

const settingsOf = (spec: Record<string, unknown> = {}): Settings => {
  const s = pipe(
    decodeQuayIntegration({
      apiVersion: 'quay.redhat.com/v1',
      kind: 'QuayIntegration',
      metadata: { name: 'quay' },
      spec: {
        clusterID: 'openshift',
        quayHostname: 'https://quay.example.com:8443',
        credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
        ...spec,
      },
    }),
    E.flatMap(resolveSettings),
  );
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};
const SETTINGS = settingsOf();

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
      uid: 'u-1',
      resourceVersion: '4711',
      annotations: o.annotations ?? {
        'quay-registry-operator.quay.redhat.com/quay-registry-operator-managed': 'true',
        [DEST]: 'team-a/app:v1',
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

const candidate = (b: Build): Candidate => {
  const p = plan(ref, b);
  if (p._tag !== 'Candidate') throw new Error(`expected a candidate, got ${JSON.stringify(p)}`);
  return p;
};

const importPlan = (b: Build, s: Settings = SETTINGS): ImportPlan => {
  const p = confine(candidate(b), s);
  if (p._tag !== 'Import') throw new Error(`expected an import, got ${JSON.stringify(p)}`);
  return p;
};

const ignoredBecause = (b: Build): string => {
  const p = plan(ref, b);
  if (p._tag !== 'Ignore') throw new Error(`expected Ignore, got ${JSON.stringify(p)}`);
  return p.reason;
};

const errorOf = (b: Build): string => {
  const p = plan(ref, b);
  if (p._tag !== 'Refuse') throw new Error(`expected a refusal, got ${JSON.stringify(p)}`);
  expect(p.poison).to.equal(true);
  return p.message;
};

describe('build step: plan', () => {
  it('takes a completed, redirected, not yet imported Build as a candidate, as it describes itself', () => {
    expect(plan(ref, completed())).to.deep.equal({
      _tag: 'Candidate',
      build: { namespace: 'team-a', name: 'app-1', uid: 'u-1', resourceVersion: '4711' },
      destination: { namespace: 'team-a', imageStream: 'app', tag: 'v1' },
      output: 'quay.example.com:8443/openshift_team-a/app:v1',
      digest: DIGEST,
    });
  });

  it("imports from the namespace's own Quay repository by the digest it pushed, built from the settings", () => {
    expect(importPlan(completed())).to.deep.equal({
      _tag: 'Import',
      build: { namespace: 'team-a', name: 'app-1', uid: 'u-1', resourceVersion: '4711' },
      destination: { namespace: 'team-a', imageStream: 'app', tag: 'v1' },
      from: `quay.example.com:8443/openshift_team-a/app@${DIGEST}`,
      tagged: 'quay.example.com:8443/openshift_team-a/app:v1',
      digest: DIGEST,
      quay: { org: 'openshift_team-a', repository: 'app', tag: 'v1' },
    });
  });

  it('uses organizationPrefix for the organization, as the webhook does', () => {
    const b = completed({ to: { kind: 'DockerImage', name: 'quay.example.com:8443/corp_team-a/app:v1' } });
    expect(importPlan(b, settingsOf({ organizationPrefix: 'corp' })).quay).to.deep.equal({
      org: 'corp_team-a',
      repository: 'app',
      tag: 'v1',
    });
  });

  // A tenant with `edit` in team-a writes any of these on its own Build (create, or update, with status).
  const confinement: {
    readonly attack: string;
    readonly build: Build;
    readonly settings?: Settings;
    readonly reason: RefusalReason;
    readonly says: string;
    readonly poison?: boolean;
  }[] = [
    {
      attack: 'annotation naming another namespace',
      build: completed({ annotations: { [DEST]: 'victim/app:v1' } }),
      reason: 'CrossNamespaceImport',
      says: "asks for an import into namespace victim (annotation quay-registry-operator.quay.redhat.com/destination-imagestream); quay-bridge imports only into the Build's own namespace",
    },
    {
      attack: "spec.output.to in another namespace's organization",
      build: completed({
        to: { kind: 'DockerImage', name: 'quay.example.com:8443/openshift_victim/app:v1' },
      }),
      reason: 'ForeignRepository',
      says: 'spec.output.to is quay.example.com:8443/openshift_victim/app:v1, not quay.example.com:8443/openshift_team-a/app:v1',
    },
    {
      attack: 'spec.output.to on another registry',
      build: completed({ to: { kind: 'DockerImage', name: 'evil.example.com/openshift_team-a/app:v1' } }),
      reason: 'ForeignRepository',
      says: 'not quay.example.com:8443/openshift_team-a/app:v1',
    },
    {
      attack: 'spec.output.to another repository of its own organization',
      build: completed({
        to: { kind: 'DockerImage', name: 'quay.example.com:8443/openshift_team-a/other:v1' },
      }),
      reason: 'ForeignRepository',
      says: 'for ImageStreamTag app:v1',
    },
    {
      attack: 'spec.output.to another tag than the annotation',
      build: completed({
        to: { kind: 'DockerImage', name: 'quay.example.com:8443/openshift_team-a/app:v2' },
      }),
      reason: 'ForeignRepository',
      says: 'spec.output.to is quay.example.com:8443/openshift_team-a/app:v2',
    },
    {
      attack: 'spec.output.to by digest',
      build: completed({
        to: { kind: 'DockerImage', name: `quay.example.com:8443/openshift_team-a/app@${OTHER_DIGEST}` },
      }),
      reason: 'ForeignRepository',
      says: 'not quay.example.com:8443/openshift_team-a/app:v1',
    },
    {
      attack: 'a Build in a denied namespace',
      build: completed(),
      settings: settingsOf({ denylistNamespaces: ['team-a'] }),
      reason: 'NamespaceNotManaged',
      says: 'namespace team-a is not managed by quay-bridge',
      poison: false,
    },
    {
      attack: 'a Build in a namespace outside the allow list',
      build: completed(),
      settings: settingsOf({ allowlistNamespaces: ['team-b'] }),
      reason: 'NamespaceNotManaged',
      says: 'allowlistNamespaces/denylistNamespaces of QuayIntegration quay',
      poison: false,
    },
  ];
  for (const c of confinement)
    it(`refuses ${c.attack} (${c.reason}), and imports it with confinement off`, () => {
      const cand = candidate(c.build);
      const refused = confine(cand, c.settings ?? SETTINGS);
      expect(refused).to.deep.include({ _tag: 'Refuse', reason: c.reason, poison: c.poison ?? true });
      expect((refused as { message: string }).message).to.include(c.says);
      // The control: the weakened check imports what the Build says.
      expect(confine(cand, c.settings ?? SETTINGS, { ...ALL_CHECKS, confine: false })._tag).to.equal(
        'Import',
      );
    });

  const verification: {
    readonly what: string;
    readonly versions: O.Option<readonly { manifestDigest: string; current: boolean }[]>;
    readonly refused?: RefusalReason;
    readonly says?: string;
  }[] = [
    {
      what: 'the digest is the current version of the tag',
      versions: O.some([{ manifestDigest: DIGEST, current: true }]),
    },
    {
      what: 'the digest is an earlier version of the tag (pushed again since)',
      versions: O.some([
        { manifestDigest: OTHER_DIGEST, current: true },
        { manifestDigest: DIGEST, current: false },
      ]),
    },
    {
      what: 'the tag never pointed at the digest',
      versions: O.some([{ manifestDigest: OTHER_DIGEST, current: true }]),
      refused: 'UnknownDigest',
      says: `Quay has no version of openshift_team-a/app:v1 with digest ${DIGEST} (every version checked)`,
    },
    {
      what: 'the tag does not exist',
      versions: O.some([]),
      refused: 'UnknownDigest',
      says: 'Build did not push it',
    },
    {
      what: 'the repository does not exist',
      versions: O.none,
      refused: 'RepositoryNotFound',
      says: 'Quay has no repository openshift_team-a/app',
    },
  ];
  for (const v of verification)
    it(`${v.refused === undefined ? 'accepts' : `refuses (${v.refused})`} when ${v.what}`, () => {
      const p = importPlan(completed());
      const verified = verifyDigest(p, v.versions, 100);
      if (v.refused === undefined) expect(verified).to.equal(p);
      else {
        expect(verified).to.deep.include({ _tag: 'Refuse', reason: v.refused, poison: true });
        expect((verified as { message: string }).message).to.include(v.says ?? '');
      }
    });

  it('says how many versions it checked when the page was full', () => {
    const many = Array.from({ length: 3 }, () => ({ manifestDigest: OTHER_DIGEST, current: false }));
    expect(verifyDigest(importPlan(completed()), O.some(many), 3)).to.deep.include({
      reason: 'UnknownDigest',
    });
    expect(
      (verifyDigest(importPlan(completed()), O.some(many), 3) as { message: string }).message,
    ).to.include('the newest 3 versions checked');
  });

  it('reads Quay coordinates off a reference', () => {
    expect(quayTagOf('quay.example.com:8443/org/app:v1')).to.deep.equal({
      org: 'org',
      repository: 'app',
      tag: 'v1',
    });
    expect(quayTagOf('quay.example.com/org/team/app')).to.deep.equal({
      org: 'org',
      repository: 'team/app',
      tag: 'latest',
    });
    expect(quayTagOf('quay.example.com/app:v1')).to.equal(undefined);
    expect(quayTagOf(`quay.example.com/org/app@${DIGEST}`)).to.equal(undefined);
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
        [DEST]: 'team-a/app:v1',
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
      annotations: { [DEST]: 'app:v1' },
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
