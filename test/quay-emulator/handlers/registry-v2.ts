// The registry v2 API a build pushes with and a cluster pulls with, as Quay answers it
// (test/fixtures/quay/registry-v2-exchanges.json): bearer tokens from /v2/auth checked for the repository and the
// action, blob uploads (POST, PATCH chunks, PUT ?digest), blobs by digest, manifests by tag or digest, tags/list.
// Blobs and manifests are kept as bytes; a manifest PUT by tag moves the tag, as the API's tag views show.
import { createHash, createPublicKey, createVerify } from 'node:crypto';
import { param, type Ctx, type Handler } from '../context.js';
import { pythonJson } from '../json.js';
import { pushTag } from '../model-repos.js';
import type { Reply } from '../replies.js';
import type { Repository } from '../state.js';

const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };
const TEXT = { 'content-type': 'text/html; charset=utf-8' };
const DIGEST = /^sha256:[0-9a-f]{64}$/;

const v2Error = (
  status: number,
  code: string,
  message: string,
  detail: object = {},
  headers = {},
): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: pythonJson({ errors: [{ code, detail: detail as Record<string, never>, message }] }, 'jsonify'),
});

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** The `access` claim of a bearer token this emulator signed, or undefined when there is none or it is forged. */
const bearerAccess = (ctx: Ctx): readonly Access[] | undefined => {
  const bearer = /^Bearer (\S+)$/i.exec(ctx.req.headers.authorization ?? '')?.[1];
  const [h, c, s] = (bearer ?? '').split('.');
  if (h === undefined || c === undefined || s === undefined) return undefined;
  const verifier = createVerify('sha256').update(`${h}.${c}`);
  if (!verifier.verify(createPublicKey(ctx.services.registryKey().privateKey), Buffer.from(s, 'base64url')))
    return undefined;
  try {
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as {
      access?: Access[];
      exp?: number;
    };
    if (claims.exp !== undefined && claims.exp * 1000 < ctx.world.now()) return undefined;
    return claims.access ?? [];
  } catch {
    return undefined;
  }
};

/** 401 with the challenge for `repository:<name>:<actions>`, as Quay asks for a token with that scope. */
const challenge = (ctx: Ctx, name: string, actions: string): Reply => {
  const host = new URL(ctx.req.baseUrl).host;
  return v2Error(
    401,
    'UNAUTHORIZED',
    'access to the requested resource is not authorized',
    {},
    {
      'www-authenticate': `Bearer realm="${ctx.req.baseUrl}/v2/auth",service="${host}",scope="repository:${name}:${actions}"`,
      ...API_VERSION,
    },
  );
};

/** The repository `{repo}` names, when the token grants `action` on it; else the reply to send. */
const authorized = (ctx: Ctx, action: 'pull' | 'push'): Repository | Reply => {
  const name = param(ctx, 'repo');
  const granted = (bearerAccess(ctx) ?? []).some(
    (a) => a.type === 'repository' && a.name === name && a.actions.includes(action),
  );
  if (!granted) return challenge(ctx, name, action === 'push' ? 'pull,push' : 'pull');
  const slash = name.indexOf('/');
  const repo = ctx.world.repository(name.slice(0, slash), name.slice(slash + 1));
  return repo ?? v2Error(404, 'NAME_UNKNOWN', 'repository name not known to registry');
};

const isReply = (r: Repository | Reply): r is Reply => 'status' in r;
const key = (repo: Repository, digest: string): string => `${String(repo.id)} ${digest}`;

export const getBlob: Handler = (ctx) => {
  const repo = authorized(ctx, 'pull');
  if (isReply(repo)) return repo;
  const digest = param(ctx, 'digest');
  const blob = ctx.world.blobs.get(key(repo, digest));
  if (blob === undefined) return v2Error(404, 'BLOB_UNKNOWN', 'blob unknown to registry');
  return {
    status: 200,
    headers: { 'docker-content-digest': digest, 'content-type': 'application/octet-stream' },
    body: '',
    raw: blob,
  };
};

const uploadLocation = (ctx: Ctx, uuid: string): string =>
  `${ctx.req.baseUrl}/v2/${param(ctx, 'repo')}/blobs/uploads/${uuid}`;

export const startUpload: Handler = (ctx) => {
  const repo = authorized(ctx, 'push');
  if (isReply(repo)) return repo;
  const uuid = ctx.world.random.uuid4();
  ctx.world.uploads.set(uuid, { repoId: repo.id, data: Buffer.alloc(0) });
  return {
    status: 202,
    headers: {
      'docker-upload-uuid': uuid,
      range: 'bytes=0--1',
      location: uploadLocation(ctx, uuid),
      ...TEXT,
    },
    body: '',
  };
};

