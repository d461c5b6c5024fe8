// The emulator's server: real HTTP(S) on a local port, Quay's request pipeline (routing → token → CSRF → read-only
// → endpoint), request counting and fault injection.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Ctx, IncomingRequest, Services } from './context.js';
import { Faults, type FaultKnobs } from './faults.js';
import { fernet } from './fernet.js';
import { collectGarbage, createOrganization } from './model-namespaces.js';
import { pushTag as recordPush } from './model-repos.js';
import { seededRandom } from './random.js';
import {
  csrfFailure,
  htmlNotFound,
  internalServerError,
  jsonify,
  permanentRedirect,
  restAbort,
  restful,
  WERKZEUG,
  type Reply,
} from './replies.js';
import { compileRoutes, resolve, type Resolution } from './router.js';
import { ROUTES } from './routes.js';
import { loadDiscoveryDocument, requestSchemas } from './schemas.js';
import { snapshot, type EmulatorSnapshot } from './snapshot.js';
import { World } from './state.js';
import { csrfTokenOf, SessionScope, SessionStore } from './sessions.js';
import { authenticate, DEFAULT_TOKEN_SECONDS, issueToken, SESSION_SCOPES, signedInUser } from './tokens.js';
import { initializeUser } from './handlers/user.js';

export interface QuayEmulator {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** host:port, the registry's name in image references. */
  readonly registryHost: string;
  /** A 40-character [A-Z0-9] OAuth token of an existing user; `expiresInSeconds` < 0 gives an expired one. */
  createToken(
    username: string,
    scopes: readonly string[],
    opts?: { readonly expiresInSeconds?: number },
  ): string;
  /** Full-scope token of the bootstrapped superuser `quayadmin`, made as /api/v1/user/initialize makes it (9000 s). */
  readonly adminToken: string;
  /** The password of `quayadmin`, for the web UI's sign-in (POST /api/v1/signin) and HTTP Basic on /oauth. */
  readonly adminPassword: string;
  /** Creates an organization whose `owners` team holds `owner`, as POST /api/v1/organization/ by that user. */
  createOrganization(name: string, owner: string): void;
  /** Mutable; all off by default. */
  readonly faults: FaultKnobs;
  /** By `${METHOD} ${pathTemplate}`, e.g. `GET /api/v1/organization/{org}/robots/{robot}`. */
  requestCounts(): ReadonlyMap<string, number>;
  resetCounts(): void;
  totalRequests(): number;
  /** Runs the namespace and repository GC workers: frees held-back organization names, purges deleted repositories. */
  runGarbageCollection(): void;
  state(): EmulatorSnapshot;
  /** Simulates a registry push of `tag` → `digest` into an existing repository. */
  pushTag(org: string, repo: string, tag: string, digest: string, opts?: { readonly size?: number }): void;
  close(): Promise<void>;
}

export interface QuayEmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  /** Seeds tokens, ids and faults (default 1). */
  readonly seed?: number;
  /** Serve HTTPS: PEM text, or paths of PEM files. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Run GC for each deletion this long after it; by default GC runs only through runGarbageCollection(). */
  readonly gcAfterMs?: number;
  /** Create `quayadmin` at start (default true); false leaves an empty database for POST /api/v1/user/initialize. */
  readonly bootstrap?: boolean;
  /** The server's clock (default Date.now): tests that must not depend on timing pass their own. */
  readonly now?: () => number;
  /** Quay's FEATURE_* switches the emulator honours (each default true): without them their routes answer 404. */
  readonly features?: { readonly userInitialize?: boolean; readonly directLogin?: boolean };
}

const TAG_NAME = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

const pem = (textOrPath: string): string =>
  textOrPath.includes('-----BEGIN') ? textOrPath : readFileSync(textOrPath, 'utf8');

const safeDecode = (path: string): string => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

