// Replays the sign-in and OAuth exchanges recorded from a real Quay (test/fixtures/quay/signin-oauth-exchanges.json,
// whose `meta` describes them) against the emulator, in order: user/initialize, GET /csrf_token, POST
// /api/v1/signin with its failures and back-off, the session's CSRF rules, organization OAuth applications, the
// implicit grant (GET /oauth/authorize, POST /oauth/authorizeapp) and its refusals, sign-out. Exchanges 0–3 ran on
// a second Quay with an empty database and go to a second emulator started without its superuser.
//
// Not replayed: 50–52, the tokens API of the React UI (POST/GET …/applications/<client_id>/tokens), which the
// emulator does not serve (quay-bridge's token command uses the implicit grant, which every Quay 3 has).
//
// How the replay treats secrets. The recording replaced each secret with a placeholder (FAKE…); the emulator makes
// its own. Each placeholder is learned from the first answer that carries it (a body field, X-Next-CSRF-Token, the
// session cookie of Set-Cookie, the access_token in a Location fragment) and then substituted into every later
// request (path, Cookie, X-CSRF-Token, HTTP Basic, JSON and form bodies) and expected in every later answer. Two
// placeholders must never stand for one value, nor one placeholder for two (a CSRF token rotated by the sign-in must
// change, GET /csrf_token afterwards must give the new one), except session cookie values: Quay re-signs the
// cookie whenever it likes, so only when a Set-Cookie is sent, and its attributes, are compared; the latest value
// learned is the one sent. The client_id (real in the recording) is learned the same way.
//
// Compared: status, Content-Type, Location (exactly, after substitution), whether Set-Cookie is sent and with
// Expires (a signed-in session) or not, X-Next-CSRF-Token's presence, Retry-After, and the body: JSON parsed and
// compared after substitution (RFC 2822 dates and encrypted passwords as in conformance.test.ts; the consent
// JSON's `scopes` as a set, Quay lists them in Python set order); HTML pages exactly, except Quay's full web-app
// pages (the consent page and the 404 page), of which the consent form's hidden fields and window.__token are
// compared.
//
// Time: the emulator runs on a clock of the test's own. It stands still, so a second wrong password meets the
// sign-in back-off as in the recording, and moves a minute before each sign-in recorded as successful (those came
// after the back-off window).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Exchange {
  readonly note: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string>> | null;
    readonly body: Json;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Json;
  };
}

const recording = JSON.parse(
  readFileSync(new URL('../../fixtures/quay/signin-oauth-exchanges.json', import.meta.url), 'utf8'),
) as { readonly exchanges: readonly Exchange[] };

const EMPTY_DATABASE = new Set([0, 1, 2, 3]);
const NOT_EMULATED = new Set([50, 51, 52]);
const RECORDED_ORIGINS = { empty: 'http://127.0.0.1:18481', main: 'http://127.0.0.1:18480' } as const;
const RECORDED_CLIENT_ID = '2NBAICXG3L4NGILFPGD1';

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const RFC2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;

const cookieValue = (setCookie: string | null | undefined): string | undefined =>
  setCookie == null ? undefined : /^_csrf_token=([^;]*)/.exec(setCookie)?.[1];

const fragmentToken = (location: string | null | undefined): string | undefined =>
  location == null ? undefined : /#access_token=([^&]+)/.exec(location)?.[1];

class Secrets {
  private readonly actual = new Map<string, string>();
  private readonly recordedOf = new Map<string, string>();

  /** `recorded` (a placeholder or the recorded client_id) stands for `value` from now on. */
  learn(recorded: string, value: string, what: string): void {
    const cookie = recorded.includes('FAKESESSIONCOOKIE');
    const known = this.actual.get(recorded);
    if (!cookie) {
      if (known !== undefined) {
        expect(value, `${what}: ${recorded.slice(0, 24)}… again`).to.equal(known);
        return;
      }
      const other = this.recordedOf.get(value);
      expect(
        other,
        `${what}: a new secret, not the one already seen as ${other?.slice(0, 24) ?? ''}…`,
      ).to.equal(undefined);
    }
    this.actual.set(recorded, value);
    this.recordedOf.set(value, recorded);
  }

  /** Every known placeholder in `text` replaced by its value (longest first: CSRF1 is a prefix of nothing, but safe). */
  substitute(text: string): string {
    let out = text;
    for (const [recorded, value] of [...this.actual].sort((a, b) => b[0].length - a[0].length))
      out = out.split(recorded).join(value);
    return out;
  }

  unknownIn(text: string): string[] {
    const pattern =
      /FAKE(?:SESSIONCOOKIE|CSRF|OAUTHTOKEN|INITTOKEN|SUPERUSERTOKEN|ALICEPASSWORD|BOBPASSWORD|CLIENTSECRET)\w*/g;
    return [...new Set([...text.matchAll(pattern)].map((m) => m[0]))];
  }
}

