// Replays the 156 request/response pairs recorded from a real Quay (test/fixtures/quay/golden-exchanges.json)
// against a fresh emulator, in order, and compares status, Content-Type, the Location and Allow headers where
// recorded, and the parsed body. Each recorded request body is also validated against its operation's request
// schema in the recorded Swagger document (discovery-swagger2.json) with ajv, independently of the emulator.
//
// Normalization: only values random by nature are normalized, and never a status code or an error message.
//  1. Secrets — robot tokens (64 × [A-Z0-9]) and generated passwords (32 × [A-Z0-9]) — and UUIDs (prototype ids,
//     repository status tokens, the random e-mails of namespaces created without one) are renamed consistently:
//     each distinct value becomes `<secret#n>` / `<uuid#n>` in order of first appearance, separately for the
//     recording and for the emulator. A value that must repeat (a robot's token in a later listing, a prototype
//     id) must repeat, and one that must change (a regenerated token) must change.
//  2. RFC 2822 dates ("Wed, 25 Nov 2026 08:04:15 -0000") must have that exact form and become `<date>`; `null`
//     stays `null` (a `last_accessed` that should be set cannot pass as unset).
//  3. `start_ts` must be an integer number of epoch seconds and becomes `<start_ts>`.
//  4. Avatars derived from a random e-mail — robots', and those of namespaces created without an e-mail (taken
//     from the recorded requests) — have their `hash` renamed as in rule 1 (`<avatar#n>`) and their `color`
//     checked to be `#rrggbb` and replaced by `<color>`. All other avatars are compared exactly.
//  5. The scheme://host:port of the server, in `type` URLs, redirect targets and the redirect page, becomes
//     `<origin>` on both sides.
//  6. `next_page` must be a Fernet token (`gAAAAA…`) and becomes `<fernet-page-token>`; the recording redacted it.
//  7. `encrypted_password` must be a non-empty string and becomes `<encrypted-password>`; the recording redacted it.
//  8. The Allow header is compared as a set of methods (Werkzeug writes it in set order).
import { expect } from 'chai';
import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Exchange {
  readonly note: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly token_scopes: string | null;
    readonly body: Json;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: Json;
  };
}

const REFERENCE = new URL('../../fixtures/quay/', import.meta.url);
const golden = JSON.parse(readFileSync(new URL('golden-exchanges.json', REFERENCE), 'utf8')) as {
  readonly exchanges: readonly Exchange[];
};
const swagger = JSON.parse(readFileSync(new URL('discovery-swagger2.json', REFERENCE), 'utf8')) as {
  readonly paths: Record<
    string,
    Record<string, { parameters?: { in: string; schema?: { $ref?: string } }[] }>
  >;
  readonly definitions: Record<string, Json>;
};

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- rule inputs taken from the recording itself ----

const recordedOrigin = ((): string => {
  for (const e of golden.exchanges) {
    const body = e.response.body;
    if (isObject(body) && typeof body['type'] === 'string') return new URL(body['type']).origin;
  }
  throw new Error('no `type` URL in the recording');
})();

/** Namespaces the recording created without an e-mail: Quay gave them a UUID e-mail, so a random avatar. */
const randomEmailNamespaces = new Set(
  golden.exchanges
    .filter(
      (e) =>
        e.request.method === 'POST' &&
        ['/api/v1/organization/', '/api/v1/superuser/users/'].includes(e.request.path) &&
        e.response.status < 300 &&
        isObject(e.request.body) &&
        e.request.body['email'] === undefined &&
        e.request.body['contact_email'] === undefined,
    )
    .map((e) => {
      const body = e.request.body as { [key: string]: Json };
      const name = body['name'] ?? body['username'];
      return typeof name === 'string' ? name : '';
    }),
);

// ---- normalization ----

class Side {
  private readonly byValue = new Map<string, string>();
  private readonly byName = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  constructor(readonly origin: string) {}

  rename(kind: string, value: string): string {
    const known = this.byValue.get(value);
    if (known !== undefined) return known;
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    const name = `<${kind}#${n}>`;
    this.byValue.set(value, name);
    this.byName.set(name, value);
    return name;
  }

  name(value: string): string | undefined {
    return this.byValue.get(value);
  }

  value(name: string): string | undefined {
    return this.byName.get(name);
  }
}

