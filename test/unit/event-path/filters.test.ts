import { expect } from 'chai';
import {
  compileTriggerFilter,
  routes,
  triggerFilterProblems,
  type FilterResult,
  type Lookup,
  type TriggerFilters,
} from '../../event-path/filters.js';

const event =
  (attributes: Record<string, string>): Lookup =>
  (name) =>
    attributes[name];

const nsAdd = event({
  type: 'dev.knative.apiserver.resource.add',
  source: 'https://127.0.0.1:6443',
  subject: '/apis/v1/namespaces//namespaces/team-a',
  kind: 'Namespace',
  apiversion: 'v1',
  name: 'team-a',
  namespace: '',
});

describe('Trigger filters (Knative semantics)', () => {
  describe('the filters dialect', () => {
    const cases: readonly [string, TriggerFilters, FilterResult][] = [
      ['exact match passes', { filters: [{ exact: { kind: 'Namespace' } }] }, 'pass'],
      ['exact mismatch fails', { filters: [{ exact: { kind: 'ServiceAccount' } }] }, 'fail'],
      ['exact is case-sensitive', { filters: [{ exact: { kind: 'namespace' } }] }, 'fail'],
      ['exact on a missing extension fails', { filters: [{ exact: { owner: 'x' } }] }, 'fail'],
      [
        'exact with several attributes needs all',
        { filters: [{ exact: { kind: 'Namespace', name: 'team-b' } }] },
        'fail',
      ],
      ['prefix passes', { filters: [{ prefix: { type: 'dev.knative.apiserver.resource.' } }] }, 'pass'],
      [
        'prefix fails on ref events',
        { filters: [{ prefix: { type: 'dev.knative.apiserver.ref.' } }] },
        'fail',
      ],
      ['suffix passes', { filters: [{ suffix: { type: '.add' } }] }, 'pass'],
      ['suffix fails', { filters: [{ suffix: { type: '.delete' } }] }, 'fail'],
      [
        'a list is "all of"',
        {
          filters: [
            { exact: { kind: 'Namespace' } },
            { prefix: { type: 'dev.knative.apiserver.resource.' } },
          ],
        },
        'pass',
      ],
      [
        'one failing entry fails the list',
        { filters: [{ exact: { kind: 'Namespace' } }, { suffix: { type: '.delete' } }] },
        'fail',
      ],
      [
        'any passes when one passes',
        { filters: [{ any: [{ exact: { kind: 'Build' } }, { exact: { kind: 'Namespace' } }] }] },
        'pass',
      ],
      [
        'any fails when none passes',
        { filters: [{ any: [{ exact: { kind: 'Build' } }, { suffix: { type: '.x' } }] }] },
        'fail',
      ],
      ['not inverts a pass', { filters: [{ not: { exact: { kind: 'Namespace' } } }] }, 'fail'],
      ['not inverts a fail', { filters: [{ not: { exact: { kind: 'Build' } } }] }, 'pass'],
      [
        'all nests',
        { filters: [{ all: [{ exact: { kind: 'Namespace' } }, { not: { suffix: { type: '.delete' } } }] }] },
        'pass',
      ],
      // Knative materializes an expression without a usable dialect to nothing and skips it.
      ['an exact with an empty value is skipped', { filters: [{ exact: { kind: '' } }] }, 'none'],
      ['an empty expression is skipped', { filters: [{}] }, 'none'],
      [
        'a skipped entry does not hide a failing one',
        { filters: [{}, { exact: { kind: 'Build' } }] },
        'fail',
      ],
      ['not of nothing is no filter', { filters: [{ not: {} }] }, 'none'],
      // Knative's "any" returns the last result when nothing passes: a trailing skipped expression lets it through.
      [
        'any of [fail, nothing] is no filter',
        { filters: [{ any: [{ exact: { kind: 'Build' } }, { not: {} }] }] },
        'none',
      ],
      ['core attributes always exist: subject', { filters: [{ prefix: { subject: '/apis/v1/' } }] }, 'pass'],
    ];
    for (const [name, filters, expected] of cases)
      it(`${name} → ${expected}`, () => {
        expect(compileTriggerFilter(filters)(nsAdd)).to.equal(expected);
      });
  });

  describe('the legacy filter.attributes', () => {
    const cases: readonly [string, Record<string, string>, boolean][] = [
      ['exact match', { type: 'dev.knative.apiserver.resource.add', kind: 'Namespace' }, true],
      ['mismatch', { kind: 'Build' }, false],
      ['"" means any value, but the attribute must be there', { kind: '' }, true],
      ['"" on a missing extension fails', { owner: '' }, false],
      ['"" on an empty value fails', { namespace: '' }, false],
      ['no attributes pass everything', {}, true],
    ];
    for (const [name, attributes, expected] of cases)
      it(`${name} → ${expected ? 'delivered' : 'dropped'}`, () => {
        expect(routes({ attributes }, nsAdd)).to.equal(expected);
      });

    it('is ignored when the filters dialect is set', () => {
      expect(routes({ attributes: { kind: 'Build' }, filters: [{ exact: { kind: 'Namespace' } }] }, nsAdd)).to
        .be.true;
    });
  });

  it('delivers everything without any filter', () => {
    expect(routes({}, nsAdd)).to.be.true;
    expect(routes({ filters: [] }, nsAdd)).to.be.true;
  });

  describe('what Knative would refuse or silently skip', () => {
    it('accepts the quay-bridge shape', () => {
      expect(
        triggerFilterProblems({
          filters: [
            { exact: { kind: 'Namespace' } },
            { prefix: { type: 'dev.knative.apiserver.resource.' } },
          ],
        }),
      ).to.deep.equal([]);
    });

    it('names every problem with its path', () => {
      expect(
        triggerFilterProblems({
          attributes: { Kind: 'x' },
          filters: [
            { exact: { kind: 'Namespace' }, prefix: { type: 'dev.' } },
            { any: [{ suffix: { 'api-version': 'v1' } }, {}] },
            { not: { exact: { kind: '' } } },
            { cesql: "kind = 'Namespace'" },
          ],
        }),
      ).to.deep.equal([
        'spec.filter.attributes: attribute name "Kind" must start with a letter and hold only lowercase letters and digits',
        'spec.filters[0]: one dialect per filter, found exact, prefix',
        'spec.filters[1].any[0].suffix: attribute name "api-version" must start with a letter and hold only lowercase letters and digits',
        'spec.filters[1].any[1]: sets no dialect (Knative would skip it)',
        'spec.filters[2].not.exact: an empty value matches nothing (Knative would skip it)',
        'spec.filters[3]: CESQL is not supported by the broker stand-in',
      ]);
    });
  });
});
