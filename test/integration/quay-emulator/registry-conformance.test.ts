// Replays the registry v2 exchanges recorded from a real Quay (test/fixtures/quay/registry-v2-exchanges.json) against
// a fresh emulator, in order: the setup, the token grants a push and a pull use, then the push of a one-layer image
// (blob uploads, manifests) and its pull (manifests, blobs, tags) with the robots' bearer tokens, and the refusals.
// Status, Content-Type, the registry headers (Docker-Content-Digest, Location, Range, Link, WWW-Authenticate,
// Docker-Upload-UUID) and the body are compared.
//
// Normalization, only of what is random or redacted in the recording:
//  1. The server's scheme://host:port becomes <origin>, its host:port <host>, on both sides.
//  2. Robot tokens and registry JWTs are placeholders in the recording: requests carry the emulator's real ones
//     (a robot's token from its creation, a JWT from the grant the request names: (a), (b), (b2)), and a granted
//     JWT must be three base64url parts.
//  3. Upload UUIDs become the emulator's (from its POST), in paths and headers.
//  4. The layer's bytes were not recorded (only their length and sha256): bytes of that length are made up, and
//     the recorded layer digest is renamed to theirs everywhere after; a manifest naming it then has another
//     digest too, renamed the same way. The config blob and the manifests are sent byte for byte as recorded.
//  Left out: #13–#25 (token grants for wrong passwords, the 'creator' role, other organizations, anonymous and
//  malformed requests: the emulator's /v2/auth, not the routes replayed here), #46 (a manifest GET without Accept,
//  which Quay answers with a signed schema 1 conversion; every client here sends Accept) and #59–#61 (the API's
//  manifest view, not emulated). API calls (the setup, the tag views) are compared by status and Content-Type here,
//  their bodies by the API conformance test, except the tag views' names and digests.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Exchange {
  readonly note: string;
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly auth?: string;
    readonly headers?: Record<string, string>;
    readonly body: Json;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Record<string, string>;
    readonly body: Json;
  };
}

const recording = JSON.parse(
  readFileSync(new URL('../../fixtures/quay/registry-v2-exchanges.json', import.meta.url), 'utf8'),
) as { readonly exchanges: readonly Exchange[] };

const REPLAYED = recording.exchanges
  .map((e, i) => [i, e] as const)
  .filter(([i]) => i <= 12 || (i >= 26 && i <= 58 && i !== 46));
const COMPARED_HEADERS = [
  'docker-content-digest',
  'location',
  'range',
  'link',
  'www-authenticate',
  'docker-upload-uuid',
];
const RECORDED_ORIGIN = 'http://127.0.0.1:18480';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const isBinary = (b: Json): b is { binary: true; length: number; sha256: string } =>
  typeof b === 'object' && b !== null && !Array.isArray(b) && b['binary'] === true;