const RFC2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const SECRET = /^(?:[A-Z0-9]{32}|[A-Z0-9]{64})$/;

const isRandomAvatar = (o: { [key: string]: Json }): boolean =>
  o['kind'] === 'robot' || (typeof o['name'] === 'string' && randomEmailNamespaces.has(o['name']));

const normalize = (value: Json, side: Side, key?: string): Json => {
  if (typeof value === 'string') {
    if (key === 'next_page' && value.startsWith('gAAAAA')) return '<fernet-page-token>';
    if (key === 'encrypted_password' && value !== '') return '<encrypted-password>';
    if (RFC2822.test(value)) return '<date>';
    if (UUID.test(value)) return side.rename('uuid', value);
    if (SECRET.test(value)) return side.rename('secret', value);
    return value.split(side.origin).join('<origin>');
  }
  if (typeof value === 'number') {
    return key === 'start_ts' && Number.isInteger(value) && value > 1_000_000_000 ? '<start_ts>' : value;
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, side));
  if (!isObject(value)) return value;
  const keys = Object.keys(value).sort();
  const isAvatar = ['color', 'hash', 'kind', 'name'].every((k) => keys.includes(k)) && keys.length === 4;
  return Object.fromEntries(
    keys.map((k) => {
      const v = value[k] ?? null;
      if (isAvatar && isRandomAvatar(value) && typeof v === 'string') {
        if (k === 'hash' && /^[0-9a-f]{64}$/.test(v)) return [k, side.rename('avatar', v)];
        if (k === 'color' && /^#[0-9a-f]{6}$/.test(v)) return [k, '<color>'];
      }
      return [k, normalize(v, side, k)];
    }),
  );
};

/** A recorded request path with the recording's UUIDs replaced by the emulator's counterparts. */
const translatePath = (path: string, recorded: Side, actual: Side): string =>
  path.replace(UUID_IN_TEXT, (uuid) => {
    const name = recorded.name(uuid);
    return (name === undefined ? undefined : actual.value(name)) ?? uuid;
  });

// ---- request schemas (ajv, independent of the emulator's own validator) ----

/** Swagger 2 definitions are draft-4 style; ajv 8 refuses draft-4's `id` keyword, which carries nothing here. */
const withoutIds = (schema: Json): Json => {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (!isObject(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) =>
        k === 'properties' && isObject(v)
          ? [k, Object.fromEntries(Object.entries(v).map(([p, s]) => [p, withoutIds(s)]))]
          : [k, withoutIds(v)],
      ),
  );
};

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'swagger', definitions: withoutIds(swagger.definitions) as Record<string, object> });

