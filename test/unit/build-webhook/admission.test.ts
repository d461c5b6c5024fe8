import { expect } from 'chai';
import { build, ready, review, sendReview, absent } from './fixtures.js';

const MANAGED = 'quay-registry-operator.quay.redhat.com~1quay-registry-operator-managed';
const DESTINATION = 'quay-registry-operator.quay.redhat.com~1destination-imagestream';
const IMPORTED = 'quay-registry-operator.quay.redhat.com~1destination-imagestreamtag-imported';

describe('build webhook: redirecting Builds to Quay', () => {
  it('rewrites an ImageStreamTag output with a tag to the Quay image, in QBO order, with the pushSecret', async () => {
    const a = await sendReview(review(build({ annotations: { 'openshift.io/build-config.name': 'app' } })));
    expect(a.status).to.equal(200);
    expect(a.body).to.deep.include({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(a.response).to.deep.include({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      allowed: true,
      patchType: 'JSONPatch',
    });
    expect(a.patch).to.deep.equal([
      { op: 'replace', path: '/spec/output/to/kind', value: 'DockerImage' },
      { op: 'replace', path: '/spec/output/to/name', value: 'quay.example.com:8443/openshift_team-a/app:v1' },
      { op: 'add', path: '/spec/output/pushSecret', value: { name: 'builder-quay-openshift' } },
      { op: 'add', path: `/metadata/annotations/${MANAGED}`, value: 'true' },
      { op: 'add', path: `/metadata/annotations/${DESTINATION}`, value: 'team-a/app:v1' },
    ]);
    expect(a.secretChecks).to.deep.equal(['team-a/builder-quay-openshift']);
  });

  it('docs/qbo-compatibility.md#b6: defaults a tag-less ImageStreamTag to latest instead of failing the request', async () => {
    const a = await sendReview(
      review(build({ to: { kind: 'ImageStreamTag', name: 'app' }, annotations: {} })),
    );
    expect(a.status).to.equal(200);
    expect(a.response?.allowed).to.equal(true);
    expect(a.patch).to.deep.equal([
      { op: 'replace', path: '/spec/output/to/kind', value: 'DockerImage' },
      {
        op: 'replace',
        path: '/spec/output/to/name',
        value: 'quay.example.com:8443/openshift_team-a/app:latest',
      },
      { op: 'add', path: '/spec/output/pushSecret', value: { name: 'builder-quay-openshift' } },
      { op: 'add', path: `/metadata/annotations/${MANAGED}`, value: 'true' },
      { op: 'add', path: `/metadata/annotations/${DESTINATION}`, value: 'team-a/app:latest' },
    ]);
  });

  it('docs/qbo-compatibility.md#b6: adds the annotations map when the Build has none', async () => {
    const a = await sendReview(review(build()));
    expect(a.patch).to.deep.equal([
      { op: 'replace', path: '/spec/output/to/kind', value: 'DockerImage' },
      { op: 'replace', path: '/spec/output/to/name', value: 'quay.example.com:8443/openshift_team-a/app:v1' },
      { op: 'add', path: '/spec/output/pushSecret', value: { name: 'builder-quay-openshift' } },
      {
        op: 'add',
        path: '/metadata/annotations',
        value: {
          'quay-registry-operator.quay.redhat.com/quay-registry-operator-managed': 'true',
          'quay-registry-operator.quay.redhat.com/destination-imagestream': 'team-a/app:v1',
        },
      },
    ]);
  });

  it('treats annotations: null like a missing map', async () => {
    const a = await sendReview(review(build({ annotations: null })));
    expect((a.patch as { path: string }[]).map((o) => o.path)).to.include('/metadata/annotations');
  });

  it('removes spec.output.to.namespace when it names the Build namespace (QBO #39)', async () => {
    const a = await sendReview(
      review(build({ to: { kind: 'ImageStreamTag', name: 'app:v2', namespace: 'team-a' }, annotations: {} })),
    );
    expect(a.patch).to.deep.equal([
      { op: 'replace', path: '/spec/output/to/kind', value: 'DockerImage' },
      { op: 'replace', path: '/spec/output/to/name', value: 'quay.example.com:8443/openshift_team-a/app:v2' },
      { op: 'remove', path: '/spec/output/to/namespace' },
      { op: 'add', path: '/spec/output/pushSecret', value: { name: 'builder-quay-openshift' } },
      { op: 'add', path: `/metadata/annotations/${MANAGED}`, value: 'true' },
      { op: 'add', path: `/metadata/annotations/${DESTINATION}`, value: 'team-a/app:v2' },
    ]);
  });

  it('replaces a pushSecret resolved for the internal registry', async () => {
    const a = await sendReview(
      review(build({ pushSecret: { name: 'builder-dockercfg-x7k2p' }, annotations: {} })),
    );
    expect(a.patch).to.deep.include({
      op: 'add',
      path: '/spec/output/pushSecret',
      value: { name: 'builder-quay-openshift' },
    });
  });

  it('redirects Source (S2I) builds too', async () => {
    const a = await sendReview(review(build({ strategy: { type: 'Source', sourceStrategy: { from: {} } } })));
    expect(a.response?.patchType).to.equal('JSONPatch');
  });

  it('uses the organization prefix and the lowercased clusterID in names, and the registry host without scheme', async () => {
    const a = await sendReview(review(build({ annotations: {} })), {
      view: ready({ clusterID: 'Prod', organizationPrefix: 'acme', quayHostname: 'quay.example.org' }),
    });
    expect(a.patch).to.deep.include({
      op: 'replace',
      path: '/spec/output/to/name',
      value: 'quay.example.org/acme_team-a/app:v1',
    });
    expect(a.patch).to.deep.include({
      op: 'add',
      path: '/spec/output/pushSecret',
      value: { name: 'builder-quay-prod' },
    });
    expect(a.secretChecks).to.deep.equal(['team-a/builder-quay-prod']);
  });

  it('drops a copied "imported" mark from a Build cloned from an imported one', async () => {
    const a = await sendReview(
      review(
        build({
          annotations: {
            'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported': 'true',
            'openshift.io/build.clone-of': 'app-1',
          },
        }),
      ),
    );
    const ops = a.patch as { op: string; path: string }[];
    expect(ops[ops.length - 1]).to.deep.equal({ op: 'remove', path: `/metadata/annotations/${IMPORTED}` });
  });

  it('drops the copied mark from a clone whose output already points at Quay, and changes nothing else', async () => {
    const a = await sendReview(
      review(
        build({
          to: { kind: 'DockerImage', name: 'quay.example.com:8443/openshift_team-a/app:v1' },
          annotations: {
            'quay-registry-operator.quay.redhat.com/destination-imagestream': 'team-a/app:v1',
            'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported': 'true',
          },
        }),
      ),
    );
    expect(a.patch).to.deep.equal([{ op: 'remove', path: `/metadata/annotations/${IMPORTED}` }]);
    expect(a.secretChecks).to.deep.equal([]);
  });
});

describe('build webhook: Builds let through unchanged', () => {
  const unchanged = (a: Awaited<ReturnType<typeof sendReview>>) => {
    expect(a.status).to.equal(200);
    expect(a.response).to.deep.equal({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
  };

  it('allows a DockerImage output unchanged', async () => {
    const a = await sendReview(review(build({ to: { kind: 'DockerImage', name: 'docker.io/me/app:v1' } })));
    unchanged(a);
    expect(a.secretChecks).to.deep.equal([]);
  });

  it('allows a Build without output unchanged', async () => {
    unchanged(await sendReview(review(build({ to: null }))));
  });

  it('allows a Custom strategy unchanged, and never checks provisioning for it', async () => {
    const a = await sendReview(
      review(build({ strategy: { type: 'Custom', customStrategy: { from: {} } } })),
      {
        secret: absent,
      },
    );
    unchanged(a);
    expect(a.secretChecks).to.deep.equal([]);
  });

  it('allows a JenkinsPipeline strategy unchanged', async () => {
    unchanged(
      await sendReview(review(build({ strategy: { type: 'JenkinsPipeline', jenkinsPipelineStrategy: {} } }))),
    );
  });

  for (const ns of ['openshift-monitoring', 'kube-system', 'default', 'openshift', 'management-infra']) {
    it(`allows a Build in the default-denied namespace ${ns} unchanged`, async () => {
      const a = await sendReview(review(build(), { namespace: ns }));
      unchanged(a);
      expect(a.secretChecks).to.deep.equal([]);
    });
  }

  it('allows a Build in a deny-listed namespace unchanged', async () => {
    unchanged(await sendReview(review(build()), { view: ready({ denylistNamespaces: ['team-a'] }) }));
  });

  it('allows a Build outside a non-empty allow list unchanged, and redirects one inside it', async () => {
    unchanged(await sendReview(review(build()), { view: ready({ allowlistNamespaces: ['team-b'] }) }));
    const inside = await sendReview(review(build(), { namespace: 'team-b' }), {
      view: ready({ allowlistNamespaces: ['team-b'] }),
    });
    expect(inside.response?.patchType).to.equal('JSONPatch');
  });

  it('allows an UPDATE unchanged even when the builder Secret is missing', async () => {
    const a = await sendReview(review(build(), { operation: 'UPDATE' }), { secret: absent });
    unchanged(a);
    expect(a.secretChecks).to.deep.equal([]);
  });

  it('allows everything unchanged without a QuayIntegration, as QBO does', async () => {
    unchanged(
      await sendReview(review(build()), { view: { _tag: 'Unconfigured', reason: 'no QuayIntegration' } }),
    );
  });

  it('allows a Build unchanged with a warning when the QuayIntegration is unusable', async () => {
    const a = await sendReview(review(build()), {
      view: { _tag: 'Invalid', message: 'spec.quayHostname "::" is not a URL', lists: undefined },
    });
    expect(a.response?.allowed).to.equal(true);
    expect(a.response?.patch).to.equal(undefined);
    expect(a.response?.warnings).to.deep.equal([
      'quay-bridge: spec.quayHostname "::" is not a URL; Build team-a/app-1 was not redirected to Quay',
    ]);
  });

  it('allows an output to an unmanaged namespace unchanged, with a warning', async () => {
    const a = await sendReview(
      review(build({ to: { kind: 'ImageStreamTag', name: 'app:v1', namespace: 'openshift' } })),
    );
    expect(a.response?.allowed).to.equal(true);
    expect(a.response?.patch).to.equal(undefined);
    expect(a.response?.warnings).to.have.length(1);
  });
});

describe('build webhook: denials', () => {
  it("denies a CREATE whose builder Secret does not exist, with QBO's text", async () => {
    const a = await sendReview(review(build()), { secret: absent });
    expect(a.status).to.equal(200);
    expect(a.response?.allowed).to.equal(false);
    const status = a.response?.status as { code: number; message: string };
    expect(status.code).to.equal(403);
    expect(status.message).to.match(/^The builder service account has not been provisioned with secrets yet/);
    expect(status.message).to.include('team-a/builder-quay-openshift');
  });

  it('redirects anyway, with a warning, when the Secret check itself fails', async () => {
    const a = await sendReview(review(build()), {
      secret: { _tag: 'Unknown', message: 'timeout after 2000 ms' },
    });
    expect(a.response?.allowed).to.equal(true);
    expect(a.response?.patchType).to.equal('JSONPatch');
    expect((a.response?.warnings as string[])[0]).to.include('timeout after 2000 ms');
  });

  it("denies an output to another managed namespace's ImageStream: this builder robot cannot push there", async () => {
    const a = await sendReview(
      review(build({ to: { kind: 'ImageStreamTag', name: 'app:v1', namespace: 'team-b' } })),
    );
    expect(a.response?.allowed).to.equal(false);
    const status = a.response?.status as { code: number; message: string };
    expect(status.code).to.equal(403);
    expect(status.message).to.include('team-b/app:v1');
    expect(status.message).to.include('no rights in the Quay organization of namespace team-b');
    expect(a.secretChecks).to.deep.equal([]);
  });

  for (const name of ['app:v1:extra', ':v1', 'app:', 'app@sha256:abc']) {
    it(`denies the malformed ImageStreamTag name "${name}" with a reason`, async () => {
      const a = await sendReview(review(build({ to: { kind: 'ImageStreamTag', name } })));
      expect(a.response?.allowed).to.equal(false);
      const status = a.response?.status as { code: number; message: string };
      expect(status.code).to.equal(400);
      expect(status.message).to.match(/^spec\.output\.to: ImageStreamTag name /);
    });
  }

  it('denies when the namespace cannot name a Quay organization', async () => {
    const long = 'x'.repeat(250);
    const a = await sendReview(review(build(), { namespace: long }));
    expect(a.response?.allowed).to.equal(false);
    expect((a.response?.status as { message: string }).message).to.include('is not a valid Quay name');
  });

  it('answers a review whose object is not a Build with a 400 inside the AdmissionReview', async () => {
    const a = await sendReview(review({ metadata: 'nope' }));
    expect(a.status).to.equal(200);
    expect(a.response?.allowed).to.equal(false);
    const status = a.response?.status as { code: number; message: string };
    expect(status.code).to.equal(400);
    expect(status.message).to.equal(
      `the AdmissionReview's object is not a Build: metadata: expected ObjectMeta, got "nope"`,
    );
  });

  it('refuses while the settings are still loading', async () => {
    const a = await sendReview(review(build()), { view: { _tag: 'Loading' } });
    expect(a.response?.allowed).to.equal(false);
    expect((a.response?.status as { code: number }).code).to.equal(503);
  });

  it('never checks anything for a kind other than Build', async () => {
    const a = await sendReview(review({ metadata: {} }, { kind: { group: '', version: 'v1', kind: 'Pod' } }));
    expect(a.response?.allowed).to.equal(true);
    expect(a.secretChecks).to.deep.equal([]);
  });
});
