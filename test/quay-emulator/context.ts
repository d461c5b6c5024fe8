// What a handler receives, and the request-reading helpers every endpoint shares (Flask's get_json, Quay's
// validate_json_request, Flask-RESTful's reqparse).
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './access.js';
import type { Fernet } from './fernet.js';
import type { Json, JsonObject } from './json.js';
import { describeSchemaError, firstSchemaError } from './json-schema.js';
import { invalidRequest, restAbort, unauthorized, WERKZEUG, type Reply } from './replies.js';
import type { SessionScope, SessionStore } from './sessions.js';
import type { World } from './state.js';

export interface IncomingRequest {
  readonly method: string;
  /** Percent-decoded, as Werkzeug matches it. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `scheme://host[:port]` from the Host header, for URLs Quay builds from the request (`type` of errors). */
  readonly baseUrl: string;
}

/** Things the emulator owns besides the data. */
export interface Services {
  readonly pageTokens: Fernet;
  readonly schema: (name: string) => JsonObject;
  readonly discovery: () => JsonObject;
  /** Called after a namespace or repository was marked for deletion, so a configured GC delay can start. */
  readonly deletionScheduled: () => void;
  readonly registryKey: () => { readonly privateKey: string; readonly kid: string };
  readonly sessions: SessionStore;
}

export interface Ctx {
  readonly world: World;
  readonly req: IncomingRequest;
  readonly params: Readonly<Record<string, string>>;
  /** From a valid bearer token, else from a signed-in session cookie. */
  readonly caller: Caller | undefined;
  /** How `caller` authenticated: a bearer token skips CSRF checks, a session does not. */
  readonly callerVia: 'token' | 'session' | undefined;
  readonly session: SessionScope;
  readonly services: Services;
}

export type Handler = (ctx: Ctx) => Reply;

export type Outcome<A> =
  { readonly ok: true; readonly value: A } | { readonly ok: false; readonly reply: Reply };
export const ok = <A>(value: A): Outcome<A> => ({ ok: true, value });
export const refuse = <A>(reply: Reply): Outcome<A> => ({ ok: false, reply });

export const param = (ctx: Ctx, name: string): string => ctx.params[name] ?? '';

/** endpoints.exception.Unauthorized for this caller. */
export const deny = (ctx: Ctx): Reply => unauthorized(ctx.req.baseUrl, ctx.caller !== undefined);
export const badRequest = (ctx: Ctx, detail: string): Reply => invalidRequest(ctx.req.baseUrl, detail);

const isJsonMimetype = (contentType: string | undefined): boolean => {
  const mimetype = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return (
    mimetype === 'application/json' || (mimetype.startsWith('application/') && mimetype.endsWith('+json'))
  );
};

/**
 * Flask's request.get_json(silent=optional). Without a JSON Content-Type, or with malformed JSON, a non-silent read
 * is a 400 C "The browser (or proxy) sent a request…" (the recorded instance's Werkzeug 2.2; Werkzeug ≥ 2.3 would
 * answer 415 to the missing Content-Type).
 */
export const jsonBody = (ctx: Ctx, optional: boolean): Outcome<Json | undefined> => {
  const fallback = optional ? ok(undefined) : refuse<Json | undefined>(restAbort(400, WERKZEUG.badRequest));
  if (!isJsonMimetype(ctx.req.headers['content-type'])) return fallback;
  try {
    return ok(JSON.parse(ctx.req.body.toString('utf8')) as Json);
  } catch {
    return fallback;
  }
};

/** validate_json_request: "Missing JSON body", or jsonschema's full error text as a 400 A. */
export const validatedBody = (ctx: Ctx, schemaName: string, optional = false): Outcome<Json | undefined> => {
  const body = jsonBody(ctx, optional);
  if (!body.ok) return body;
  if (body.value === undefined || body.value === null) {
    return optional ? ok(undefined) : refuse(badRequest(ctx, 'Missing JSON body'));
  }
  const error = firstSchemaError(body.value, ctx.services.schema(schemaName));
  return error === undefined ? body : refuse(badRequest(ctx, describeSchemaError(error)));
};

const FALSY = new Set(['false', 'False', '0', 'FALSE', '', 'null']);

/** util.parsing.truthy_bool */
export const boolArg = (ctx: Ctx, name: string, fallback: boolean): boolean => {
  const raw = ctx.req.query.get(name);
  return raw === null ? fallback : !FALSY.has(raw);
};

/** reqparse with type=int: a bad value answers 400 C with the parameter's help text. */
export const intArg = <D>(ctx: Ctx, name: string, help: string, fallback: D): Outcome<number | D> => {
  const raw = ctx.req.query.get(name);
  if (raw === null) return ok(fallback);
  const text = raw.trim().replace(/(?<=\d)_(?=\d)/g, '');
  return /^[+-]?\d+$/.test(text) ? ok(parseInt(text, 10)) : refuse(restAbort(400, { [name]: help }));
};

/** An application/x-www-form-urlencoded body (Flask's request.form), else undefined. */
export const formBody = (ctx: Ctx): URLSearchParams | undefined => {
  const mimetype = (ctx.req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mimetype === 'application/x-www-form-urlencoded'
    ? new URLSearchParams(ctx.req.body.toString('utf8'))
    : undefined;
};

export const stringArg = (ctx: Ctx, name: string): string | undefined => ctx.req.query.get(name) ?? undefined;
