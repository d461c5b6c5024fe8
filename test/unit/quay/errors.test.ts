import { expect } from 'chai';
import { answerOfError } from '../../../shared/answer.js';
import {
  answered,
  classifyRejection,
  describeBody,
  failureOf,
  isCsrfRejection,
  quayMessage,
  redactError,
} from '../../../shared/quay/errors.js';
import { golden, response } from './golden.js';
import type { QuayResponse } from '../../../shared/quay/request.js';

const HTML_500 =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n';

describe('Quay error bodies', () => {
  describe('quayMessage reads all five shapes', () => {
    it('shape A (ApiException): the detail', () => {
      expect(quayMessage(golden('create robot again').body)).to.equal(
        'Existing robot with name: demo+builder',
      );
    });
    it('shape B (DataModelException): the message', () => {
      expect(quayMessage(golden('get missing robot').body)).to.equal(
        'Could not find robot with specified username',
      );
    });
    it('shape C (Flask-RESTful abort): the message', () => {
      expect(quayMessage(golden('wrong method').body)).to.equal(
        'The method is not allowed for the requested URL.',
      );
    });
    it('shape D (util.http.abort, labelled text/html): the error', () => {
      const res = golden('expired token PUT (CSRF check fires)');
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(quayMessage(res.body)).to.equal('CSRF token was invalid or missing.');
    });
    it('shape E (Werkzeug HTML page): none, and describeBody says what it was', () => {
      const res = response(500, HTML_500, { 'content-type': 'text/html; charset=utf-8' });
      expect(quayMessage(res.body)).to.equal(undefined);
      expect(describeBody(res)).to.equal('an HTML page');
    });
  });

  describe('quayMessage order and cleaning', () => {
    const cases: ReadonlyArray<[string, unknown, string | undefined]> = [
      ['detail before everything', { error: 'e', message: 'm', error_message: 'em', detail: 'd' }, 'd'],
      ['error_message before message and error', { error: 'e', message: 'm', error_message: 'em' }, 'em'],
      ['message before error', { error: 'e', message: 'm' }, 'm'],
      ['error last', { error: 'e' }, 'e'],
      ['an empty detail is skipped', { detail: '  ', message: 'm' }, 'm'],
      ['a non-string detail is skipped', { detail: { nested: true }, message: 'm' }, 'm'],
      ['error_description alone is not read', { error_description: 'x' }, undefined],
      ['an array body has none', ['detail'], undefined],
      ['a JSON string body has none', 'Created', undefined],
      ['null has none', null, undefined],
    ];
    for (const [name, body, expected] of cases)
      it(name, () => {
        expect(quayMessage(body)).to.equal(expected);
      });

    it('keeps only the first line of a jsonschema failure', () => {
      const res = golden('create org missing name');
      expect((res.body as { detail: string }).detail).to.include('\n');
      expect(quayMessage(res.body)).to.equal("'name' is a required property");
    });

    it('cuts a very long message', () => {
      const message = quayMessage({ detail: 'x'.repeat(1000) });
      expect(message).to.have.length(301);
      expect(message?.endsWith('…')).to.equal(true);
    });
  });

  describe('describeBody without a Quay message', () => {
    it('names an empty body', () => {
      expect(describeBody(response(502, ''))).to.equal('an empty body');
    });
    it('names an HTML body even without a Content-Type', () => {
      expect(describeBody(response(429, '<html><body>429 Too Many Requests</body></html>', {}))).to.equal(
        'an HTML page',
      );
    });
    it('quotes a one-line plain-text body', () => {
      expect(
        describeBody(response(429, 'Too many login attempts', { 'content-type': 'text/plain' })),
      ).to.equal('Too many login attempts');
    });
    it('only measures other bodies', () => {
      expect(describeBody(response(502, 'a\nb', { 'content-type': 'text/plain' }))).to.equal(
        'a text/plain body of 3 characters',
      );
    });
  });

  describe('isCsrfRejection', () => {
    it('is true for the CSRF 403 of a write with an expired token', () => {
      expect(isCsrfRejection(golden('expired token PUT (CSRF check fires)'))).to.equal(true);
    });
    it('is true for the CSRF 403 of a write with no token', () => {
      expect(isCsrfRejection(golden('no token PUT (CSRF check fires)'))).to.equal(true);
    });
    it('is false for a permission 403', () => {
      expect(isCsrfRejection(golden('create robot in missing org'))).to.equal(false);
    });
  });

  describe('answered', () => {
    it('matches status and message', () => {
      expect(answered(golden('create repo again'), 400, /repository already exists/i)).to.equal(true);
    });
    it('does not match another status with the same message', () => {
      expect(answered({ ...golden('create repo again'), status: 409 }, 400, /already exists/i)).to.equal(
        false,
      );
    });
  });

  describe('failureOf', () => {
    const at = { method: 'PUT' as const, path: '/api/v1/organization/demo/robots/zz' };
    it('maps 401 to QuayAuthFailed', () => {
      expect(failureOf({ ...golden('expired token GET'), ...at })).to.deep.equal({
        _tag: 'QuayAuthFailed',
        status: 401,
        message:
          'Quay did not accept the token (401 to PUT /api/v1/organization/demo/robots/zz: Requires authentication)',
      });
    });
    it('maps the CSRF 403 to QuayAuthFailed', () => {
      const e = failureOf({ ...golden('expired token PUT (CSRF check fires)'), ...at });
      expect(e._tag).to.equal('QuayAuthFailed');
      expect(e).to.include({ status: 403 });
    });
    it('maps a permission 403 to QuayRejected with Quay message', () => {
      expect(failureOf(golden('create robot in missing org'))).to.deep.equal({
        _tag: 'QuayRejected',
        status: 403,
        message: 'Unauthorized',
      });
    });
    it('maps 400 "Username is not available" to QuayRejected with that message', () => {
      expect(failureOf(golden('recreate deleted org before namespace GC ran'))).to.deep.equal({
        _tag: 'QuayRejected',
        status: 400,
        message: 'Username is not available',
      });
    });
    it('maps 429 to QuayRateLimited with Retry-After rounded up to seconds', () => {
      expect(failureOf(response(429, '<html></html>'), { retryAfterMs: 1_200 })).to.deep.equal({
        _tag: 'QuayRateLimited',
        retryAfterSeconds: 2,
      });
      expect(failureOf(response(429, '<html></html>'))).to.deep.equal({
        _tag: 'QuayRateLimited',
        retryAfterSeconds: undefined,
      });
    });
    it('maps 5xx to QuayUnavailable naming the attempts', () => {
      expect(failureOf({ ...response(503, ''), ...at }, { attempts: 4 })).to.deep.equal({
        _tag: 'QuayUnavailable',
        status: 503,
        message:
          'Quay answered 503 to PUT /api/v1/organization/demo/robots/zz after 4 attempts: an empty body',
      });
    });
    it('maps an unexpected 2xx or 3xx to QuayResponseInvalid', () => {
      expect(failureOf({ ...golden('no trailing slash -> 308 redirect'), ...at })).to.deep.equal({
        _tag: 'QuayResponseInvalid',
        status: 308,
        message: 'unexpected 308 to PUT /api/v1/organization/demo/robots/zz: an HTML page',
      });
    });
  });

  describe('what the broker does with each refusal (docs/design.md#event-delivery: 5xx, 404, 408, 409, 429 retried; other 4xx dead-lettered)', () => {
    const problem = (status: number, detail: string, type = 'invalid_request'): QuayResponse =>
      response(status, JSON.stringify({ detail, error_message: detail, error_type: type, status }));
    // [Quay's answer, the error it becomes, the status the step answers, what the broker does]
    const table: readonly (readonly [string, QuayResponse, string, number, 'retried' | 'dead-lettered'])[] = [
      [
        '400 invalid organization name',
        golden('create org invalid name (uppercase/underscore)'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '400 organization name too short',
        golden('create org too short'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      ['400 invalid email', golden('create org invalid email'), 'QuayRejected', 422, 'dead-lettered'],
      ['400 invalid robot name', golden('create robot invalid name'), 'QuayRejected', 422, 'dead-lettered'],
      [
        '400 invalid repository name',
        golden('create repo invalid name'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      ['400 jsonschema failure', golden('create prototype bad role'), 'QuayRejected', 422, 'dead-lettered'],
      [
        '400 robot of another namespace',
        golden('grant robot of another namespace'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '400 robots disabled',
        problem(400, 'Robot accounts have been disabled. Please contact your administrator.'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '400 name of a deleted organization, held until GC',
        golden('recreate deleted org before namespace GC ran'),
        'QuayRejected',
        502,
        'retried',
      ],
      [
        '400 prototype for a robot deleted meanwhile',
        golden('create prototype unknown user'),
        'QuayRejected',
        502,
        'retried',
      ],
      ['400 robot deleted meanwhile', golden('regenerate missing robot'), 'QuayRejected', 502, 'retried'],
      [
        '400 organization deleted meanwhile (superuser full access)',
        response(400, '{"message": "Organization does not exist: demo"}'),
        'QuayRejected',
        502,
        'retried',
      ],
      [
        '401 token missing, invalid or expired',
        golden('expired token GET'),
        'QuayAuthFailed',
        503,
        'retried',
      ],
      [
        '402 payment required',
        problem(402, 'Payment Required', 'exceeds_license'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '403 CSRF (a bad token on a write)',
        golden('expired token PUT (CSRF check fires)'),
        'QuayAuthFailed',
        503,
        'retried',
      ],
      [
        '403 not allowed (an organization the token does not administer)',
        golden('create repo in org without permission'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '403 missing scope or permission',
        golden('create robot in missing org'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      ['404 not found', golden('delete prototype again'), 'QuayRejected', 502, 'retried'],
      ['405 wrong method', golden('wrong method'), 'QuayRejected', 422, 'dead-lettered'],
      ['408 request timeout', response(408, ''), 'QuayRejected', 502, 'retried'],
      [
        '409 tag immutable',
        problem(409, 'Tag is immutable', 'tag_immutable'),
        'QuayRejected',
        502,
        'retried',
      ],
      [
        '413 body too large',
        response(413, '<html>Request Entity Too Large</html>'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '415 not JSON',
        response(415, '{"message": "Did not attempt to load JSON data"}'),
        'QuayRejected',
        422,
        'dead-lettered',
      ],
      [
        '429 rate limited',
        response(429, '<html>429</html>', { 'content-type': 'text/html' }),
        'QuayRateLimited',
        429,
        'retried',
      ],
      [
        '500 server error',
        response(500, HTML_500, { 'content-type': 'text/html' }),
        'QuayUnavailable',
        503,
        'retried',
      ],
      [
        '503 read-only',
        response(503, '{"message": "System is currently read-only.", "is_readonly": true}'),
        'QuayUnavailable',
        503,
        'retried',
      ],
      [
        '520 downstream issue',
        problem(520, 'Downstream issue', 'downstream_issue'),
        'QuayUnavailable',
        503,
        'retried',
      ],
    ];
    const brokerRetries = (status: number) => status >= 500 || [404, 408, 409, 429].includes(status);
    for (const [what, res, tag, status, fate] of table)
      it(`${what} → ${tag} → ${status} (${fate})`, () => {
        const error = failureOf({ ...res, method: 'POST', path: '/api/v1/x' });
        expect(error._tag).to.equal(tag);
        const answer = answerOfError(error);
        expect(answer.status).to.equal(status);
        expect(brokerRetries(answer.status) ? 'retried' : 'dead-lettered').to.equal(fate);
      });

    it('says why a refusal is not retried, for the dead-letter log', () => {
      const answer = answerOfError(failureOf(golden('create repo in org without permission')));
      expect(answer).to.deep.include({ status: 422, outcome: 'rejected' });
      expect(answer.message).to.equal(
        "QuayRejected (HTTP 403): Unauthorized; not retried: the token's user may not do this here (an organization it does not administer, or a missing scope)",
      );
    });

    it('classifies by status alone outside 400, whatever the message', () => {
      expect(classifyRejection(403, 'Username is not available').retry).to.equal(false);
      expect(classifyRejection(404, 'Invalid namespace').retry).to.equal(true);
    });
  });

  describe('redactError', () => {
    const secret = 'SECRETSECRETSECRETSECRETSECRETSECRET1234';
    it('replaces every occurrence of the secret', () => {
      expect(
        redactError(secret)({ _tag: 'QuayRejected', status: 400, message: `bad ${secret} and ${secret}` }),
      ).to.deep.equal({ _tag: 'QuayRejected', status: 400, message: 'bad [token] and [token]' });
    });
    it('leaves other messages as they are', () => {
      const e = { _tag: 'QuayUnreachable', message: 'connect ECONNREFUSED' } as const;
      expect(redactError(secret)(e)).to.equal(e);
    });
  });
});
