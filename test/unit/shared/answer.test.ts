import { expect } from 'chai';
import { answerOf, answerOfError } from '../../../shared/answer.js';
import type { SyncError } from '../../../shared/errors.js';
import { httpAnswerOf } from '../../../shared/runtime/handler.js';
import { formatLine } from '../../../shared/log.js';

// The broker's contract (docs/design.md#event-delivery): 2xx done; 5xx, 404, 408, 409, 429 retried; any other 4xx dead-lettered.
const retried = (s: number) => s >= 500 || [404, 408, 409, 429].includes(s);

describe('answers to the broker', () => {
  const table: readonly [SyncError, number, 'done' | 'retried' | 'dead-lettered'][] = [
    [{ _tag: 'BadEvent', message: 'x' }, 422, 'dead-lettered'],
    [{ _tag: 'InvalidName', message: 'x' }, 422, 'dead-lettered'],
    [{ _tag: 'NotConfigured', reason: 'NoQuayIntegration', message: 'x' }, 204, 'done'],
    [{ _tag: 'QuayUnreachable', message: 'x' }, 503, 'retried'],
    [{ _tag: 'QuayUnavailable', status: 502, message: 'x' }, 503, 'retried'],
    [{ _tag: 'QuayRateLimited', retryAfterSeconds: 7 }, 429, 'retried'],
    [{ _tag: 'QuayAuthFailed', status: 401, message: 'x' }, 503, 'retried'],
    [{ _tag: 'QuayRejected', status: 400, message: 'Username is not available' }, 502, 'retried'],
    [{ _tag: 'QuayResponseInvalid', status: 200, message: 'x' }, 502, 'retried'],
    [{ _tag: 'KubeUnavailable', status: undefined, message: 'x' }, 503, 'retried'],
    [{ _tag: 'KubeUnavailable', status: 429, message: 'x', retryAfterSeconds: 2 }, 429, 'retried'],
    [{ _tag: 'KubeConflict', message: 'x' }, 409, 'retried'],
    [{ _tag: 'KubeNotFound', message: 'x' }, 404, 'retried'],
    [{ _tag: 'KubeNotServed', message: 'x' }, 204, 'done'],
    [{ _tag: 'KubeForbidden', status: 403, message: 'x' }, 500, 'retried'],
    [{ _tag: 'KubeRejected', status: 422, message: 'x' }, 500, 'retried'],
    [{ _tag: 'KubeResponseInvalid', message: 'x' }, 502, 'retried'],
  ];
  for (const [error, status, fate] of table)
    it(`${error._tag} → ${status} (${fate})`, () => {
      const a = answerOfError(error);
      expect(a.status).to.equal(status);
      const actual = a.status < 300 ? 'done' : retried(a.status) ? 'retried' : 'dead-lettered';
      expect(actual).to.equal(fate);
    });

  it('sends Retry-After with a rate limit', () => {
    expect(httpAnswerOf(answerOfError({ _tag: 'QuayRateLimited', retryAfterSeconds: 7 })).headers).to.include(
      { 'retry-after': '7' },
    );
  });

  it('never sends a body with a 2xx (the broker would turn it into a 502)', () => {
    for (const o of ['created', 'updated', 'unchanged', 'deleted', 'ignored'] as const)
      expect(httpAnswerOf(answerOf(o))).to.deep.include({ statusCode: 204, body: '' });
    expect(httpAnswerOf(answerOfError({ _tag: 'NotConfigured', reason: 'r', message: 'why' })).body).to.equal(
      '',
    );
  });

  it('says why in the body of a 4xx or 5xx', () => {
    expect(
      httpAnswerOf(answerOfError({ _tag: 'InvalidName', message: 'organization "x" is too long' })).body,
    ).to.equal('InvalidName: organization "x" is too long');
  });

  it('masks token-shaped fields in log lines', () => {
    const line = JSON.parse(
      formatLine(
        'info',
        'm',
        { token: 'SECRET', nested: { password: 'P', auth: 'A' }, outcome: 'ok' },
        new Date(0),
      ),
    ) as Record<string, unknown>;
    expect(line).to.deep.include({
      token: '[redacted]',
      nested: { password: '[redacted]', auth: '[redacted]' },
      outcome: 'ok',
    });
  });
});
