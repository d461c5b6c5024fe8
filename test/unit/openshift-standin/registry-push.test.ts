import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { buildImage, credentialsFor } from '../../openshift-standin/registry-push.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('the image a stand-in Build pushes', () => {
  const at = new Date('2026-12-03T10:00:00Z');
  const image = buildImage({ namespace: 'team-a', name: 'app-1' }, at);

  it('has a layer that tar reads: one file naming the Build', () => {
    const listing = execFileSync('tar', ['-tvz'], { input: image.layer, encoding: 'utf8' });
    expect(listing).to.match(/quay-bridge-build\.txt\n$/);
    const content = execFileSync('tar', ['-xzO'], { input: image.layer, encoding: 'utf8' });
    expect(content).to.equal('Build team-a/app-1 at 2026-12-03T10:00:00.000Z\n');
  });

  it('names its layer and config by digest and size in a Docker schema 2 manifest, with the diff id', () => {
    const manifest = JSON.parse(image.manifest.toString('utf8')) as {
      mediaType: string;
      config: { digest: string; size: number };
      layers: { digest: string; size: number }[];
    };
    expect(manifest.mediaType).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.config).to.include({ digest: sha256(image.config), size: image.config.length });
    expect(manifest.layers).to.deep.equal([
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        digest: sha256(image.layer),
        size: image.layer.length,
      },
    ]);
    const config = JSON.parse(image.config.toString('utf8')) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).to.deep.equal([sha256(gunzipSync(image.layer))]);
  });

  it('differs from build to build', () => {
    expect(sha256(buildImage({ namespace: 'team-a', name: 'app-2' }, at).manifest)).to.not.equal(
      sha256(image.manifest),
    );
  });

  it('takes push credentials from a dockerconfigjson by registry host, from auth or username/password', () => {
    const auth = Buffer.from('org+builder:T0KEN').toString('base64');
    expect(credentialsFor(JSON.stringify({ auths: { 'quay:8443': { auth } } }), 'quay:8443')).to.deep.equal({
      username: 'org+builder',
      password: 'T0KEN',
    });
    expect(
      credentialsFor(JSON.stringify({ auths: { q: { username: 'u', password: 'p', auth: 'x' } } }), 'q'),
    ).to.deep.equal({ username: 'u', password: 'p' });
    expect(credentialsFor(JSON.stringify({ auths: {} }), 'q')).to.equal(undefined);
    expect(credentialsFor('not json', 'q')).to.equal(undefined);
  });
});
