// What the emulator answers, in Quay's five error-body shapes (docs/quay-api.md#error-bodies) and its success encodings.
import { pythonJson, type Json, type JsonObject } from './json.js';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Bytes sent instead of `body` (registry blobs and manifests). */
  readonly raw?: Buffer;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const HTML_TYPE = { 'content-type': 'text/html; charset=utf-8' };

/** A Flask-RESTful success: `json.dumps` with ", "/": " and a trailing newline. */
export const restful = (value: Json, status = 200): Reply => ({
  status,
  headers: JSON_TYPE,
  body: pythonJson(value, 'restful'),
});

/** `return "", 204`: Quay still labels the empty body JSON. */
export const noContent = (): Reply => ({ status: 204, headers: JSON_TYPE, body: '' });

/** Flask's jsonify: compact, keys sorted. */
export const jsonify = (value: Json, status: number): Reply => ({
  status,
  headers: JSON_TYPE,
  body: pythonJson(value, 'jsonify'),
});

export const ERROR_DESCRIPTIONS = {
  external_service_timeout: 'An external service timed out. Retrying the request may resolve the issue.',
  invalid_request:
    'The request was invalid. It may have contained invalid values or was improperly formatted.',
  invalid_response: 'The response was invalid.',
  invalid_token: 'The access token provided was invalid.',
  expired_token: 'The access token provided has expired.',
  insufficient_scope: 'The access token did not have sufficient scope to access the requested resource.',
  fresh_login_required: 'The action requires a fresh login to succeed.',
  exceeds_license: 'The action was refused because the current license does not allow it.',
  not_found: 'The resource was not found.',
  downstream_issue: 'An error occurred in a downstream service.',
} as const;
export type ErrorType = keyof typeof ERROR_DESCRIPTIONS;

export const errorTypeUrl = (baseUrl: string, type: string): string => `${baseUrl}/api/v1/error/${type}`;

/** Shape A: an ApiException, application/problem+json-like. */
export const apiError = (
  baseUrl: string,
  type: ErrorType,
  status: number,
  detail: string,
  payload: JsonObject = {},
): Reply =>
  restful(
    {
      ...payload,
      detail,
      error_message: detail,
      error_type: type,
      title: type,
      type: errorTypeUrl(baseUrl, type),
      status,
    },
    status,
  );

export const invalidRequest = (baseUrl: string, detail: string): Reply =>
  apiError(baseUrl, 'invalid_request', 400, detail);
export const notFound = (baseUrl: string): Reply => apiError(baseUrl, 'not_found', 404, 'Not Found');

/** endpoints.exception.Unauthorized: 401 when nobody is authenticated, 403 when the user lacks permission. */
export const unauthorized = (baseUrl: string, authenticated: boolean): Reply =>
  authenticated
    ? apiError(baseUrl, 'insufficient_scope', 403, 'Unauthorized')
    : apiError(baseUrl, 'invalid_token', 401, 'Requires authentication');

/** Shape B: a DataModelException escaping the endpoint, caught by the app-wide handler. */
export const dataModelError = (message: string): Reply => jsonify({ message }, 400);

/** Shape C: Flask-RESTful `abort(code, message=…)` and Werkzeug HTTP errors. */
export const restAbort = (
  status: number,
  message: Json,
  headers: Readonly<Record<string, string>> = {},
): Reply => {
  const r = restful({ message }, status);
  return { ...r, headers: { ...r.headers, ...headers } };
};

export const WERKZEUG = {
  badRequest: 'The browser (or proxy) sent a request that this server could not understand.',
  forbidden:
    "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
  methodNotAllowed: 'The method is not allowed for the requested URL.',
} as const;

/** Shape D: util.http.abort — JSON text, labelled text/html. */
export const htmlAbort = (status: number, message: string): Reply => ({
  status,
  headers: HTML_TYPE,
  body: pythonJson({ error: message }, 'dumps'),
});

/** verify_csrf's refusal; it names the user when one is authenticated (session or HTTP Basic). */
export const csrfFailure = (username?: string): Reply =>
  htmlAbort(
    403,
    `CSRF token was invalid or missing.${username === undefined ? '' : ` (authorized: user ${username})`}`,
  );

/** Shape E: an uncaught exception, Werkzeug's HTML page. */
export const internalServerError = (): Reply => ({
  status: 500,
  headers: HTML_TYPE,
  body:
    '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n' +
    '<p>The server encountered an internal error and was unable to complete your request. Either the server is ' +
    'overloaded or there is an error in the application.</p>\n',
});

/** Unknown routes get the web blueprint's HTML page, not JSON. */
export const htmlNotFound = (): Reply => ({
  status: 404,
  headers: HTML_TYPE,
  body:
    '<!DOCTYPE html>\n<html>\n<head><title>Quay</title></head>\n<body>\n<h1>404: Not Found</h1>\n' +
    '<p>The page you are looking for does not exist (Quay emulator).</p>\n</body>\n</html>\n',
});

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Werkzeug's strict-slashes redirect. */
export const permanentRedirect = (location: string): Reply => ({
  status: 308,
  headers: { ...HTML_TYPE, location },
  body:
    '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
    `<p>You should be redirected automatically to the target URL: <a href="${escapeHtml(location)}">` +
    `${escapeHtml(location)}</a>. If not, click the link.\n`,
});
