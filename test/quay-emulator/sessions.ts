// Quay's web session, as a client sees it (the sign-in recording,
// test/fixtures/quay/signin-oauth-exchanges.json): one cookie NAMED `_csrf_token` holding the whole Flask session,
// with the CSRF token inside it. Real Quay signs the session into the cookie; the emulator keeps it here and puts
// only the session's id (and a version, so the value changes when the content does) in the cookie. Every value
// ever issued for a session stays usable, as a signed cookie would.
//
// When the answer carries Set-Cookie, as recorded: a signed-in (permanent) session on every answer, with Expires
// 31 days on; an anonymous one only when it was created or changed, without Expires; and once more on the first
// request after GET /csrf_token created it anonymously (Flask-Login stamps it then).
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Account, World } from './state.js';

export const SESSION_COOKIE = '_csrf_token';
const PERMANENT_SESSION_MS = 31 * 24 * 3600 * 1000;

export interface Session {
  readonly id: string;
  csrf: string;
  userId: number | null;
  /** Set by a sign-in (FEATURE_PERMANENT_SESSIONS): the cookie then has Expires and is re-sent on every answer. */
  permanent: boolean;
  /** Flask-Login's mark; an anonymous session created by GET /csrf_token gets it on the next request. */
  stamped: boolean;
  version: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  constructor(private readonly world: World) {}

  /** A CSRF token: 64 characters of URL-safe base64, as Quay's generate_csrf_token makes them. */
  private csrfToken(): string {
    return this.world.random.bytes(48).toString('base64url');
  }

  create(stamped: boolean): Session {
    const session: Session = {
      id: this.world.random.token(32).toLowerCase(),
      csrf: this.csrfToken(),
      userId: null,
      permanent: false,
      stamped,
      version: 0,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session a Cookie header names, if the emulator issued it. */
  fromCookie(header: string | undefined): Session | undefined {
    if (header === undefined) return undefined;
    for (const part of header.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name !== SESSION_COOKIE) continue;
      const id = rest.join('=').split('.')[2];
      const found = id === undefined ? undefined : this.sessions.get(id);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Sign-in and /api/v1/user/initialize: the user, a permanent session and a new CSRF token. */
  signIn(session: Session, user: Account): void {
    session.userId = user.id;
    session.permanent = true;
    session.csrf = this.csrfToken();
  }

  signOut(session: Session): void {
    session.userId = null;
  }

  setCookie(session: Session, now: number): string {
    // Shaped like Flask's (a leading dot for a compressed session, then dot-separated parts); the value changes
    // when the session's content does.
    const version = session.version.toString(16).toUpperCase();
    const digest = createHash('sha256').update(`${session.id}:${version}`).digest('hex').slice(0, 48);
    const value = `.${digest.toUpperCase()}.${session.id}.${version}`;
    const expires = session.permanent
      ? `; Expires=${new Date(now + PERMANENT_SESSION_MS).toUTCString()}`
      : '';
    return `${SESSION_COOKIE}=${value}${expires}; HttpOnly; Path=/; SameSite=Lax`;
  }
}

/** One request's view of its session: the one its cookie named, or one a handler created or changed. */
export class SessionScope {
  private modified = false;

  constructor(
    private readonly store: SessionStore,
    private session: Session | undefined,
  ) {
    if (session !== undefined && !session.stamped) {
      session.stamped = true;
      this.changed();
    }
  }

  get current(): Session | undefined {
    return this.session;
  }

  /** The session, created if the request had none (`stamped` when the request itself was authenticated). */
  ensure(authenticated: boolean): Session {
    if (this.session === undefined) {
      this.session = this.store.create(authenticated);
      this.modified = true;
    }
    return this.session;
  }

  changed(): void {
    if (this.session === undefined) return;
    this.session.version += 1;
    this.modified = true;
  }

  /** The Set-Cookie header this answer carries, if any. */
  cookie(now: number): string | undefined {
    const s = this.session;
    if (s === undefined) return undefined;
    if (!s.permanent && !this.modified) return undefined;
    return this.store.setCookie(s, now);
  }
}

/** The CSRF token a request carries: the `_csrf_token` form or query field, else the X-CSRF-Token header. */
export const csrfTokenOf = (
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  form: URLSearchParams | undefined,
): string | undefined => {
  const field = form?.get('_csrf_token') ?? query.get('_csrf_token');
  if (field !== null && field !== '') return field;
  const header = headers['x-csrf-token'];
  return typeof header === 'string' && header !== '' ? header : undefined;
};
