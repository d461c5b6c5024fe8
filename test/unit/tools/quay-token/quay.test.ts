// quay-token reads Quay's answers as a real Quay gives them: each interpretation is fed the recorded answer
// (test/fixtures/quay/signin-oauth-exchanges.json) of the situation it must recognise.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { describe as describeError, type TokenError } from '../../../../tools/quay-token/errors.js';
import {
  interpretApplications,
  interpretAuthorize,
  interpretConsent,
  interpretCsrfToken,
  interpretInitialize,
  interpretOrganization,
  interpretSignin,
  interpretTokenCheck,
} from '../../../../tools/quay-token/quay.js';
import { BRIDGE_SCOPE_STRING } from '../../../../tools/quay-token/scopes.js';
import type { WebResponse } from '../../../../tools/quay-token/web.js';

interface Exchange {
  readonly note: string;
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: unknown;
  };
}

const recording = JSON.parse(
  readFileSync(new URL('../../../fixtures/quay/signin-oauth-exchanges.json', import.meta.url), 'utf8'),
) as { readonly exchanges: readonly Exchange[] };

/** Recorded answer N, as the command's HTTP layer hands it over. */
const answer = (n: number): WebResponse => {
  const r = recording.exchanges[n]?.response;
  if (r === undefined) throw new Error(`no exchange ${n}`);
  const text = typeof r.body === 'string' ? r.body : r.body === null ? '' : JSON.stringify(r.body);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
};

const left = <A>(e: E.Either<TokenError, A>): TokenError => {
  if (E.isRight(e)) throw new Error(`expected a refusal, got ${JSON.stringify(e.right)}`);
  return e.left;
};

const URL_ = 'http://127.0.0.1:18480';

