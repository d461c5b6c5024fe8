// Werkzeug-style routing: templates with `{param}` (one segment) and `{param*}` (two or more segments, Quay's
// `apirepopath`), static segments winning over parameters, strict trailing slashes (308 to the slashed URL), 405
// with an Allow header for a known path and an unknown method, and nothing else matching at all (404).
import type { Handler } from './context.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  readonly template: string;
  readonly handlers: Partial<Record<Method, Handler>>;
  /** Quay's API blueprint checks CSRF on writes without a valid token; the web blueprint (initialize) does not. */
  readonly csrf?: boolean;
}

export interface Route extends RouteSpec {
  /** For request counting: the template with `{repo*}` written `{repo}`. */
  readonly key: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly staticSegments: number;
}

export const compileRoutes = (specs: readonly RouteSpec[]): readonly Route[] =>
  specs
    .map((spec): Route => {
      const names: string[] = [];
      let staticSegments = 0;
      const pattern = spec.template
        .split('/')
        .map((segment) => {
          const m = /^\{(\w+)(\*?)\}$/.exec(segment);
          if (m === null) {
            if (segment !== '') staticSegments += 1;
            return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          }
          names.push(m[1] ?? '');
          return m[2] === '*' ? '([^/]+(?:/[^/]+)+)' : '([^/]+)';
        })
        .join('/');
      return {
        ...spec,
        key: spec.template.replace(/\{(\w+)\*\}/g, '{$1}'),
        regex: new RegExp(`^${pattern}$`),
        names,
        staticSegments,
      };
    })
    .sort((a, b) => b.staticSegments - a.staticSegments);

export type Resolution =
  | {
      readonly kind: 'handler';
      readonly key: string;
      readonly route: Route;
      readonly handler: Handler;
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'options'; readonly key: string; readonly allow: string }
  | { readonly kind: 'method-not-allowed'; readonly key: string; readonly allow: string }
  | { readonly kind: 'redirect'; readonly key: string; readonly path: string }
  | { readonly kind: 'not-found'; readonly key: string };

const matching = (routes: readonly Route[], path: string) =>
  routes.flatMap((route) => {
    const m = route.regex.exec(path);
    if (m === null) return [];
    const params = Object.fromEntries(route.names.map((n, i) => [n, m[i + 1] ?? '']));
    return [{ route, params }];
  });

/** Werkzeug adds HEAD to GET routes and Flask adds OPTIONS everywhere. */
const allowed = (routes: readonly Route[]): string =>
  [
    ...new Set(
      routes.flatMap((r) => Object.keys(r.handlers)).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])),
    ),
  ]
    .concat('OPTIONS')
    .join(', ');

export const resolve = (routes: readonly Route[], method: string, path: string): Resolution => {
  const found = matching(routes, path);
  if (found.length === 0) {
    const slashed = path.endsWith('/') ? [] : matching(routes, `${path}/`);
    const first = slashed[0];
    if (first !== undefined)
      return { kind: 'redirect', key: `${method} ${first.route.key.replace(/\/$/, '')}`, path: `${path}/` };
    return { kind: 'not-found', key: `${method} (no route)` };
  }
  const lookup = method === 'HEAD' ? 'GET' : method;
  for (const { route, params } of found) {
    const handler = route.handlers[lookup as Method];
    if (handler !== undefined)
      return { kind: 'handler', key: `${method} ${route.key}`, route, handler, params };
  }
  const key = `${method} ${found[0]?.route.key ?? path}`;
  const allow = allowed(found.map((f) => f.route));
  return method === 'OPTIONS' ? { kind: 'options', key, allow } : { kind: 'method-not-allowed', key, allow };
};
