import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import { imageStreamStep } from '../../../../functions/image-stream/handle.js';
import { missingGrants, planImageStream } from '../../../../shared/sync/repository-plan.js';
import { Resources } from '../../../../shared/kube/resources.js';
import { makeHandler } from '../../../../shared/runtime/handler.js';
import {
  decodeQuayIntegration,
  resolveSettings,
  type Settings,
} from '../../../../shared/settings/quay-integration.js';
import { apiServerEvent } from '../../shared/fakes/events.js';
import {
  IDENTITY,
  imageStream,
  namespace,
  quayIntegration,
  world,
  type TestWorld,
} from '../../shared/fakes/env.js';
import { markedDescription } from '../../../../shared/ownership.js';

const ours = 'quay.redhat.com/quayintegrations';
const deliver = (w: TestWorld, event: unknown) =>
  makeHandler(imageStreamStep, () => Promise.resolve(w.env))({ cloudevent: event });
const settingsOf = (spec: Record<string, unknown> = {}): Settings => {
  const s = E.flatMap(resolveSettings)(decodeQuayIntegration(quayIntegration(spec)));
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};
const robots = (w: TestWorld, ...sas: string[]) => {
  const org = w.quay.orgs.get('openshift_team-a');
  for (const sa of sas)
    org?.robots.set(`openshift_team-a+${sa}`, {
      name: `openshift_team-a+${sa}`,
      token: 'T',
      description: '',
    });
};

describe('image-stream plan', () => {
  const ns = O.some({ metadata: { name: 'team-a', finalizers: [ours] } });
  const is = O.some({ metadata: { name: 'web', namespace: 'team-a' } });
  const table = [
    ['an ImageStream in scope → ensure its repository', is, 'update', {}, 'Ensure'],
    ['a deleted ImageStream → keep the repository by default', O.none, 'delete', {}, 'Ignore'],
    [
      'a deleted ImageStream with deleteRepositoriesWithImageStreams → delete the repository',
      O.none,
      'delete',
      { deleteRepositoriesWithImageStreams: true },
      'DeleteRepository',
    ],
    [
      'a 404 after an update event, opted in → the same: the action is not what proves the deletion',
      O.none,
      'update',
      { deleteRepositoriesWithImageStreams: true },
      'DeleteRepository',
    ],
    [
      'a "delete" event for an ImageStream that exists → ensure its repository, never delete',
      is,
      'delete',
      { deleteRepositoriesWithImageStreams: true },
      'Ensure',
    ],
    [
      'an ImageStream being deleted (another finalizer holds it) → wait for its 404',
      O.some({ metadata: { name: 'web', namespace: 'team-a', deletionTimestamp: 'x' } }),
      'update',
      { deleteRepositoriesWithImageStreams: true },
      'Ignore',
    ],
    [
      'an ImageStream in a denied namespace → ignore',
      is,
      'add',
      { denylistNamespaces: ['team-a'] },
      'Ignore',
    ],
  ] as const;
  for (const [name, current, action, spec, want] of table)
    it(name, () => {
      expect(
        planImageStream(
          { namespaceName: 'team-a', name: 'web', current, namespace: ns, action },
          settingsOf(spec),
        )._tag,
      ).to.equal(want);
    });

  it('never deletes a repository whose namespace is going (the organization goes with it)', () => {
    const plan = planImageStream(
      {
        namespaceName: 'team-a',
        name: 'web',
        current: O.none,
        namespace: O.some({ metadata: { name: 'team-a', finalizers: [ours], deletionTimestamp: 'x' } }),
        action: 'delete',
      },
      settingsOf({ deleteRepositoriesWithImageStreams: true }),
    );
    expect(plan._tag).to.equal('Ignore');
  });

  it('wants every managed robot with its role, and lists only what the repository lacks', () => {
    const plan = planImageStream(
      { namespaceName: 'team-a', name: 'web', current: is, namespace: ns, action: 'add' },
      settingsOf(),
    );
    if (plan._tag !== 'Ensure') throw new Error(plan._tag);
    expect(plan.target.grants).to.deep.equal([
      { robotName: 'openshift_team-a+builder', role: 'write' },
      { robotName: 'openshift_team-a+default', role: 'read' },
      { robotName: 'openshift_team-a+deployer', role: 'read' },
    ]);
    expect(
      missingGrants(
        new Map([
          ['openshift_team-a+builder', 'write'],
          ['openshift_team-a+default', 'write'],
        ]),
        plan.target.grants,
      ),
    ).to.deep.equal([
      { robotName: 'openshift_team-a+default', role: 'read' },
      { robotName: 'openshift_team-a+deployer', role: 'read' },
    ]);
  });
});