const swaggerRoutes = Object.entries(swagger.paths)
  .map(([template, operations]) => {
    const segments = template.split('/');
    const pattern = segments
      .map((s) =>
        s === '{repository}'
          ? '[^/]+(?:/[^/]+)+'
          : /^\{\w+\}$/.test(s)
            ? '[^/]+'
            : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    return {
      template,
      operations,
      regex: new RegExp(`^${pattern}$`),
      statics: segments.filter((s) => !s.startsWith('{')).length,
    };
  })
  .sort((a, b) => b.statics - a.statics);

/** The validator of the operation's body parameter, found the way Werkzeug routes (static segments first). */
const bodyValidator = (
  method: string,
  path: string,
): { readonly template: string; readonly validate: ValidateFunction } => {
  const route = swaggerRoutes.find(
    (r) => r.regex.test(path) && r.operations[method.toLowerCase()] !== undefined,
  );
  const ref = route?.operations[method.toLowerCase()]?.parameters?.find((p) => p.in === 'body')?.schema?.$ref;
  if (route === undefined || ref === undefined) throw new Error(`no request schema for ${method} ${path}`);
  const validate = ajv.getSchema(`swagger${ref}`);
  if (validate === undefined) throw new Error(`cannot compile ${ref}`);
  return { template: route.template, validate };
};

// ---- the replay ----

const ALL_SCOPES = 'org:admin repo:admin repo:create repo:read repo:write super:user user:admin user:read';

describe('Quay emulator conformance: the 156 recorded exchanges, in order', function () {
  this.timeout(30_000);
  let quay: QuayEmulator;
  const recorded = new Side(recordedOrigin);
  let actual: Side;
  const tokens = new Map<string, string>();

  before(async () => {
    quay = await startQuayEmulator({ seed: 156 });
    actual = new Side(quay.url);
  });
  after(async () => {
    await quay.close();
  });

  const tokenFor = (scopes: string | null): string | undefined => {
    if (scopes === null) return undefined;
    if (scopes === ALL_SCOPES) return quay.adminToken;
    const known = tokens.get(scopes);
    if (known !== undefined) return known;
    const token =
      scopes === 'expired'
        ? quay.createToken('quayadmin', ALL_SCOPES.split(' '), { expiresInSeconds: -1 })
        : quay.createToken('quayadmin', scopes.split(' '));
    tokens.set(scopes, token);
    return token;
  };

  /**
   * Between "tags of missing repo" and "tags after push of v1 and latest" the recording pushed two tags with the
   * builder robot. Here the robot authenticates to the registry token endpoint (which is what sets its
   * last_accessed, seen in later robot listings) and the push is simulated with the recorded digests and size.
   */
  const pushAsRecorded = async (exchange: Exchange): Promise<void> => {
    const builder = quay.state().robots.find((r) => r.name === 'demo+builder');
    expect(builder, 'robot demo+builder').to.not.equal(undefined);
    const basic = Buffer.from(`demo+builder:${builder?.token ?? ''}`).toString('base64');
    const auth = await fetch(
      `${quay.url}/v2/auth?service=${encodeURIComponent(quay.registryHost)}&scope=repository:demo/app:pull,push`,
      { headers: { authorization: `Basic ${basic}` } },
    );
    expect(auth.status).to.equal(200);
    const { token } = (await auth.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      access: { name: string; actions: string[] }[];
    };
    // docs/quay-api.md#registry-auth: a robot with a prototype-granted write gets ["push","pull"].
    expect(claims.access).to.deep.equal([
      { type: 'repository', name: 'demo/app', actions: ['push', 'pull'] },
    ]);
    const tags = (
      exchange.response.body as { tags: { name: string; manifest_digest: string; size: number }[] }
    ).tags;
    for (const t of [...tags].reverse())
      quay.pushTag('demo', 'app', t.name, t.manifest_digest, { size: t.size });
  };

  golden.exchanges.forEach((exchange, index) => {
    it(`#${String(index).padStart(3, '0')} ${exchange.note}`, async () => {
      const { request, response } = exchange;
      if (exchange.note === 'tags after push of v1 and latest') await pushAsRecorded(exchange);

      if (request.body !== null) {
        const { template, validate } = bodyValidator(request.method, request.path);
        const detail = isObject(response.body) ? response.body['detail'] : undefined;
        const quayRejectedSchema = typeof detail === 'string' && detail.includes('\n\nFailed validating ');
        expect(
          validate(request.body),
          `${template} schema accepts the recorded body: ${ajv.errorsText(validate.errors)}`,
        ).to.equal(!quayRejectedSchema);
      }

      const token = tokenFor(request.token_scopes);
      const res = await fetch(`${quay.url}${translatePath(request.path, recorded, actual)}`, {
        method: request.method,
        redirect: 'manual',
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(request.body === null ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === null ? {} : { body: JSON.stringify(request.body) }),
      });
      const text = await res.text();

      expect(res.status, 'status').to.equal(response.status);
      const recordedType = response.headers['content-type'];
      if (recordedType !== undefined)
        expect(res.headers.get('content-type'), 'content-type').to.equal(recordedType);
      const location = response.headers['location'];
      if (location !== undefined) {
        expect(normalize(res.headers.get('location'), actual), 'location').to.equal(
          normalize(location, recorded),
        );
      }
      const allow = response.headers['allow'];
      if (allow !== undefined) {
        const methods = (v: string | null): string[] =>
          (v ?? '')
            .split(',')
            .map((m) => m.trim())
            .sort();
        expect(methods(res.headers.get('allow')), 'allow').to.deep.equal(methods(allow));
      }

      const body: Json =
        typeof response.body === 'string' && recordedType?.startsWith('text/html') === true
          ? text
          : text === ''
            ? null
            : (JSON.parse(text) as Json);
      expect(normalize(body, actual), 'body').to.deep.equal(normalize(response.body, recorded));
    });
  });
});
