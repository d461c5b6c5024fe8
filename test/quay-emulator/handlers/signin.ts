// GET /csrf_token, POST /api/v1/signin and POST /api/v1/signout: how Quay's web UI signs in
// (endpoints/api/user.py, endpoints/csrf.py; recorded in test/fixtures/quay/signin-oauth-exchanges.json).
import { jsonBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject } from '../json.js';
import { restful, type Reply } from '../replies.js';
import type { Account } from '../state.js';

/** Anonymous: the session's CSRF token, creating the session (and its cookie) when there is none. */
export const getCsrfToken: Handler = (ctx) => {
  const session = ctx.session.ensure(false);
  return restful({ csrf_token: session.csrf });
};

/** exponential_backoff after n failed sign-ins: 0.5 s, 1.5 s, 3.5 s, … (5 · (2ⁿ − 1) / 10 s, as observed). */
export const signinBackoffMs = (failures: number): number => (5 * (2 ** failures - 1) * 1000) / 10;

const tooManyAttempts = (retryAfterS: number): Reply => ({
  status: 429,
  headers: { 'content-type': 'text/html; charset=utf-8', 'retry-after': String(retryAfterS) },
  body: 'Too many login attempts. \nPlease reset your Quay password and try again.',
});

const findSigninUser = (ctx: Ctx, name: string): Account | undefined =>
  [...ctx.world.accounts.values()].find(
    (a) => a.kind === 'user' && a.enabled && (a.username === name || a.email === name),
  );

/**
 * conduct_signin with database authentication. The back-off is checked before the password, so inside the window
 * even the right password gets 429; a wrong one starts (or lengthens) it; a success resets it.
 */
export const postSignin: Handler = (ctx) => {
  const body = jsonBody(ctx, true);
  const data = body.ok ? body.value : undefined;
  if (!isJsonObject(data) || typeof data['username'] !== 'string' || typeof data['password'] !== 'string') {
    return restful({ message: "'username' and 'password' are required" }, 400);
  }
  const { world } = ctx;
  const user = findSigninUser(ctx, data['username']);
  if (user !== undefined) {
    const failed = world.loginFailures.get(user.id);
    if (failed !== undefined) {
      const retryAt = failed.lastMs + signinBackoffMs(failed.count);
      if (retryAt > world.now()) return tooManyAttempts(Math.floor((retryAt - world.now()) / 1000));
    }
  }
  if (user === undefined || user.password === null || user.password !== data['password']) {
    if (user !== undefined) {
      const count = (world.loginFailures.get(user.id)?.count ?? 0) + 1;
      world.loginFailures.set(user.id, { count, lastMs: world.now() });
    }
    return restful(
      { needsEmailVerification: false, invalidCredentials: true, message: 'Invalid Username or Password' },
      403,
    );
  }
  world.loginFailures.delete(user.id);
  const session = ctx.session.ensure(false);
  ctx.services.sessions.signIn(session, user);
  ctx.session.changed();
  const reply = restful({ success: true });
  return { ...reply, headers: { ...reply.headers, 'x-next-csrf-token': session.csrf } };
};

/** Session + CSRF (the API pipeline checked it); tokens issued earlier stay valid. */
export const postSignout: Handler = (ctx) => {
  const session = ctx.session.current;
  if (session !== undefined) {
    ctx.services.sessions.signOut(session);
    ctx.session.changed();
  }
  return restful({ success: true });
};