const upload = (ctx: Ctx, repo: Repository): { data: Buffer } | undefined => {
  const u = ctx.world.uploads.get(param(ctx, 'uuid'));
  return u?.repoId === repo.id ? u : undefined;
};

export const patchUpload: Handler = (ctx) => {
  const repo = authorized(ctx, 'push');
  if (isReply(repo)) return repo;
  const u = upload(ctx, repo);
  if (u === undefined) return v2Error(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
  u.data = Buffer.concat([u.data, ctx.req.body]);
  const uuid = param(ctx, 'uuid');
  return {
    status: 202,
    headers: {
      location: uploadLocation(ctx, uuid),
      range: `0-${String(u.data.length - 1)}`,
      'docker-upload-uuid': uuid,
      ...TEXT,
    },
    body: '',
  };
};

export const finishUpload: Handler = (ctx) => {
  const repo = authorized(ctx, 'push');
  if (isReply(repo)) return repo;
  const u = upload(ctx, repo);
  if (u === undefined) return v2Error(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
  const data = Buffer.concat([u.data, ctx.req.body]);
  const digest = ctx.req.query.get('digest') ?? '';
  ctx.world.uploads.delete(param(ctx, 'uuid'));
  if (!DIGEST.test(digest) || sha256(data) !== digest)
    return v2Error(400, 'BLOB_UPLOAD_INVALID', 'blob upload invalid');
  ctx.world.blobs.set(key(repo, digest), data);
  return {
    status: 201,
    headers: {
      'docker-content-digest': digest,
      location: `${ctx.req.baseUrl}/v2/${param(ctx, 'repo')}/blobs/${digest}`,
      ...TEXT,
    },
    body: '',
  };
};

interface ManifestDoc {
  readonly config?: { readonly digest?: string; readonly size?: number };
  readonly layers?: readonly { readonly digest?: string; readonly size?: number }[];
}

export const putManifest: Handler = (ctx) => {
  const repo = authorized(ctx, 'push');
  if (isReply(repo)) return repo;
  const body = ctx.req.body;
  let doc: ManifestDoc;
  try {
    doc = JSON.parse(body.toString('utf8')) as ManifestDoc;
  } catch {
    return v2Error(400, 'MANIFEST_INVALID', 'manifest invalid', { message: 'could not parse the manifest' });
  }
  const referenced = [doc.config, ...(doc.layers ?? [])];
  for (const r of referenced) {
    const d = r?.digest ?? '';
    if (!ctx.world.blobs.has(key(repo, d)))
      return v2Error(400, 'MANIFEST_INVALID', 'manifest invalid', { message: `Unknown blob \`${d}\`` });
  }
  const digest = sha256(body);
  const mediaType = (ctx.req.headers['content-type'] ?? '').split(';', 1)[0] ?? '';
  ctx.world.manifests.set(key(repo, digest), { mediaType, body });
  const reference = param(ctx, 'reference');
  if (!DIGEST.test(reference)) {
    const size = (doc.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
    pushTag(ctx.world, repo, reference, digest, size);
  }
  return {
    status: 201,
    headers: {
      'docker-content-digest': digest,
      location: `/v2/${param(ctx, 'repo')}/manifests/${digest}`,
      ...TEXT,
    },
    body: 'OK',
  };
};

export const getManifest: Handler = (ctx) => {
  const repo = authorized(ctx, 'pull');
  if (isReply(repo)) return repo;
  const reference = param(ctx, 'reference');
  const digest = DIGEST.test(reference)
    ? reference
    : ctx.world.tagsOf(repo.id).find((t) => t.name === reference && t.endMs === null)?.digest;
  const manifest = digest === undefined ? undefined : ctx.world.manifests.get(key(repo, digest));
  if (digest === undefined || manifest === undefined)
    return v2Error(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
  return {
    status: 200,
    headers: { 'content-type': manifest.mediaType, 'docker-content-digest': digest },
    body: '',
    raw: manifest.body,
  };
};

export const listTags: Handler = (ctx) => {
  const repo = authorized(ctx, 'pull');
  if (isReply(repo)) return repo;
  const all = [
    ...new Set(
      ctx.world
        .tagsOf(repo.id)
        .filter((t) => t.endMs === null)
        .map((t) => t.name),
    ),
  ].sort();
  const last = ctx.req.query.get('last');
  const after = last === null ? all : all.filter((t) => t > last);
  const n = Number(ctx.req.query.get('n') ?? NaN);
  const page = Number.isInteger(n) && n > 0 ? after.slice(0, n) : after;
  const more = page.length < after.length;
  const name = param(ctx, 'repo');
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      ...(more
        ? { link: `</v2/${name}/tags/list?n=${String(n)}&last=${page[page.length - 1] ?? ''}>; rel="next"` }
        : {}),
    },
    body: pythonJson({ name, tags: page }, 'jsonify'),
  };
};
