import { expect } from 'chai';
import { renderInstall } from '../../event-path/manifests.js';

interface KnativeService {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly template: {
      readonly metadata?: { readonly annotations?: Record<string, string> };
      readonly spec: {
        readonly containers: readonly { readonly ports?: readonly { containerPort: number }[] }[];
      };
    };
  };
}

describe('the install asks Prometheus to scrape every step and the webhook', () => {
  const services = renderInstall().filter(
    (o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1',
  );

  it('annotates each Knative Service with the port its container serves /metrics on', () => {
    expect(services.length).to.be.greaterThan(6);
    const scrape = (services as unknown as KnativeService[]).map((s) => {
      const a = s.spec.template.metadata?.annotations ?? {};
      return {
        name: s.metadata.name,
        scrape: a['prometheus.io/scrape'],
        port: a['prometheus.io/port'],
        path: a['prometheus.io/path'],
      };
    });
    const wanted = (services as unknown as KnativeService[]).map((s) => ({
      name: s.metadata.name,
      scrape: 'true',
      port: String(s.spec.template.spec.containers[0]?.ports?.[0]?.containerPort),
      path: '/metrics',
    }));
    expect(scrape).to.deep.equal(wanted);
  });
});