/** Learn the secrets of a recorded JSON answer from the emulator's answer at the same place. */
const learnBody = (secrets: Secrets, recorded: Json, actual: Json, path: string): void => {
  if (typeof recorded === 'string') {
    if ((recorded.startsWith('FAKE') || recorded === RECORDED_CLIENT_ID) && typeof actual === 'string')
      secrets.learn(recorded, actual, path);
    return;
  }
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    recorded.forEach((r, i) => {
      learnBody(secrets, r, actual[i] ?? null, `${path}[${i}]`);
    });
    return;
  }
  if (isObject(recorded) && isObject(actual))
    for (const [k, v] of Object.entries(recorded)) learnBody(secrets, v, actual[k] ?? null, `${path}.${k}`);
};

/** The recorded answer as the emulator should give it: placeholders and origin replaced, random fields marked. */
const expected = (value: Json, secrets: Secrets, origin: [string, string], key?: string): Json => {
  if (typeof value === 'string') {
    if (key === 'encrypted_password' && value !== '') return '<encrypted-password>';
    if (RFC2822.test(value)) return '<date>';
    return secrets.substitute(value).split(origin[0]).join(origin[1]);
  }
  if (Array.isArray(value)) return value.map((v) => expected(v, secrets, origin));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const e = expected(v, secrets, origin, k);
      return [k, k === 'scopes' && Array.isArray(e) ? bySCope(e) : e];
    }),
  );
};

const actualShape = (value: Json, key?: string): Json => {
  if (typeof value === 'string') {
    if (key === 'encrypted_password' && value !== '') return '<encrypted-password>';
    return RFC2822.test(value) ? '<date>' : value;
  }
  if (Array.isArray(value)) return value.map((v) => actualShape(v));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const a = actualShape(v, k);
      return [k, k === 'scopes' && Array.isArray(a) ? bySCope(a) : a];
    }),
  );
};

const bySCope = (list: Json[]): Json[] =>
  [...list].sort((a, b) => {
    const sa = isObject(a) ? JSON.stringify(a['scope']) : '';
    const sb = isObject(b) ? JSON.stringify(b['scope']) : '';
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });

/** Quay's web-app pages: what a program reads from them. */
const pageEssentials = (html: string): { token: string | undefined; form: string[] } => {
  const form =
    /<form method="post" action="\/oauth\/authorizeapp"[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  return {
    token: /window\.__token = '([^']*)'/.exec(html)?.[1],
    form: [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
      (m) => `${m[1]}=${m[2]}`,
    ),
  };
};

