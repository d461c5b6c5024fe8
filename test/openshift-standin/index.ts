// The OpenShift stand-in for integration tests: see README.md.
import { readFileSync } from 'node:fs';
import { issueCertificate } from '../harness/index.js';
import type { WebhookTls } from './import-webhook.js';

export { OpenShiftStandIn, type OpenShiftStandInOptions } from './stand-in.js';
export { outcomeAnnotation, type BuildPhase } from './build-phases.js';
export { buildImageDigest, parseImageRef } from './image-ref.js';
export { webhookConfigurationName, type WebhookTls } from './import-webhook.js';
export { dockercfgSecretName, integratedRegistryHost, projectServiceAccounts } from './service-accounts.js';

/** A serving certificate for the stand-in's webhook, issued by the control plane's CA (`ControlPlane.pki`). */
export const webhookTlsFor = (pki: { readonly dir: string; readonly caPem: string }): WebhookTls => {
  const { cert, key } = issueCertificate(pki.dir, 'openshift-standin-webhook', '/CN=openshift-standin', {
    san: 'IP:127.0.0.1',
    serverAuth: true,
  });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8'), caBundle: pki.caPem };
};
