// OAuth access tokens: issuing them, and turning an Authorization header back into a caller.
import type { Caller } from './access.js';
import type { Session } from './sessions.js';
import { isScope, SCOPES, type Scope } from './scopes.js';
import type { Account, World } from './state.js';

/** create_user_access_token's default lifetime, which /api/v1/user/initialize tokens get (observed 9000 s). */
export const INITIALIZE_TOKEN_SECONDS = 9000;
/** Tokens generated in Quay's UI for an OAuth application live ten years. */
export const DEFAULT_TOKEN_SECONDS = 315_576_000;

export const ALL_SCOPES: readonly Scope[] = SCOPES;

export const issueToken = (
  world: World,
  user: Account,
  scopes: readonly string[],
  expiresInSeconds: number,
  clientId?: string,
): string => {
  if (user.kind !== 'user')
    throw new Error(`OAuth tokens belong to users; ${user.username} is a ${user.kind}`);
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new Error(`unknown OAuth scope(s): ${unknown.join(', ')}`);
  if (scopes.length === 0) throw new Error('an OAuth token carries at least one scope');
  // 40 characters of [A-Z0-9]: Quay's 20-character token name followed by the 20-character code.
  const token = world.random.token(40);
  world.tokens.set(token, {
    token,
    userId: user.id,
    scopes: new Set(scopes.filter(isScope)),
    expiresAtMs: world.now() + expiresInSeconds * 1000,
    ...(clientId === undefined ? {} : { clientId }),
  });
  return token;
};

/**
 * process_oauth: a missing, malformed, unknown or expired token, or one of a disabled user, does not fail the
 * request; it continues as anonymous.
 */
export const authenticate = (world: World, authorization: string | undefined): Caller | undefined => {
  if (authorization === undefined) return undefined;
  const parts = authorization.split(' ').filter((p) => p !== '');
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
  const found = world.tokens.get(parts[1] ?? '');
  if (found === undefined || found.expiresAtMs <= world.now()) return undefined;
  const user = world.accounts.get(found.userId);
  if (user === undefined || !user.enabled) return undefined;
  return { user, scopes: found.scopes };
};

/** A browser session acts with the user's full rights (Quay's direct_user_login): no scope caps it. */
export const SESSION_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

/** The enabled user a session is signed in as. */
export const signedInUser = (world: World, session: Session | undefined): Account | undefined => {
  const user =
    session?.userId === null || session === undefined ? undefined : world.accounts.get(session.userId);
  return user?.kind === 'user' && user.enabled ? user : undefined;
};
