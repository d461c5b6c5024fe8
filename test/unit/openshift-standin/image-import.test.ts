import { expect } from 'chai';
import {
  importStatuses,
  readImportRequest,
  specTagsAfterImport,
  statusTagsAfterImport,
  type ImportResult,
  type ImportTarget,
} from '../../openshift-standin/image-import.js';
import { parseImageRef } from '../../openshift-standin/image-ref.js';
import type { ImageStreamImport, NamedTagEventList, TagReference } from '../../openshift-standin/objects.js';

const ref = 'quay.example.com/openshift_team-a/app:latest';
const d1 = `sha256:${'1'.repeat(64)}`;
const d2 = `sha256:${'2'.repeat(64)}`;

// The import QBO makes after a build (docs/qbo-compatibility.md#build-import).
const qboImport = (
  images: NonNullable<NonNullable<ImageStreamImport['spec']>['images']>,
): ImageStreamImport => ({
  metadata: { name: 'app', namespace: 'team-a', resourceVersion: '42' },
  spec: { import: true, images },
});

const target = (tag: string, from = ref): ImportTarget => ({
  tag,
  spec: {
    from: { kind: 'DockerImage', name: from },
    to: { name: tag },
    importPolicy: { insecure: true, scheduled: false },
    referencePolicy: { type: 'Source' },
  },
  ref: parseImageRef(from)!,
});