describe('Quay emulator conformance: the recorded sign-in and OAuth exchanges, in order', function () {
  this.timeout(30_000);
  let clock = Date.parse('2026-12-03T09:07:40Z');
  const now = (): number => clock;
  let empty: QuayEmulator;
  let main: QuayEmulator;
  const secrets = new Secrets();

  before(async () => {
    empty = await startQuayEmulator({ seed: 15, bootstrap: false, now });
    main = await startQuayEmulator({ seed: 16, now });
    // The recording's setup token of quayadmin (all scopes), as the emulator's bootstrap token.
    const setup = recording.exchanges.find((e) =>
      e.request.headers?.['Authorization']?.includes('FAKESUPERUSERTOKEN'),
    );
    const placeholder = /Bearer (\S+)/.exec(setup?.request.headers?.['Authorization'] ?? '')?.[1];
    if (placeholder === undefined) throw new Error('no superuser token in the recording');
    secrets.learn(placeholder, main.adminToken, 'the setup token');
  });
  after(async () => {
    await empty.close();
    await main.close();
  });

  /**
   * A skipped exchange changed nothing in the emulator, so the cookie its answer set stands for the one its request
   * sent (the cookie later requests of that client send).
   */
  const aliasSkippedCookies = (before: number): void => {
    for (const i of NOT_EMULATED) {
      const e = recording.exchanges[i];
      if (i >= before || e === undefined) continue;
      const sent = /_csrf_token=([^;]+)/.exec(e.request.headers?.['Cookie'] ?? '')?.[1];
      const set = cookieValue(e.response.headers['set-cookie']);
      const value = sent === undefined ? undefined : secrets.substitute(sent);
      if (set !== undefined && value !== undefined && value !== sent)
        secrets.learn(set, value, `skipped #${i}`);
    }
  };

  recording.exchanges.forEach((exchange, index) => {
    const title = `#${String(index).padStart(2, '0')} ${exchange.note}`;
    if (NOT_EMULATED.has(index)) {
      it.skip(`${title} (the tokens API is not emulated)`);
      return;
    }
    it(title, async () => {
      const { request, response } = exchange;
      const quay = EMPTY_DATABASE.has(index) ? empty : main;
      const origin: [string, string] = [
        EMPTY_DATABASE.has(index) ? RECORDED_ORIGINS.empty : RECORDED_ORIGINS.main,
        quay.url,
      ];
      if (request.path === '/api/v1/signin' && response.status === 200) clock += 60_000;
      aliasSkippedCookies(index);

      // The request, with the secrets the recording's client held replaced by the emulator's.
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers ?? {})) {
        const basic = /^Basic (\S+)$/.exec(value);
        headers[name] =
          basic === null
            ? secrets.substitute(value)
            : `Basic ${Buffer.from(secrets.substitute(Buffer.from(basic[1] ?? '', 'base64').toString('utf8'))).toString('base64')}`;
      }
      const path = secrets
        .substitute(request.path)
        .split(origin[0])
        .join(origin[1])
        .split(encodeURIComponent(origin[0]))
        .join(encodeURIComponent(origin[1]));
      let body: string | undefined;
      if (request.body !== null) {
        const translated = JSON.parse(secrets.substitute(JSON.stringify(request.body))) as Json;
        body =
          headers['Content-Type'] === 'application/x-www-form-urlencoded' && isObject(translated)
            ? new URLSearchParams(
                Object.entries(translated).map(([k, v]): [string, string] => [
                  k,
                  typeof v === 'string' ? v.split(origin[0]).join(origin[1]) : JSON.stringify(v),
                ]),
              ).toString()
            : JSON.stringify(translated);
      }
      const unknown = secrets.unknownIn(`${path} ${JSON.stringify(headers)} ${body ?? ''}`);
      expect(unknown, 'placeholders the replay never learned').to.deep.equal([]);

      const res = await fetch(`${quay.url}${path}`, {
        method: request.method,
        redirect: 'manual',
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();

      // Learn what this answer hands out.
      const recordedCookie = cookieValue(response.headers['set-cookie']);
      const actualCookie = cookieValue(res.headers.get('set-cookie'));
      if (recordedCookie !== undefined && actualCookie !== undefined)
        secrets.learn(recordedCookie, actualCookie, 'Set-Cookie');
      const nextCsrf = response.headers['x-next-csrf-token'];
      const actualNextCsrf = res.headers.get('x-next-csrf-token');
      if (nextCsrf !== undefined && actualNextCsrf !== null)
        secrets.learn(nextCsrf, actualNextCsrf, 'X-Next-CSRF-Token');
      const recordedToken = fragmentToken(response.headers['location']);
      const actualToken = fragmentToken(res.headers.get('location'));
      if (recordedToken !== undefined && actualToken !== undefined) {
        expect(actualToken, 'an OAuth token').to.match(/^[A-Z0-9]{40}$/);
        secrets.learn(recordedToken, actualToken, 'Location fragment');
      }
      const recordedType = response.headers['content-type'];
      const isJsonBody = !(
        typeof response.body === 'string' && recordedType?.startsWith('text/html') === true
      );
      const actualBody: Json =
        !isJsonBody || text === '' ? (text === '' ? null : text) : (JSON.parse(text) as Json);
      if (isJsonBody) learnBody(secrets, response.body, actualBody, 'body');

      expect(res.status, 'status').to.equal(response.status);
      if (recordedType !== undefined)
        expect(res.headers.get('content-type'), 'content-type').to.equal(recordedType);
      const location = response.headers['location'];
      if (location !== undefined)
        expect(res.headers.get('location'), 'location').to.equal(
          secrets.substitute(location).split(origin[0]).join(origin[1]),
        );
      expect(res.headers.get('location') !== null, 'a Location header').to.equal(location !== undefined);

      const setCookie = res.headers.get('set-cookie');
      expect(setCookie !== null, 'a Set-Cookie header').to.equal(
        response.headers['set-cookie'] !== undefined,
      );
      if (setCookie !== null) {
        expect(setCookie.includes('; Expires='), 'Set-Cookie with Expires').to.equal(
          response.headers['set-cookie']?.includes('; Expires=') === true,
        );
        expect(setCookie, 'Set-Cookie attributes').to.match(
          /^_csrf_token=[^;]+(; Expires=[^;]+)?; HttpOnly; Path=\/; SameSite=Lax$/,
        );
      }
      expect(actualNextCsrf !== null, 'an X-Next-CSRF-Token header').to.equal(nextCsrf !== undefined);
      expect(res.headers.get('retry-after') ?? undefined, 'retry-after').to.equal(
        response.headers['retry-after'],
      );

      if (isJsonBody) {
        expect(actualShape(actualBody), 'body').to.deep.equal(expected(response.body, secrets, origin));
      } else if (typeof response.body === 'string' && response.body.length > 2000) {
        // One of Quay's web-app pages.
        expect(text, 'an HTML page').to.match(/^<!DOCTYPE html>/i);
        const want = pageEssentials(secrets.substitute(response.body).split(origin[0]).join(origin[1]));
        expect(pageEssentials(text), 'the consent form').to.deep.equal(want);
      } else {
        expect(text, 'body').to.equal(secrets.substitute(response.body));
      }
    });
  });
});
