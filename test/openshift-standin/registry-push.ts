// What a build's last step does: push its image to the registry through the v2 API, with the Build's push secret
// (Docker's token flow: the challenge of GET /v2/, a bearer token from the realm for push,pull on the repository,
// blob uploads, the manifest PUT), and report the digest the registry answered. The image is small and made up
// here: one layer holding a file that names the Build, so that every build pushes an image of its own.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parseImageRef } from './image-ref.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface PushOptions {
  /** `http` or `https` for a registry host (host[:port]). */
  readonly scheme: (host: string) => 'http' | 'https';
  /** From the Build's push secret; none pushes anonymously (and a registry refuses). */
  readonly credentials?: RegistryCredentials | undefined;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A one-file POSIX tar (ustar): 512-byte header, the content padded to 512, two zero blocks. */
export const tarOf = (name: string, content: Buffer, mtimeSeconds: number): Buffer => {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number): void => {
    header.write(value.slice(0, length), offset, 'ascii');
  };
  const octal = (n: number, length: number): string => `${n.toString(8).padStart(length - 1, '0')}\0`;
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(content.length, 12), 124, 12);
  field(octal(mtimeSeconds, 12), 136, 12);
  field('        ', 148, 8); // the checksum is computed with its own field as spaces
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  const sum = header.reduce((s, b) => s + b, 0);
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
};

/** The image of one build: its layer (gzipped tar), its config, and the Docker schema 2 manifest naming both. */
export const buildImage = (
  build: { readonly namespace: string; readonly name: string },
  now: Date,
): { readonly layer: Buffer; readonly config: Buffer; readonly manifest: Buffer } => {
  const tar = tarOf(
    'quay-bridge-build.txt',
    Buffer.from(`Build ${build.namespace}/${build.name} at ${now.toISOString()}\n`),
    Math.floor(now.getTime() / 1000),
  );
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: now.toISOString(),
      config: {
        Labels: { 'io.openshift.build.name': build.name, 'io.openshift.build.namespace': build.namespace },
      },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      history: [{ created: now.toISOString(), created_by: 'the OpenShift stand-in of quay-bridge' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: layer.length,
          digest: sha256(layer),
        },
      ],
    }),
  );
  return { layer, config, manifest };
};

const challengeOf = (header: string | null): { realm: string; service: string } | undefined => {
  const realm = /realm="([^"]+)"/.exec(header ?? '')?.[1];
  const service = /service="([^"]+)"/.exec(header ?? '')?.[1];
  return realm === undefined ? undefined : { realm, service: service ?? '' };
};

const refused = async (what: string, res: Response): Promise<Error> =>
  new Error(`${what}: ${String(res.status)} ${(await res.text()).slice(0, 300)}`);

/** Pushes `image` as `ref` (`host[:port]/path[:tag]`) and answers the manifest digest the registry gave. */
export const pushImage = async (
  ref: string,
  image: { readonly layer: Buffer; readonly config: Buffer; readonly manifest: Buffer },
  options: PushOptions,
): Promise<string> => {
  const parsed = parseImageRef(ref);
  const slash = parsed?.repository.indexOf('/') ?? -1;
  if (parsed === undefined || slash < 0) throw new Error(`not a registry reference: ${ref}`);
  const host = parsed.repository.slice(0, slash);
  const path = parsed.repository.slice(slash + 1);
  const base = `${options.scheme(host)}://${host}`;

  const ping = await fetch(`${base}/v2/`);
  await ping.arrayBuffer();
  const headers: Record<string, string> = {};
  if (ping.status === 401) {
    const challenge = challengeOf(ping.headers.get('www-authenticate'));
    if (challenge === undefined)
      throw new Error(`${base}/v2/ asked for credentials without a Bearer challenge`);
    const url = new URL(challenge.realm);
    url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', `repository:${path}:push,pull`);
    const basic =
      options.credentials === undefined
        ? {}
        : {
            authorization: `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`,
          };
    const granted = await fetch(url, { headers: basic });
    if (granted.status !== 200) throw await refused(`token for ${path}`, granted);
    headers['authorization'] = `Bearer ${((await granted.json()) as { token: string }).token}`;
  }

  const putBlob = async (data: Buffer): Promise<void> => {
    const digest = sha256(data);
    const head = await fetch(`${base}/v2/${path}/blobs/${digest}`, { method: 'HEAD', headers });
    if (head.status === 200) return;
    const started = await fetch(`${base}/v2/${path}/blobs/uploads/`, { method: 'POST', headers });
    await started.arrayBuffer();
    if (started.status !== 202) throw await refused(`upload to ${path}`, started);
    const location = new URL(started.headers.get('location') ?? '', base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (put.status !== 201) throw await refused(`blob ${digest} to ${path}`, put);
    await put.arrayBuffer();
  };
  await putBlob(image.layer);
  await putBlob(image.config);
  const put = await fetch(`${base}/v2/${path}/manifests/${parsed.tag ?? 'latest'}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
    body: image.manifest,
  });
  if (put.status !== 201) throw await refused(`manifest of ${ref}`, put);
  await put.arrayBuffer();
  return put.headers.get('docker-content-digest') ?? sha256(image.manifest);
};

/** The credentials for `host` in a `.dockerconfigjson` (auths keyed by host, `auth` or username/password). */
export const credentialsFor = (dockerConfigJson: string, host: string): RegistryCredentials | undefined => {
  try {
    const auths =
      (
        JSON.parse(dockerConfigJson) as {
          auths?: Record<string, { auth?: string; username?: string; password?: string }>;
        }
      ).auths ?? {};
    const entry = auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`];
    if (entry === undefined) return undefined;
    if (entry.username !== undefined && entry.password !== undefined)
      return { username: entry.username, password: entry.password };
    const decoded = Buffer.from(entry.auth ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  } catch {
    return undefined;
  }
};