describe('the stand-in ImageStreamImport (pure parts)', () => {
  describe('readImportRequest', () => {
    it('reads QBO’s import: the tag from `to`, the source reference parsed', () => {
      const request = readImportRequest(
        qboImport([
          {
            from: { kind: 'DockerImage', name: ref },
            to: { name: 'v1' },
            importPolicy: { insecure: true, scheduled: false },
            referencePolicy: { type: 'Source' },
          },
        ]),
      );
      expect(request.kind).to.equal('valid');
      if (request.kind !== 'valid') return;
      expect(request.import).to.equal(true);
      expect(request.targets.map((t) => [t.tag, t.ref.repository])).to.deep.equal([
        ['v1', 'quay.example.com/openshift_team-a/app'],
      ]);
    });

    it('takes the tag from the source reference when `to` is absent, and `latest` when that has none', () => {
      const request = readImportRequest(
        qboImport([
          { from: { kind: 'DockerImage', name: 'quay.example.com/o/a:v3' } },
          { from: { kind: 'DockerImage', name: 'quay.example.com/o/a' } },
        ]),
      );
      expect(request.kind === 'valid' && request.targets.map((t) => t.tag)).to.deep.equal(['v3', 'latest']);
    });

    it('refuses, naming each field, a source that is not a DockerImage, a malformed one, and none at all', () => {
      const bad = readImportRequest(
        qboImport([
          { from: { kind: 'ImageStreamTag', name: 'app:latest' } },
          { from: { kind: 'DockerImage', name: 'not an image' } },
        ]),
      );
      expect(bad).to.deep.equal({
        kind: 'invalid',
        causes: [
          {
            field: 'spec.images[0].from.kind',
            message: 'Unsupported value: "ImageStreamTag": supported values: "DockerImage"',
          },
          {
            field: 'spec.images[1].from.name',
            message: 'Invalid value: "not an image": not an image reference',
          },
        ],
      });
      expect(readImportRequest(qboImport([]))).to.deep.equal({
        kind: 'invalid',
        causes: [{ field: 'spec.images', message: 'Required value: at least one image to import' }],
      });
    });

    it('refuses a whole-repository import, which the stand-in does not do', () => {
      const request = readImportRequest({
        metadata: { name: 'app' },
        spec: { import: true, repository: { from: { kind: 'DockerImage', name: 'quay.example.com/o/a' } } },
      });
      expect(request.kind === 'invalid' && request.causes.map((c) => c.field)).to.deep.equal([
        'spec.repository',
      ]);
    });
  });

  describe('specTagsAfterImport', () => {
    const existing: TagReference[] = [
      {
        name: 'v0',
        annotations: { keep: 'me' },
        from: { kind: 'DockerImage', name: 'old/ref:v0' },
        generation: 1,
      },
      {
        name: 'latest',
        annotations: { note: 'kept' },
        from: { kind: 'DockerImage', name: 'old/ref' },
        generation: 2,
      },
    ];

    it('replaces the imported tag in place (keeping its annotations), appends a new one, leaves the others', () => {
      expect(specTagsAfterImport(existing, [target('latest'), target('v1')], 5)).to.deep.equal([
        existing[0],
        {
          name: 'latest',
          annotations: { note: 'kept' },
          from: { kind: 'DockerImage', name: ref },
          generation: 5,
          importPolicy: { insecure: true, scheduled: false },
          referencePolicy: { type: 'Source' },
        },
        {
          name: 'v1',
          annotations: null,
          from: { kind: 'DockerImage', name: ref },
          generation: 5,
          importPolicy: { insecure: true, scheduled: false },
          referencePolicy: { type: 'Source' },
        },
      ]);
    });

    it('defaults the reference policy to Source, as OpenShift does', () => {
      const bare: ImportTarget = {
        tag: 'x',
        spec: { from: { kind: 'DockerImage', name: ref } },
        ref: parseImageRef(ref)!,
      };
      expect(specTagsAfterImport([], [bare], 2)[0]).to.deep.include({
        referencePolicy: { type: 'Source' },
        importPolicy: {},
      });
    });
  });

  describe('statusTagsAfterImport', () => {
    const now = '2026-03-01T12:00:00Z';
    const ok = (tag: string, digest: string): ImportResult => ({
      target: target(tag),
      resolution: { kind: 'resolved', digest },
    });
    const notFound: ImportResult = {
      target: target('latest'),
      resolution: { kind: 'failed', failure: { reason: 'NotFound', message: 'no such tag', code: 404 } },
    };
    const history: NamedTagEventList[] = [
      {
        tag: 'latest',
        items: [
          {
            created: '2026-02-01T00:00:00Z',
            dockerImageReference: `quay.example.com/openshift_team-a/app@${d1}`,
            image: d1,
            generation: 2,
          },
        ],
        conditions: [
          {
            type: 'ImportSuccess',
            status: 'False',
            reason: 'NotFound',
            message: 'earlier failure',
            generation: 2,
          },
        ],
      },
    ];

    it('puts a new image at the head of the tag history, by digest, and clears an earlier import failure', () => {
      expect(statusTagsAfterImport(history, [ok('latest', d2)], 3, now)).to.deep.equal([
        {
          tag: 'latest',
          items: [
            {
              created: now,
              dockerImageReference: `quay.example.com/openshift_team-a/app@${d2}`,
              image: d2,
              generation: 3,
            },
            ...history[0]!.items!,
          ],
        },
      ]);
    });

    it('re-importing the image already at the head only moves its generation', () => {
      const after = statusTagsAfterImport(history, [ok('latest', d1)], 4, now);
      expect(after[0]!.items).to.deep.equal([{ ...history[0]!.items![0], generation: 4 }]);
    });

    it('creates the status tag of a first import', () => {
      expect(statusTagsAfterImport([], [ok('v1', d1)], 2, now)).to.deep.equal([
        {
          tag: 'v1',
          items: [
            {
              created: now,
              dockerImageReference: `quay.example.com/openshift_team-a/app@${d1}`,
              image: d1,
              generation: 2,
            },
          ],
        },
      ]);
    });

    it('keeps the history of a failed import and records ImportSuccess=False with the reason', () => {
      const after = statusTagsAfterImport(history, [notFound], 5, now);
      expect(after).to.deep.equal([
        {
          tag: 'latest',
          items: history[0]!.items,
          conditions: [
            {
              type: 'ImportSuccess',
              status: 'False',
              reason: 'NotFound',
              message: 'no such tag',
              generation: 5,
              lastTransitionTime: now,
            },
          ],
        },
      ]);
    });
  });

  it('reports Success with the image by digest, or Failure with reason, message and code, per image', () => {
    expect(
      importStatuses([
        { target: target('latest'), resolution: { kind: 'resolved', digest: d1 } },
        {
          target: target('v1'),
          resolution: { kind: 'failed', failure: { reason: 'NotFound', message: 'gone', code: 404 } },
        },
      ]),
    ).to.deep.equal([
      {
        status: { status: 'Success' },
        tag: 'latest',
        image: {
          metadata: { name: d1 },
          dockerImageReference: `quay.example.com/openshift_team-a/app@${d1}`,
        },
      },
      { status: { status: 'Failure', reason: 'NotFound', message: 'gone', code: 404 }, tag: 'v1' },
    ]);
  });
});