export const startQuayEmulator = async (opts: QuayEmulatorOptions = {}): Promise<QuayEmulator> => {
  const seed = opts.seed ?? 1;
  const world = new World(seededRandom(seed), opts.now ?? (() => Date.now()));
  const faults = new Faults(seed ^ 0x5bd1e995);
  // route_show_if / show_if: a feature that is off takes its route away.
  const featureOff = new Set([
    ...(opts.features?.userInitialize === false ? ['/api/v1/user/initialize'] : []),
    ...(opts.features?.directLogin === false ? ['/api/v1/signin'] : []),
  ]);
  const routes = compileRoutes(ROUTES.filter((r) => !featureOff.has(r.template)));
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<http.ServerResponse>();
  const discovery = loadDiscoveryDocument();
  const sessions = new SessionStore(world);
  let registryKey: { privateKey: string; kid: string } | undefined;

  const services: Services = {
    pageTokens: fernet(),
    schema: requestSchemas(discovery),
    discovery: () => discovery,
    deletionScheduled: () => {
      if (opts.gcAfterMs === undefined) return;
      // Everything deleted up to now is due when the timer fires (and nothing deleted later).
      const deletedBy = world.now();
      const timer = setTimeout(() => {
        timers.delete(timer);
        collectGarbage(world, deletedBy);
      }, opts.gcAfterMs);
      timers.add(timer);
    },
    sessions,
    registryKey: () => {
      registryKey ??= {
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }) as string,
        kid: randomBytes(8).toString('hex'),
      };
      return registryKey;
    },
  };

  let admin: { token: string; password: string } | undefined;
  if (opts.bootstrap !== false) {
    const password = world.random.token(24);
    const boot = initializeUser(world, { username: 'quayadmin', password, email: 'quayadmin@example.com' });
    if ('error' in boot) throw new Error(`bootstrap failed: ${boot.error}`);
    admin = { token: boot.token, password };
  }
  const bootstrapped = (): { token: string; password: string } => {
    if (admin === undefined) {
      throw new Error(
        'started with bootstrap: false; create the first user with POST /api/v1/user/initialize',
      );
    }
    return admin;
  };

  const dispatch = (resolution: Resolution, req: IncomingRequest): Reply => {
    switch (resolution.kind) {
      case 'not-found':
        return htmlNotFound();
      case 'redirect': {
        const search = req.query.toString();
        return permanentRedirect(
          `${req.baseUrl}${encodeURI(resolution.path)}${search === '' ? '' : `?${search}`}`,
        );
      }
      case 'method-not-allowed':
        return restAbort(405, WERKZEUG.methodNotAllowed, { allow: resolution.allow });
      case 'options': {
        const r = restful(null);
        return { ...r, headers: { ...r.headers, allow: resolution.allow } };
      }
      case 'handler': {
        const bearer = authenticate(world, req.headers.authorization);
        const session = new SessionScope(sessions, sessions.fromCookie(req.headers.cookie));
        const sessionUser = signedInUser(world, session.current);
        const caller =
          bearer ?? (sessionUser === undefined ? undefined : { user: sessionUser, scopes: SESSION_SCOPES });
        const withCookie = (reply: Reply): Reply => {
          const cookie = session.cookie(world.now());
          return cookie === undefined
            ? reply
            : { ...reply, headers: { ...reply.headers, 'set-cookie': cookie } };
        };
        const isRead = req.method === 'GET' || req.method === 'HEAD';
        // csrf_protect: skipped only for a valid bearer token; a session (or nothing) must send the session's token.
        if (resolution.route.csrf !== false && !isRead && bearer === undefined) {
          const sent = csrfTokenOf(req.headers, req.query, undefined);
          if (session.current === undefined || sent !== session.current.csrf)
            return withCookie(csrfFailure(sessionUser?.username));
        }
        if (faults.readOnly && req.method !== 'GET' && resolution.route.csrf !== false) {
          return jsonify(
            {
              message:
                'System is currently read-only. Pulls will succeed but all write operations are currently suspended.',
              is_readonly: true,
            },
            503,
          );
        }
        const ctx: Ctx = {
          world,
          req,
          params: resolution.params,
          caller,
          callerVia: bearer !== undefined ? 'token' : caller !== undefined ? 'session' : undefined,
          session,
          services,
        };
        try {
          return withCookie(resolution.handler(ctx));
        } catch (error) {
          console.error('quay-emulator: handler failed', error);
          return internalServerError();
        }
      }
    }
  };

  const send = (res: http.ServerResponse, reply: Reply, head: boolean): void => {
    const payload = reply.raw ?? reply.body;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(payload) });
    res.end(reply.status === 204 || head ? '' : payload);
  };

  const scheme = opts.tls === undefined ? 'http' : 'https';
  const host = opts.host ?? '127.0.0.1';
  let port = 0;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const incoming: IncomingRequest = {
      method,
      path: safeDecode(url.pathname),
      query: url.searchParams,
      headers: req.headers,
      body,
      baseUrl: `${scheme}://${req.headers.host ?? `${host}:${port}`}`,
    };
    const resolution = resolve(routes, method, incoming.path);
    counts.set(resolution.key, (counts.get(resolution.key) ?? 0) + 1);
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    switch (faults.decide()) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'timeout':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'rate-limit':
        send(res, faults.rateLimited(), method === 'HEAD');
        return;
      case 'server-error':
        send(res, faults.serverError(), method === 'HEAD');
        return;
      case 'none':
        send(res, dispatch(resolution, incoming), method === 'HEAD');
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        console.error('quay-emulator: request failed', error);
        if (!res.headersSent) send(res, internalServerError(), false);
      });
    });
  };

  const server =
    opts.tls === undefined
      ? http.createServer(listener)
      : https.createServer({ cert: pem(opts.tls.cert), key: pem(opts.tls.key) }, listener);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: `${scheme}://${hostPort}`,
    registryHost: hostPort,
    get adminToken(): string {
      return bootstrapped().token;
    },
    get adminPassword(): string {
      return bootstrapped().password;
    },
    createOrganization: (name, owner) => {
      const user = world.userOrRobot(owner);
      if (user?.kind !== 'user') throw new Error(`no user ${owner}`);
      const created = createOrganization(world, name, null, user);
      if (!created.ok) throw new Error(`createOrganization ${name}: ${created.error.message}`);
    },
    faults,
    createToken: (username, scopes, tokenOpts) => {
      const user = world.account(username);
      if (user === undefined) throw new Error(`no user ${username}`);
      return issueToken(world, user, scopes, tokenOpts?.expiresInSeconds ?? DEFAULT_TOKEN_SECONDS);
    },
    requestCounts: () => new Map(counts),
    resetCounts: () => {
      counts.clear();
    },
    totalRequests: () => [...counts.values()].reduce((a, b) => a + b, 0),
    runGarbageCollection: () => {
      collectGarbage(world);
    },
    state: () => snapshot(world),
    pushTag: (org, repo, tag, digest, pushOpts) => {
      const repository = world.repository(org, repo);
      if (repository === undefined) throw new Error(`pushTag: no repository ${org}/${repo}`);
      if (!TAG_NAME.test(tag)) throw new Error(`pushTag: invalid tag name ${tag}`);
      if (!DIGEST.test(digest)) throw new Error(`pushTag: invalid digest ${digest}`);
      recordPush(world, repository, tag, digest, pushOpts?.size ?? 0);
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of hung) res.destroy();
      hung.clear();
      await new Promise<void>((resolveClose) => {
        server.close(() => {
          resolveClose();
        });
        server.closeAllConnections();
      });
    },
  };
};
