import { expect } from 'chai';
import {
  backoffMs,
  classify,
  deliveryProblems,
  parseIsoDuration,
  retryAfterMs,
  type Verdict,
} from '../../event-path/delivery.js';

describe('delivery semantics (Knative retries and dead letters)', () => {
  describe('classify: what the broker does with an answer', () => {
    const cases: readonly [number | undefined, Verdict][] = [
      [200, 'done'],
      [202, 'done'],
      [204, 'done'],
      [299, 'done'],
      [500, 'retry'],
      [502, 'retry'],
      [503, 'retry'],
      [404, 'retry'],
      [408, 'retry'],
      [409, 'retry'],
      [429, 'retry'],
      [undefined, 'retry'], // no answer: connection refused, timeout
      [400, 'give-up'],
      [401, 'give-up'],
      [403, 'give-up'],
      [410, 'give-up'],
      [422, 'give-up'],
      [301, 'give-up'],
      [304, 'give-up'],
    ];
    for (const [status, verdict] of cases)
      it(`${status ?? 'no answer'} → ${verdict}`, () => {
        expect(classify(status)).to.equal(verdict);
      });
  });

  describe('parseIsoDuration', () => {
    const cases: readonly [string, number | undefined][] = [
      ['PT0.5S', 500],
      ['PT10S', 10_000],
      ['PT1M30S', 90_000],
      ['PT2H', 7_200_000],
      ['P1D', 86_400_000],
      ['P1DT1S', 86_401_000],
      ['PT0,25S', 250],
      ['P', undefined],
      ['PT', undefined],
      ['0.5s', undefined],
      ['PT-1S', undefined],
      ['', undefined],
    ];
    for (const [text, ms] of cases)
      it(`${JSON.stringify(text)} → ${ms ?? 'invalid'}`, () => {
        expect(parseIsoDuration(text)).to.equal(ms);
      });
  });

  describe('backoffMs', () => {
    it('doubles from the delay with the exponential policy', () => {
      const spec = { backoffPolicy: 'exponential', backoffDelay: 'PT0.5S' } as const;
      expect([0, 1, 2, 3, 9].map((n) => backoffMs(spec, n))).to.deep.equal([500, 1000, 2000, 4000, 256_000]);
    });

    it('grows linearly with the linear policy (Knative waits nothing before the first retry)', () => {
      const spec = { backoffPolicy: 'linear', backoffDelay: 'PT2S' } as const;
      expect([0, 1, 2].map((n) => backoffMs(spec, n))).to.deep.equal([0, 2000, 4000]);
    });

    it('retries at once unless both the policy and the delay are set', () => {
      expect(backoffMs({ backoffDelay: 'PT1S' }, 3)).to.equal(0);
      expect(backoffMs({ backoffPolicy: 'exponential' }, 3)).to.equal(0);
    });
  });

  describe('retryAfterMs', () => {
    it('ignores Retry-After unless retryAfterMax is set (Knative feature flag)', () => {
      expect(retryAfterMs({}, 429, '5')).to.equal(0);
    });

    it('honours it for 429 and 503, capped by retryAfterMax', () => {
      expect(retryAfterMs({ retryAfterMax: 'PT10S' }, 429, '5')).to.equal(5000);
      expect(retryAfterMs({ retryAfterMax: 'PT10S' }, 503, '60')).to.equal(10_000);
      expect(retryAfterMs({ retryAfterMax: 'PT10S' }, 500, '5')).to.equal(0);
    });
  });

  describe('deliveryProblems', () => {
    it('accepts the quay-bridge delivery block', () => {
      expect(
        deliveryProblems(
          {
            retry: 10,
            backoffPolicy: 'exponential',
            backoffDelay: 'PT0.5S',
            deadLetterSink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'dlq' } },
          },
          'spec.delivery',
        ),
      ).to.deep.equal([]);
    });

    it('names what Knative refuses with its default feature flags', () => {
      expect(
        deliveryProblems(
          { retry: -1, backoffDelay: '500ms', timeout: 'PT1S', retryAfterMax: 'PT1S' },
          'spec.delivery',
        ),
      ).to.deep.equal([
        'spec.delivery.retry: must be a whole number ≥ 0',
        'spec.delivery.backoffDelay: "500ms" is not an ISO 8601 duration',
        "spec.delivery.timeout: needs Knative's delivery-timeout feature flag",
        "spec.delivery.retryAfterMax: needs Knative's delivery-retryafter feature flag",
      ]);
    });
  });
});
