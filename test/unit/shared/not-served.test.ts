// Plain Kubernetes serves no image.openshift.io or build.openshift.io: how the bridge tells "this API is not served"
// from "this object does not exist", and what each step makes of it.
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { buildStep } from '../../../functions/build/handle.js';
import { imageStreamStep } from '../../../functions/image-stream/handle.js';
import { resyncStep } from '../../../functions/resync/handle.js';
import { serviceAccountStep } from '../../../functions/service-account/handle.js';
import { listServed } from '../../../shared/kube/client.js';
import { discoverServed } from '../../../shared/kube/discovery.js';
import { isNotServed } from '../../../shared/kube/errors.js';
import { ImageStream } from '../../../shared/kube/objects.js';
import { Resources } from '../../../shared/kube/resources.js';
import { makeHandler, type Step } from '../../../shared/runtime/handler.js';
import { partsFor } from '../../../shared/settings/parts.js';
import type { LogEnv } from '../../../shared/log.js';
import { apiServerEvent, pingEvent } from './fakes/events.js';
import { imageStream, namespace, serviceAccount, world, type TestWorld } from './fakes/env.js';

const OPENSHIFT = ['image.openshift.io/v1', 'build.openshift.io/v1'];
const plain = (): TestWorld => {
  const w = world();
  for (const v of OPENSHIFT) w.kube.unserve(v);
  return w;
};
const deliver = <Env extends LogEnv>(step: Step<Env>, env: Env, event: unknown) =>
  makeHandler(step, () => Promise.resolve(env))({ cloudevent: event });
const status = (w: TestWorld) =>
  w.kube.read(Resources.QuayIntegration, undefined, 'quay')?.status as
    | {
        conditions?: { type: string; status: string; reason: string }[];
        parts?: { name: string; active: boolean; message: string }[];
      }
    | undefined;

describe('an API the cluster does not serve', () => {
  describe('isNotServed (a 404 of the path, not of an object)', () => {
    const table: readonly [string, number, string, boolean][] = [
      ['the API server’s plain-text answer for an unknown path', 404, '404 page not found\n', true],
      ['an empty 404', 404, '', true],
      ['JSON that is not a Status', 404, '{"error":"not found"}', true],
      [
        'a Status NotFound: the object does not exist',
        404,
        '{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}',
        false,
      ],
      ['another status code', 403, '404 page not found', false],
    ];
    for (const [what, code, body, expected] of table)
      it(`${what} → ${String(expected)}`, () => {
        expect(isNotServed(code, body)).to.equal(expected);
      });
  });

  it('lists as none, and is not discovered', async () => {
    const w = plain();
    expect(await listServed(w.kube, ImageStream, Resources.ImageStream)()).to.deep.equal(E.right(O.none));
    const served = await discoverServed(w.kube, [
      Resources.ImageStream,
      Resources.Build,
      Resources.Namespace,
    ])();
    if (E.isLeft(served)) throw new Error(served.left.message);
    expect([Resources.ImageStream, Resources.Build, Resources.Namespace].map(served.right)).to.deep.equal([
      false,
      false,
      true,
    ]);
  });

  it('names the inactive parts and why', () => {
    const parts = partsFor((t) => !OPENSHIFT.includes(t.apiVersion));
    expect(parts.map((p) => [p.name, p.active])).to.deep.equal([
      ['Namespaces', true],
      ['ServiceAccounts', true],
      ['ImageStreams', false],
      ['Builds', false],
    ]);
    expect(parts[2]?.message).to.match(
      /does not serve image\.openshift\.io\/v1 imagestreams: the bridge creates no repositories/,
    );
    expect(partsFor(() => true).every((p) => p.active)).to.equal(true);
  });

  it('resync: syncs namespaces and ServiceAccounts, writes which parts are active, and answers 204', async () => {
    const w = plain();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'default'));
    const answer = await deliver(resyncStep, w.env, pingEvent());
    expect(answer.statusCode).to.equal(204);
    expect([...(w.quay.orgs.get('openshift_team-a')?.robots.keys() ?? [])]).to.deep.equal([
      'openshift_team-a+default',
    ]);
    expect(w.kube.read(Resources.Secret, 'team-a', 'default-quay-openshift')?.type).to.equal(
      'kubernetes.io/dockerconfigjson',
    );
    expect(
      w.kube.calls.some((c) => c.startsWith('list ImageStream')),
      'an unserved type is not listed',
    ).to.equal(false);
    expect(status(w)?.conditions?.map((c) => [c.type, c.status, c.reason])).to.deep.include([
      'Ready',
      'True',
      'Synced',
    ]);
    expect(status(w)?.parts?.map((p) => [p.name, p.active])).to.deep.equal([
      ['Namespaces', true],
      ['ServiceAccounts', true],
      ['ImageStreams', false],
      ['Builds', false],
    ]);
  });

  it('resync: an API installed since the last pass is used by the next, and the parts say so', async () => {
    const w = plain();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'default'));
    await deliver(resyncStep, w.env, pingEvent());
    for (const v of OPENSHIFT) w.kube.serve(v);
    w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    const answer = await deliver(resyncStep, w.env, pingEvent());
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.get('openshift_team-a')?.repos.get('web')?.get('openshift_team-a+default')).to.equal(
      'read',
    );
    expect(status(w)?.parts?.every((p) => p.active)).to.equal(true);
  });

  it('resync: keeps the conditions as they are when only the parts change', async () => {
    const w = plain();
    await deliver(resyncStep, w.env, pingEvent());
    const before = status(w)?.conditions;
    for (const v of OPENSHIFT) w.kube.serve(v);
    await deliver(resyncStep, w.env, pingEvent());
    expect(status(w)?.conditions).to.deep.equal(before);
    expect(status(w)?.parts?.find((p) => p.name === 'ImageStreams')?.active).to.equal(true);
  });

  it('service-account step: the robot, its Secret and link, with no repositories to grant (204)', async () => {
    const w = plain();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    const sa = w.kube.put(Resources.ServiceAccount, serviceAccount('team-a', 'default'));
    const answer = await deliver(serviceAccountStep, w.env, apiServerEvent('add', sa));
    expect(answer.statusCode).to.equal(204);
    expect(w.kube.read(Resources.ServiceAccount, 'team-a', 'default')?.imagePullSecrets).to.deep.equal([
      { name: 'default-quay-openshift' },
    ]);
    expect(w.log.lines[0]).to.include({ outcome: 'created' });
  });

  it('image-stream and build steps: 204, final, with a log line saying the API is not served', async () => {
    const w = plain();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    const is = apiServerEvent('add', imageStream('team-a', 'web'));
    const build = apiServerEvent('update', {
      apiVersion: 'build.openshift.io/v1',
      kind: 'Build',
      metadata: { name: 'app-1', namespace: 'team-a' },
    });
    for (const [step, event] of [
      [imageStreamStep, is],
      [buildStep, build],
    ] as const) {
      const answer = await deliver(step as Step<LogEnv>, w.env, event);
      expect([answer.statusCode, answer.body]).to.deep.equal([204, '']);
    }
    expect(w.log.lines.map((l) => [l.outcome, l.errorTag])).to.deep.equal([
      ['ignored', 'KubeNotServed'],
      ['ignored', 'KubeNotServed'],
    ]);
    expect(String(w.log.lines[0]?.error)).to.include('does not serve');
  });
});
