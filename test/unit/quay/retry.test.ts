import { expect } from 'chai';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from '../../../shared/quay/retry.js';

describe('Quay retry policy', () => {
  describe('isRetryableStatus', () => {
    const cases: ReadonlyArray<[number, boolean]> = [
      [429, true],
      [500, true],
      [502, true],
      [503, true],
      [504, true],
      [520, true], // Quay's DownstreamIssue
      [400, false],
      [401, false],
      [403, false],
      [404, false],
      [405, false],
      [409, false],
      [200, false],
      [308, false],
    ];
    for (const [status, expected] of cases)
      it(`${expected ? 'retries' : 'does not retry'} ${status}`, () => {
        expect(isRetryableStatus(status)).to.equal(expected);
      });
  });

  describe('isRetryableNetworkError', () => {
    const cases: ReadonlyArray<[string, { code?: string; name: string; message: string }, boolean]> = [
      ['a reset connection', { code: 'ECONNRESET', name: 'RequestError', message: 'read ECONNRESET' }, true],
      [
        'a refused connection',
        { code: 'ECONNREFUSED', name: 'RequestError', message: 'connect ECONNREFUSED' },
        true,
      ],
      ['a socket hang up', { code: 'ECONNRESET', name: 'RequestError', message: 'socket hang up' }, true],
      ['a socket hang up without a code', { name: 'RequestError', message: 'socket hang up' }, true],
      [
        'a got timeout',
        { code: 'ETIMEDOUT', name: 'TimeoutError', message: "Timeout awaiting 'request'" },
        true,
      ],
      [
        'a body cut off',
        { code: 'ERR_STREAM_PREMATURE_CLOSE', name: 'ReadError', message: 'Premature close' },
        true,
      ],
      [
        'a temporary DNS failure',
        { code: 'EAI_AGAIN', name: 'RequestError', message: 'getaddrinfo EAI_AGAIN' },
        true,
      ],
      [
        'an unknown host',
        { code: 'ENOTFOUND', name: 'RequestError', message: 'getaddrinfo ENOTFOUND' },
        false,
      ],
      [
        'an untrusted certificate',
        { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', name: 'RequestError', message: 'self-signed certificate' },
        false,
      ],
      [
        'a certificate for another host',
        { code: 'ERR_TLS_CERT_ALTNAME_INVALID', name: 'RequestError', message: 'Hostname/IP does not match' },
        false,
      ],
      [
        'too many redirects',
        { code: 'ERR_TOO_MANY_REDIRECTS', name: 'MaxRedirectsError', message: 'Redirected' },
        false,
      ],
    ];
    for (const [name, error, expected] of cases)
      it(`${expected ? 'retries' : 'does not retry'} ${name}`, () => {
        expect(isRetryableNetworkError(error)).to.equal(expected);
      });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('Wed, 25 Nov 2026 08:04:15 GMT');
    const cases: ReadonlyArray<[string, string | undefined, number | undefined]> = [
      ['delay-seconds', '3', 3_000],
      ['zero seconds', '0', 0],
      ['seconds with spaces around', ' 7 ', 7_000],
      ['an HTTP-date in the future', 'Wed, 25 Nov 2026 08:04:25 GMT', 10_000],
      ['an HTTP-date in the past, as now', 'Wed, 25 Nov 2026 08:00:00 GMT', 0],
      ['no header', undefined, undefined],
      ['a fraction, which HTTP does not allow', '1.5', undefined],
      ['a negative number', '-5', undefined],
      ['digits as seconds even when Date.parse would read a year', '2026', 2_026_000],
      ['garbage', 'soon', undefined],
      ['a weekday without a date', 'Wed, whenever', undefined],
    ];
    for (const [name, header, expected] of cases)
      it(`reads ${name}`, () => {
        expect(parseRetryAfter(header, now)).to.equal(expected);
      });
  });

  describe('backoffDelay (full jitter)', () => {
    const policy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };
    const cases: ReadonlyArray<[number, number, number]> = [
      // [failed attempt, random, delay]
      [1, 0, 0],
      [1, 0.5, 50],
      [1, 0.999, 99],
      [2, 0.5, 100],
      [3, 0.5, 200],
      [4, 0.5, 400],
      [5, 0.5, 500], // ceiling 1600 capped at 1000
      [5, 0.999, 999],
      [20, 0.999, 999],
    ];
    for (const [attempt, random, expected] of cases)
      it(`waits ${expected} ms after attempt ${attempt} with random ${random}`, () => {
        expect(backoffDelay(policy, attempt, () => random)).to.equal(expected);
      });

    it('never goes past the ceiling even if the random source misbehaves', () => {
      expect(backoffDelay(policy, 1, () => 7)).to.equal(100);
      expect(backoffDelay(policy, 1, () => -1)).to.equal(0);
    });
  });

  describe('retryDelay', () => {
    const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };
    it('honours Retry-After over backoff', () => {
      expect(retryDelay(policy, 1, 1_500, () => 0)).to.equal(1_500);
    });
    it('caps Retry-After at maxDelay', () => {
      expect(retryDelay(policy, 1, 60_000, () => 0)).to.equal(2_000);
    });
    it('honours a Retry-After of zero', () => {
      expect(retryDelay(policy, 3, 0, () => 0.9)).to.equal(0);
    });
    it('falls back to backoff without Retry-After', () => {
      expect(retryDelay(policy, 2, undefined, () => 0.5)).to.equal(100);
    });
  });

  it('by default tries four times and waits at most 5 s between tries', () => {
    expect(DEFAULT_RETRY_POLICY).to.deep.equal({ attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 });
  });
});