describe('Quay emulator conformance: the recorded registry v2 exchanges (push and pull), in order', function () {
  this.timeout(30_000);
  let quay: QuayEmulator;
  const robotTokens = new Map<string, string>();
  const jwts = new Map<string, string>();
  const renames = new Map<string, string>(); // recorded → emulator: upload UUIDs and digests
  const rename = (s: string): string => {
    let out = s;
    for (const [from, to] of renames) out = out.split(from).join(to);
    return out;
  };
  const normalize = (s: string, origin: string): string =>
    s.split(origin).join('<origin>').split(new URL(origin).host).join('<host>');

  before(async () => {
    quay = await startQuayEmulator({ seed: 11 });
  });
  after(async () => {
    await quay.close();
  });

  const authorization = (e: Exchange): string | undefined => {
    const auth = e.request.auth ?? '';
    const basic = /^HTTP Basic, username (\S+),/.exec(auth);
    if (basic?.[1] !== undefined)
      return `Basic ${Buffer.from(`${basic[1]}:${robotTokens.get(basic[1]) ?? ''}`).toString('base64')}`;
    const bearer = /^Bearer <JWT from \((\w+)\)/.exec(auth);
    if (bearer?.[1] !== undefined) return `Bearer ${jwts.get(bearer[1]) ?? ''}`;
    if (auth === 'none' || e.request.path.startsWith('/v2/')) return undefined;
    return `Bearer ${quay.adminToken}`;
  };

  for (const [index, exchange] of REPLAYED)
    it(`#${String(index).padStart(2, '0')} ${exchange.note}`, async () => {
      const { request, response } = exchange;
      let body: Buffer | undefined;
      if (isBinary(request.body)) {
        body = Buffer.from(Array.from({ length: request.body.length }, (_, i) => (i * 7 + index) % 256));
        renames.set(request.body.sha256, sha256(body));
      } else if (typeof request.body === 'string') body = Buffer.from(rename(request.body));
      else if (request.body !== null) body = Buffer.from(JSON.stringify(request.body));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers ?? {}))
        if (!['authorization', 'content-length'].includes(k.toLowerCase())) headers[k] = rename(v);
      const auth = authorization(exchange);
      if (auth !== undefined) headers['authorization'] = auth;
      const typed = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
      if (body !== undefined && !typed) headers['content-type'] = 'application/json';
      const res = await fetch(`${quay.url}${rename(request.path)}`, {
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
      });
      const bytes = Buffer.from(await res.arrayBuffer());

      // What the emulator made where the recording has its own: robots' tokens, JWTs, upload UUIDs, digests.
      const text = bytes.toString('utf8');
      if (response.status === 201 && /\/robots\//.test(request.path)) {
        const robot = JSON.parse(text) as { name: string; token: string };
        robotTokens.set(robot.name, robot.token);
      }
      const label = /^\((\w+)\)/.exec(exchange.note)?.[1];
      if (request.path.startsWith('/v2/auth') && res.status === 200 && label !== undefined) {
        const token = (JSON.parse(text) as { token: string }).token;
        expect(token.split('.').map((p) => /^[\w-]+$/.test(p))).to.deep.equal([true, true, true]);
        jwts.set(label, token);
      }
      const uuid = res.headers.get('docker-upload-uuid');
      const recordedUuid = response.headers['docker-upload-uuid'];
      if (uuid !== null && recordedUuid !== undefined && request.method === 'POST')
        renames.set(recordedUuid, uuid);
      const digest = res.headers.get('docker-content-digest');
      const recordedDigest = response.headers['docker-content-digest'];
      if (digest !== null && recordedDigest !== undefined && digest !== recordedDigest)
        renames.set(recordedDigest.replace('sha256:', ''), digest.replace('sha256:', ''));

      expect(res.status, 'status').to.equal(response.status);
      const type = (h: string | null | undefined) => (h ?? '').split(';', 1)[0];
      expect(type(res.headers.get('content-type')), 'content-type').to.equal(
        type(response.headers['content-type']),
      );
      for (const name of COMPARED_HEADERS) {
        const recorded = response.headers[name];
        if (recorded === undefined) continue;
        expect(normalize(res.headers.get(name) ?? '<missing>', quay.url), name).to.equal(
          normalize(rename(recorded), RECORDED_ORIGIN),
        );
      }
      if (request.method === 'HEAD' || request.path.startsWith('/v2/auth')) return;
      if (!request.path.startsWith('/v2/')) {
        if (request.path.includes('/tag/')) {
          const tags = (b: Json) =>
            (b as { tags: { name: string; manifest_digest: string }[] }).tags.map((t) => [
              t.name,
              t.manifest_digest,
            ]);
          expect(tags(JSON.parse(text) as Json)).to.deep.equal(
            tags(JSON.parse(rename(JSON.stringify(response.body))) as Json),
          );
        }
        return;
      }
      if (isBinary(response.body)) {
        expect(bytes.length).to.equal(response.body.length);
        expect(sha256(bytes)).to.equal(rename(response.body.sha256));
      } else if (typeof response.body === 'string') {
        expect(normalize(text, quay.url)).to.equal(normalize(rename(response.body), RECORDED_ORIGIN));
      } else if (response.body !== null && request.path.startsWith('/v2/')) {
        expect(JSON.parse(normalize(text, quay.url)) as Json).to.deep.equal(
          JSON.parse(normalize(rename(JSON.stringify(response.body)), RECORDED_ORIGIN)) as Json,
        );
      }
    });
});