describe('quay-token: reading the recorded answers of a real Quay', () => {
  it('asks for exactly the seven scopes, none of them super:user', () => {
    expect(BRIDGE_SCOPE_STRING).to.equal(
      'org:admin repo:admin repo:create repo:read repo:write user:admin user:read',
    );
  });

  it('initialize: the token (#1), a non-empty database (#3, #4), a refused password (#0), no such route', () => {
    expect(interpretInitialize(URL_, answer(1))).to.deep.equal(
      E.right({ token: 'FAKEINITTOKEN18170A30F03972410265707C04D' }),
    );
    expect(left(interpretInitialize(URL_, answer(3)))).to.deep.equal({ _tag: 'AlreadyInitialized' });
    expect(left(interpretInitialize(URL_, answer(4)))).to.deep.equal({ _tag: 'AlreadyInitialized' });
    expect(left(interpretInitialize(URL_, answer(0)))).to.deep.equal({
      _tag: 'InitializeRefused',
      message:
        'Failed to initialize user: Invalid password, password must be at least 8 characters and contain no whitespace.',
    });
    expect(left(interpretInitialize(URL_, { ...answer(33), status: 404 }))._tag).to.equal(
      'InitializeUnavailable',
    );
  });

  it('sign-in: the CSRF token to start with (#7), and the rotated one after success (#11)', () => {
    expect(interpretCsrfToken(URL_, answer(7))).to.deep.equal(
      E.right('FAKECSRF29050A85C9FD6712DF531CCB6B158545F36A5BF35AD8F57FD1F68329'),
    );
    expect(interpretSignin(URL_, 'alice', answer(11))).to.deep.equal(
      E.right('FAKECSRF32F26D634CF1D808547F14237695E6E7CC4F0C8CC04995E9FBBD1998'),
    );
  });

  it('sign-in refusals: no CSRF token (#8), wrong password (#9), the back-off (#10), no password sign-in', () => {
    expect(left(interpretSignin(URL_, 'alice', answer(8)))).to.deep.equal({
      _tag: 'CsrfRefused',
      during: 'signing in',
    });
    expect(left(interpretSignin(URL_, 'alice', answer(9)))).to.deep.equal({
      _tag: 'WrongPassword',
      user: 'alice',
    });
    // Retry-After: 0 (less than a second left) is said as 1 s, never "0 more s".
    expect(left(interpretSignin(URL_, 'alice', answer(10)))).to.deep.equal({
      _tag: 'SigninThrottled',
      user: 'alice',
      retryAfterSeconds: 1,
    });
    expect(left(interpretSignin(URL_, 'alice', { ...answer(33), status: 404 }))._tag).to.equal(
      'SigninUnavailable',
    );
  });

  it('the organization: created by the user (#15 made alice its admin), and a CSRF refusal (#14)', () => {
    const org = (isAdmin: boolean): WebResponse => ({
      status: 200,
      headers: {},
      text: '',
      json: { name: 'tools', is_admin: isAdmin },
    });
    expect(interpretOrganization('alice', 'tools', org(true))).to.deep.equal(E.right('admin'));
    expect(left(interpretOrganization('bob', 'tools', org(false)))).to.deep.equal({
      _tag: 'NotOrganizationAdmin',
      user: 'bob',
      org: 'tools',
    });
    expect(left(interpretOrganization('alice', 'tools', answer(14)))._tag).to.equal('CsrfRefused');
    expect(left(interpretOrganization('alice', 'tools', answer(54)))._tag).to.equal('SessionLost');
  });

  it("applications: the list with client_id (#17), and bob's 403 as not an admin (#49)", () => {
    expect(interpretApplications('alice', 'tools', answer(17))).to.deep.equal(
      E.right([
        {
          name: 'bridge',
          clientId: '2NBAICXG3L4NGILFPGD1',
          redirectUri: 'https://bridge.example.com/oauth/callback',
        },
      ]),
    );
    expect(left(interpretApplications('bob', 'tools', answer(49)))).to.deep.equal({
      _tag: 'NotOrganizationAdmin',
      user: 'bob',
      org: 'tools',
    });
  });

  it('the grant: consent JSON (#19), a token at once (#26), and the refusals (#33 no session, #47 bob, #37 bad redirect)', () => {
    expect(interpretAuthorize('alice', 'tools', answer(19))).to.deep.equal(
      E.right({ consentCsrf: 'FAKECSRF32F26D634CF1D808547F14237695E6E7CC4F0C8CC04995E9FBBD1998' }),
    );
    expect(interpretAuthorize('alice', 'tools', answer(26))).to.deep.equal(
      E.right({ token: 'FAKEOAUTHTOKEN2FFF1BC6FCAE01BD946EA5403E' }),
    );
    expect(left(interpretAuthorize('alice', 'tools', answer(33)))._tag).to.equal('SessionLost');
    expect(left(interpretAuthorize('bob', 'tools', answer(47)))._tag).to.equal('NotOrganizationAdmin');
    expect(left(interpretAuthorize('alice', 'tools', answer(37)))).to.deep.equal({
      _tag: 'AuthorizationRefused',
      error: 'invalid_request',
    });
    expect(left(interpretAuthorize('alice', 'tools', answer(36)))).to.deep.equal({
      _tag: 'AuthorizationRefused',
      error: 'redirect_uri_mismatch',
    });
  });

  it('the consent: the token in the fragment (#21), and no CSRF (#20), unknown client (#35), bad scope (#41)', () => {
    expect(interpretConsent(answer(21))).to.deep.equal(E.right('FAKEOAUTHTOKEN1AAB2272A7C283945249EE30A0'));
    expect(left(interpretConsent(answer(20)))._tag).to.equal('CsrfRefused');
    expect(left(interpretConsent(answer(35)))).to.deep.equal({
      _tag: 'AuthorizationRefused',
      error: 'unauthorized_client',
    });
    expect(left(interpretConsent(answer(41)))).to.deep.equal({
      _tag: 'AuthorizationRefused',
      error: 'invalid_scope',
    });
    expect(left(interpretConsent(answer(38)))).to.deep.equal({
      _tag: 'AuthorizationRefused',
      error: 'invalid_request',
    });
  });

  it('the token check: accepted for its user (#23), refused without user:read (#28) or for another user', () => {
    expect(interpretTokenCheck('alice', answer(23))).to.deep.equal(E.right('alice'));
    expect(left(interpretTokenCheck('alice', answer(28)))._tag).to.equal('TokenRejected');
    expect(left(interpretTokenCheck('bob', answer(23)))).to.deep.equal({
      _tag: 'TokenRejected',
      detail: 'it belongs to "alice", not "bob"',
    });
  });

  it('every refusal is said with what to do, and no message repeats a secret of the answer', () => {
    const refusals = recording.exchanges.flatMap((_, n) =>
      [
        interpretSignin(URL_, 'alice', answer(n)),
        interpretAuthorize('alice', 'tools', answer(n)),
        interpretConsent(answer(n)),
        interpretTokenCheck('alice', answer(n)),
      ].flatMap((r) => (E.isLeft(r) ? [r.left] : [])),
    );
    expect(refusals.length).to.be.greaterThan(20);
    for (const e of refusals) {
      const text = describeError(e);
      expect(text, e._tag).to.not.match(/FAKE(?:CSRF|OAUTHTOKEN|SESSIONCOOKIE|ALICEPASSWORD|CLIENTSECRET)/);
      expect(text.length, e._tag).to.be.greaterThan(30);
    }
  });
});
