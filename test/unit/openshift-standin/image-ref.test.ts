import { expect } from 'chai';
import {
  buildImageDigest,
  byDigest,
  parseImageRef,
  taggedName,
  type ImageRef,
} from '../../openshift-standin/image-ref.js';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('image references of the stand-in', () => {
  const table: readonly [string, ImageRef | undefined][] = [
    [
      'quay.example.com/openshift_team-a/app:latest',
      { repository: 'quay.example.com/openshift_team-a/app', tag: 'latest', digest: undefined },
    ],
    [
      'quay.example.com:8443/openshift_team-a/app:v1',
      { repository: 'quay.example.com:8443/openshift_team-a/app', tag: 'v1', digest: undefined },
    ],
    ['127.0.0.1:8089/org/app', { repository: '127.0.0.1:8089/org/app', tag: undefined, digest: undefined }],
    [
      `quay.example.com/org/app@${digest}`,
      { repository: 'quay.example.com/org/app', tag: undefined, digest },
    ],
    [`quay.example.com/org/app:v2@${digest}`, { repository: 'quay.example.com/org/app', tag: 'v2', digest }],
    ['quay.example.com/org/app@sha256:short', undefined],
    ['quay.example.com/org/app:', undefined],
    ['', undefined],
    ['quay.example.com/org/my app:v1', undefined],
  ];
  for (const [ref, expected] of table) {
    it(`parses ${JSON.stringify(ref)}`, () => {
      expect(parseImageRef(ref)).to.deep.equal(expected);
    });
  }

  it('names an untagged reference by tag latest', () => {
    expect(taggedName(parseImageRef('127.0.0.1:8089/org/app')!)).to.equal('127.0.0.1:8089/org/app:latest');
    expect(byDigest('q.example/o/a', digest)).to.equal(`q.example/o/a@${digest}`);
  });

  it('makes build digests that are sha256 digests, the same for the same build, different across builds', () => {
    const ref = 'quay.example.com/org/app:latest';
    const one = buildImageDigest(ref, { namespace: 'team-a', name: 'app-1' });
    expect(one).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(buildImageDigest(ref, { namespace: 'team-a', name: 'app-1' })).to.equal(one);
    expect(buildImageDigest(ref, { namespace: 'team-a', name: 'app-2' })).to.not.equal(one);
    expect(
      buildImageDigest('quay.example.com/org/app:v2', { namespace: 'team-a', name: 'app-1' }),
    ).to.not.equal(one);
  });
});
