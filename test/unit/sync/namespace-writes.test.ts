import { expect } from 'chai';
import type { Namespace } from '../../../shared/kube/objects.js';
import {
  LEGACY_NAMESPACE_FINALIZER,
  NAMESPACE_FINALIZER,
  ORGANIZATION_ANNOTATION,
} from '../../../shared/names.js';
import { versionsWritten, type OwnWrite } from '../../../shared/sync/namespace-apply.js';

const STAMP = 'quay.example.com/openshift_team-a';

const at = (resourceVersion: string, meta: Partial<Namespace['metadata']> = {}): Namespace => ({
  metadata: {
    name: 'team-a',
    uid: 'uid-1',
    resourceVersion,
    labels: { 'kubernetes.io/metadata.name': 'team-a' },
    ...meta,
  },
  status: { phase: 'Active' },
});

const finalizer = (answer: unknown): OwnWrite => ({
  change: (ns) => ({ ...ns, metadata: { ...ns.metadata, finalizers: [NAMESPACE_FINALIZER] } }),
  answer,
});
const stamp = (answer: unknown): OwnWrite => ({
  change: (ns) => ({
    ...ns,
    metadata: {
      ...ns.metadata,
      annotations: { ...ns.metadata.annotations, [ORGANIZATION_ANNOTATION]: STAMP },
    },
  }),
  answer,
});
/** The stamp's answer after `answered`: the same namespace at version 12, stamped. */
const stampedAt12 = (answered: Namespace): OwnWrite =>
  stamp({
    ...answered,
    metadata: {
      ...answered.metadata,
      resourceVersion: '12',
      annotations: { ...answered.metadata.annotations, [ORGANIZATION_ANNOTATION]: STAMP },
    },
  });

const read = at('10');
const afterFinalizer = at('11', { finalizers: [NAMESPACE_FINALIZER] });
const afterStamp = at('12', {
  finalizers: [NAMESPACE_FINALIZER],
  annotations: { [ORGANIZATION_ANNOTATION]: STAMP },
});
const versions = (ws: readonly OwnWrite[]) => versionsWritten(read, ws).map((v) => v.resourceVersion);

describe('the versions the namespace step’s writes left (docs/design.md#own-echoes)', () => {
  it('takes each answer that shows the namespace before it with the write made', () => {
    expect(versionsWritten(read, [finalizer(afterFinalizer), stamp(afterStamp)])).to.deep.equal([
      { uid: 'uid-1', resourceVersion: '11' },
      { uid: 'uid-1', resourceVersion: '12' },
    ]);
    expect(
      versions([
        finalizer(undefined),
        stamp(at('11', { annotations: { [ORGANIZATION_ANNOTATION]: STAMP } })),
      ]),
      'no finalizer patch',
    ).to.deep.equal(['11']);
  });

  it('takes our finalizer in place of the legacy one, in any order', () => {
    const legacy = at('10', { finalizers: [LEGACY_NAMESPACE_FINALIZER, 'other'] });
    const answered = at('11', { finalizers: ['other', NAMESPACE_FINALIZER] });
    const replaced: OwnWrite = {
      change: (ns) => ({
        ...ns,
        metadata: {
          ...ns.metadata,
          finalizers: (ns.metadata.finalizers ?? []).map((f) =>
            f === LEGACY_NAMESPACE_FINALIZER ? NAMESPACE_FINALIZER : f,
          ),
        },
      }),
      answer: answered,
    };
    expect(versionsWritten(legacy, [replaced]).map((v) => v.resourceVersion)).to.deep.equal(['11']);
  });

  it('takes no answer that shows someone else’s write beside ours, and judges the next from it', () => {
    const cases: Record<string, Partial<Namespace['metadata']>> = {
      'a label': { labels: { team: 'blue' } },
      'an annotation': { annotations: { note: 'x' } },
      'another finalizer': { finalizers: [NAMESPACE_FINALIZER, 'other'] },
    };
    for (const [what, meta] of Object.entries(cases)) {
      const answered = at('11', { finalizers: [NAMESPACE_FINALIZER], ...meta });
      expect(versions([finalizer(answered), stampedAt12(answered)]), what).to.deep.equal(['12']);
    }
  });

  it('never takes an answer that shows a deletion or another uid, even with our write alone since the one before', () => {
    for (const [what, meta] of Object.entries({
      'a deletion': { deletionTimestamp: '2026-12-03T10:00:00Z' },
      'another uid': { uid: 'uid-2' },
    })) {
      const answered = at('11', { finalizers: [NAMESPACE_FINALIZER], ...meta });
      expect(versions([finalizer(answered), stampedAt12(answered)]), what).to.deep.equal([]);
    }
  });

  it('takes a write that changed nothing only when its answer shows nothing but that write (another step made it)', () => {
    // Another step added the same finalizer first: our patch answers that step's version, showing only it.
    expect(versions([finalizer(at('11', { finalizers: [NAMESPACE_FINALIZER] }))])).to.deep.equal(['11']);
    // Our patch changed nothing and nothing changed: the answer is the namespace as read, not our write.
    expect(versions([finalizer(read)])).to.deep.equal([]);
  });

  it('takes nothing from an answer it cannot read, nor after it', () => {
    expect(versions([finalizer({ metadata: { name: 42 } }), stamp(afterStamp)])).to.deep.equal([]);
    expect(
      versions([finalizer({ metadata: { name: 'team-a', finalizers: [NAMESPACE_FINALIZER] } })]),
    ).to.deep.equal([]);
  });
});
