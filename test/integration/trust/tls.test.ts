// TLS of Quay's API, whose calls carry the organization-admin token: a Quay (or anyone in between) presenting a
// certificate nobody trusts gets no request, hence no token, even with QBO's `insecureRegistry: true` (which is for
// image imports and pulls). Only the explicit `insecureSkipTLSVerifyAPI` turns the check off — the weakened setting
// under which the token is sent. Real API server for the QuayIntegration and its Secret, an HTTPS Quay emulator with
// a self-signed certificate, the production settings source and Quay client.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import { createSettingsSource } from '../../../shared/settings/load.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { sharedControlPlane } from '../../harness/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { configureIntegration, INTEGRATION, removeIntegration } from '../../support/world.js';
import { selfSignedCertificate } from '../quay-client/tls.js';
import { ok } from './tenant.js';

describe("hostile network: Quay's API certificate is checked unless the API setting says otherwise", function () {
  this.timeout(120_000);
  let rest: KubeRest | undefined;
  let quay: QuayEmulator | undefined;

  before(async () => {
    const cp = await sharedControlPlane();
    rest = await kubeRest(cp.kubeConfig);
    quay = await startQuayEmulator({ seed: 11, tls: selfSignedCertificate() });
    // The shared fixture sets insecureRegistry: true, as QBO installs against a self-signed Quay do.
    await configureIntegration(rest, quay);
  });

  after(async () => {
    if (rest !== undefined) await removeIntegration(rest);
    await quay?.close();
  });

  const settings = async () => {
    const cp = await sharedControlPlane();
    const kube = createKubeClient(cp.kubeConfig, { fieldManager: 'quay-bridge' });
    return createSettingsSource({
      kube,
      ttlMs: 0,
      makeQuay: (p) =>
        createQuayClient({
          apiUrl: p.apiUrl,
          token: p.token,
          insecure: p.insecure,
          retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
        }),
    });
  };
  const setApiTls = async (insecureSkipTLSVerifyAPI: boolean | null) => {
    ok(
      'patch the QuayIntegration',
      await rest!.request(
        'PATCH',
        `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}`,
        { spec: { insecureRegistry: true, insecureSkipTLSVerifyAPI } },
        'application/merge-patch+json',
      ),
    );
  };

  it('weakened (insecureSkipTLSVerifyAPI: true, what insecureRegistry meant before): the token goes to the untrusted endpoint', async () => {
    await setApiTls(true);
    const configured = await (await settings()).configured()();
    expect(E.isRight(configured) && configured.right.user.username).to.equal('quayadmin');
    expect(quay!.totalRequests()).to.be.greaterThan(0);
  });

  it('insecureRegistry alone: no request reaches the untrusted endpoint, and the reason says why', async () => {
    quay!.resetCounts();
    await setApiTls(null);
    const configured = await (await settings()).configured()();
    expect(E.isLeft(configured) && configured.left._tag).to.equal('QuayUnreachable');
    expect(E.isLeft(configured) && 'message' in configured.left && configured.left.message).to.match(
      /self[- ]signed certificate/i,
    );
    expect(quay!.totalRequests()).to.equal(0);
  });
});