describe('image-stream step (handle)', () => {
  it('creates the private repository and grants every existing robot explicitly (QBO #109)', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
    w.quay.addOrg('openshift_team-a');
    robots(w, 'builder', 'default', 'deployer');
    const is = w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    const answer = await deliver(w, apiServerEvent('add', is));
    expect(answer.statusCode).to.equal(204);
    const perms = w.quay.orgs.get('openshift_team-a')?.repos.get('web');
    expect(perms?.get('openshift_team-a+builder')).to.equal('write');
    expect(perms?.get('openshift_team-a+default')).to.equal('read');
    expect(perms?.get('openshift_team-a+deployer')).to.equal('read');
    expect(w.log.lines[0]).to.include({ outcome: 'created' });
  });

  it('costs one Quay read when the repository and its grants are in place', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
    w.quay.addOrg('openshift_team-a');
    robots(w, 'builder', 'default', 'deployer');
    const is = w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    await deliver(w, apiServerEvent('add', is));
    w.quay.calls.length = 0;
    await deliver(w, apiServerEvent('update', is));
    expect(w.quay.calls).to.deep.equal(['listRepositoryPermissions(openshift_team-a,web)']);
    expect(w.log.lines[1]).to.include({ outcome: 'unchanged' });
  });

  it('creates the organization first when the ImageStream’s event comes before the namespace’s', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a'));
    const is = w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    const answer = await deliver(w, apiServerEvent('add', is));
    expect(answer.statusCode).to.equal(204);
    expect(w.quay.orgs.get('openshift_team-a')?.repos.has('web')).to.equal(true);
    expect(w.kube.read(Resources.Namespace, undefined, 'team-a')?.metadata.finalizers).to.deep.equal([ours]);
  });

  it('deletes the repository with its ImageStream only when the QuayIntegration opts in and the bridge made it', async () => {
    const cases = [
      { optIn: false, description: markedDescription(IDENTITY, 'ImageStream team-a/web'), kept: true },
      { optIn: true, description: markedDescription(IDENTITY, 'ImageStream team-a/web'), kept: false },
      // Pushed by CI, or made by QBO: no mark, so its ImageStream's absence proves nothing.
      { optIn: true, description: '', kept: true },
      {
        optIn: true,
        description: markedDescription({ ...IDENTITY, clusterID: 'other' }, 'ImageStream team-a/web'),
        kept: true,
      },
    ];
    for (const c of cases) {
      const w = world({ spec: { deleteRepositoriesWithImageStreams: c.optIn } });
      w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
      const org = w.quay.addOrg('openshift_team-a');
      org.repos.set('web', new Map());
      org.descriptions.set('web', c.description);
      const answer = await deliver(w, apiServerEvent('delete', imageStream('team-a', 'web')));
      expect(answer.statusCode).to.equal(204);
      expect(w.quay.orgs.get('openshift_team-a')?.repos.has('web'), JSON.stringify(c)).to.equal(c.kept);
    }
  });

  it('restores a permission removed by hand', async () => {
    const w = world();
    w.kube.put(Resources.Namespace, namespace('team-a', { finalizers: [ours] }));
    w.quay.addOrg('openshift_team-a').repos.set('web', new Map([['openshift_team-a+default', 'read']]));
    robots(w, 'builder', 'default');
    const is = w.kube.put(Resources.ImageStream, imageStream('team-a', 'web'));
    await deliver(w, apiServerEvent('update', is));
    expect(w.quay.orgs.get('openshift_team-a')?.repos.get('web')?.get('openshift_team-a+builder')).to.equal(
      'write',
    );
    expect(w.quay.calls.filter((c) => c.startsWith('setRepositoryPermission'))).to.have.length(1);
  });
});
