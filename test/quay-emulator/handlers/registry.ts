// The Docker registry v2 token flow, enough for robot credentials to be checked (docs/quay-api.md#registry-auth): GET /v2/ challenges,
// GET /v2/auth trades Basic credentials for a signed JWT listing the granted actions. Pushes themselves are
// simulated with QuayEmulator.pushTag.
import { createPublicKey, createVerify, sign } from 'node:crypto';
import { orgRole, repoRole, type Caller } from '../access.js';
import type { Ctx, Handler } from '../context.js';
import { pythonJson } from '../json.js';
import { lookupRobot } from '../model-robots.js';
import { repoRoleAtLeast, SCOPES } from '../scopes.js';
import type { Reply } from '../replies.js';
import { authenticate } from '../tokens.js';

const registryError = (status: number, message: string, extra: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...extra },
  body: pythonJson({ errors: [{ code: 'UNAUTHORIZED', detail: {}, message }] }, 'restful'),
});

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Basic credentials → the principal whose rights the token carries; robots and passwords act with full rights. */
const principal = (ctx: Ctx): Caller | undefined | Reply => {
  const header = ctx.req.headers.authorization ?? '';
  if (!header.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  const allScopes = new Set(SCOPES);
  if (username === '$oauthtoken') {
    return authenticate(ctx.world, `Bearer ${password}`) ?? registryError(401, 'Invalid access token');
  }
  if (username.includes('+')) {
    const robot = lookupRobot(ctx.world, username);
    if (!robot.ok) return registryError(401, robot.error.message);
    if (robot.value.robot?.token !== password) {
      return registryError(401, `Could not find robot with username: ${username} and supplied password.`);
    }
    robot.value.lastAccessedMs = ctx.world.now();
    return { user: robot.value, scopes: allScopes };
  }
  const user = ctx.world.account(username);
  if (user?.kind !== 'user' || !user.enabled || user.password === null || user.password !== password) {
    return registryError(401, 'Invalid Username or Password');
  }
  return { user, scopes: allScopes };
};

/** What a principal may do on `namespace/name`: push needs write (or create rights for a new repository). */
const grantedActions = (
  ctx: Ctx,
  who: Caller | undefined,
  repository: string,
  wanted: readonly string[],
): string[] => {
  const slash = repository.indexOf('/');
  const [namespace, name] = [repository.slice(0, slash), repository.slice(slash + 1)];
  const repo = ctx.world.repository(namespace, name);
  const role = repoRole(ctx.world, who, namespace, name);
  const team = orgRole(ctx.world, who, namespace);
  const mayCreate = repo === undefined && (team === 'admin' || team === 'creator');
  const granted: string[] = [];
  if (wanted.includes('push') && (repoRoleAtLeast(role, 'write') || mayCreate)) granted.push('push');
  if (wanted.includes('pull') && (repoRoleAtLeast(role, 'read') || repo?.visibility === 'public')) {
    granted.push('pull');
  }
  return granted;
};

export const registryAuth: Handler = (ctx) => {
  const who = principal(ctx);
  if (who !== undefined && 'status' in who) return who;
  const now = Math.floor(ctx.world.now() / 1000);
  const host = new URL(ctx.req.baseUrl).host;
  const access = ctx.req.query.getAll('scope').flatMap((scope) => {
    const m = /^repository:([^:]+):(.*)$/.exec(scope);
    if (m === null) return [];
    const name = m[1] ?? '';
    return [{ type: 'repository', name, actions: grantedActions(ctx, who, name, (m[2] ?? '').split(',')) }];
  });
  const { privateKey, kid } = ctx.services.registryKey();
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const claims = b64url(
    JSON.stringify({
      iss: 'quay',
      aud: host,
      nbf: now,
      iat: now,
      exp: now + 3600,
      sub: who === undefined ? '(anonymous)' : who.user.username,
      access,
      context: { version: 2, entity_kind: who === undefined ? 'anonymous' : who.user.kind },
    }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), privateKey).toString('base64url');
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: pythonJson({ token: `${header}.${claims}.${signature}` }, 'restful'),
  };
};

/** GET /v2/: 401 with the Bearer challenge unless a token from /v2/auth comes along; Quay's body is `true` either way. */
export const registryBase: Handler = (ctx) => {
  const host = new URL(ctx.req.baseUrl).host;
  const bearer = /^Bearer (\S+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1];
  const [h, c, s] = (bearer ?? '').split('.');
  const valid =
    h !== undefined &&
    c !== undefined &&
    s !== undefined &&
    createVerify('sha256')
      .update(`${h}.${c}`)
      .verify(createPublicKey(ctx.services.registryKey().privateKey), Buffer.from(s, 'base64url'));
  return {
    status: valid ? 200 : 401,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'www-authenticate': `Bearer realm="${ctx.req.baseUrl}/v2/auth",service="${host}"`,
      'docker-distribution-api-version': 'registry/2.0',
    },
    body: 'true',
  };
};
