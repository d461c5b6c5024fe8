import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeObjectEvent } from '../../../shared/events/envelope.js';
import { ServiceAccount } from '../../../shared/kube/objects.js';

const decodeSa = decodeObjectEvent([{ kind: 'ServiceAccount', group: '', codec: ServiceAccount }]);

const event = (name: string, namespace: string) => ({
  id: 'e1',
  type: 'dev.knative.apiserver.ref.update',
  source: 'https://127.0.0.1:6443',
  kind: 'ServiceAccount',
  apiversion: 'v1',
  name,
  namespace,
});

describe('ApiServerSource event names', () => {
  const poison: ReadonlyArray<[string, string, string]> = [
    ['..', 'team-a', 'name'],
    ['trailing-', 'team-a', 'name'],
    ['Upper', 'team-a', 'name'],
    ['a'.repeat(254), 'team-a', 'name'],
    ['builder', '../etc', 'namespace'],
    ['builder', 'a.b', 'namespace'],
    ['builder', 'n'.repeat(64), 'namespace'],
  ];
  for (const [name, namespace, field] of poison) {
    it(`refuses an event naming ${JSON.stringify(name.slice(0, 20))} in ${JSON.stringify(namespace.slice(0, 20))}: no real object is named so`, () => {
      const d = decodeSa(event(name, namespace));
      expect(E.isLeft(d) && d.left.message).to.match(
        new RegExp(`^the ApiServerSource extensions does not decode: ${field}: expected a DNS-1123`),
      );
    });
  }

  it('accepts dotted names and cluster-scoped events', () => {
    expect(E.isRight(decodeSa(event('builder.v2', 'team-a')))).to.be.true;
    expect(E.isRight(decodeSa(event('builder', '')))).to.be.true;
  });
});
