// Knative Eventing's Trigger filters, as the broker's filter handler applies them (knative.dev/eventing
// pkg/eventfilter and pkg/broker/filter): the `filters` dialect (CloudEvents Subscriptions API: exact, prefix,
// suffix, all, any, not) when `spec.filters` is non-empty, otherwise the legacy `spec.filter.attributes` exact match,
// otherwise everything. Results are three-valued like Knative's — pass, fail, or no filter — and an event is
// delivered unless the result is `fail`. CESQL is not implemented and refused when a Trigger is loaded.

export type FilterResult = 'pass' | 'fail' | 'none';

export interface SubscriptionsApiFilter {
  readonly exact?: Readonly<Record<string, string>>;
  readonly prefix?: Readonly<Record<string, string>>;
  readonly suffix?: Readonly<Record<string, string>>;
  readonly all?: readonly SubscriptionsApiFilter[];
  readonly any?: readonly SubscriptionsApiFilter[];
  readonly not?: SubscriptionsApiFilter;
  readonly cesql?: string;
}

export interface TriggerFilters {
  /** spec.filters: the Subscriptions API dialect, used when non-empty. */
  readonly filters?: readonly SubscriptionsApiFilter[];
  /** spec.filter.attributes: exact match, "" meaning "present and non-empty". */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** An attribute's value as a string, or undefined when the event does not have it. */
export type Lookup = (attribute: string) => string | undefined;

type Evaluator = (lookup: Lookup) => FilterResult;

const nonEmpty = (m: Readonly<Record<string, string>> | undefined): m is Readonly<Record<string, string>> =>
  m !== undefined && Object.keys(m).length > 0;

const compare =
  (pairs: Readonly<Record<string, string>>, test: (value: string, wanted: string) => boolean): Evaluator =>
  (lookup) => {
    for (const [attribute, wanted] of Object.entries(pairs)) {
      const value = lookup(attribute);
      if (value === undefined || !test(value, wanted)) return 'fail';
    }
    return 'pass';
  };

const allOf =
  (evaluators: readonly Evaluator[]): Evaluator =>
  (lookup) => {
    let result: FilterResult = 'none';
    for (const e of evaluators) {
      result = e(lookup);
      if (result === 'fail') return 'fail';
    }
    return result;
  };

// Knative's "any" returns the last result when nothing passes, so [fail, none] is `none` (delivered).
const anyOf =
  (evaluators: readonly Evaluator[]): Evaluator =>
  (lookup) => {
    let result: FilterResult = 'none';
    for (const e of evaluators) {
      result = e(lookup);
      if (result === 'pass') return 'pass';
    }
    return result;
  };

const negate =
  (inner: Evaluator | undefined): Evaluator =>
  (lookup) => {
    if (inner === undefined) return 'none';
    const r = inner(lookup);
    return r === 'pass' ? 'fail' : r === 'fail' ? 'pass' : 'none';
  };

const hasEmpty = (m: Readonly<Record<string, string>>): boolean =>
  Object.entries(m).some(([k, v]) => k === '' || v === '');

/**
 * One filter expression, by the first dialect set (in Knative's order). Like Knative, an expression that cannot be
 * built (no dialect, or an empty attribute or value) is undefined and skipped by the list it is in.
 */
const materialize = (f: SubscriptionsApiFilter): Evaluator | undefined => {
  if (nonEmpty(f.exact)) return hasEmpty(f.exact) ? undefined : compare(f.exact, (v, w) => v === w);
  if (nonEmpty(f.prefix))
    return hasEmpty(f.prefix) ? undefined : compare(f.prefix, (v, w) => v.startsWith(w));
  if (nonEmpty(f.suffix)) return hasEmpty(f.suffix) ? undefined : compare(f.suffix, (v, w) => v.endsWith(w));
  if (f.all !== undefined && f.all.length > 0) return single(materializeList(f.all), allOf);
  if (f.any !== undefined && f.any.length > 0) return single(materializeList(f.any), anyOf);
  if (f.not !== undefined) return negate(materialize(f.not));
  if (f.cesql !== undefined && f.cesql !== '')
    throw new Error('CESQL filters are not supported by the broker stand-in');
  return undefined;
};

const single = (list: readonly Evaluator[], combine: (l: readonly Evaluator[]) => Evaluator): Evaluator =>
  list.length === 1 && list[0] !== undefined ? list[0] : combine(list);

const materializeList = (filters: readonly SubscriptionsApiFilter[]): Evaluator[] =>
  filters.flatMap((f) => {
    const e = materialize(f);
    return e === undefined ? [] : [e];
  });

const attributesFilter =
  (attributes: Readonly<Record<string, string>>): Evaluator =>
  (lookup) => {
    for (const [attribute, wanted] of Object.entries(attributes)) {
      const value = lookup(attribute);
      if (value === undefined || (wanted === '' && value === '')) return 'fail';
      if (wanted !== '' && wanted !== value) return 'fail';
    }
    return 'pass';
  };

/** Builds the evaluator of a Trigger once; apply it to each event's attribute lookup. */
export const compileTriggerFilter = (t: TriggerFilters): Evaluator => {
  if (t.filters !== undefined && t.filters.length > 0) return single(materializeList(t.filters), allOf);
  if (t.attributes !== undefined) return attributesFilter(t.attributes);
  return () => 'none';
};

/** Whether an event with these attributes goes to the Trigger's subscriber. */
export const routes = (t: TriggerFilters, lookup: Lookup): boolean =>
  compileTriggerFilter(t)(lookup) !== 'fail';

const ATTRIBUTE_NAME = /^[a-z][a-z0-9]*$/;

const dialectsOf = (f: SubscriptionsApiFilter): string[] =>
  [
    nonEmpty(f.exact) ? 'exact' : undefined,
    nonEmpty(f.prefix) ? 'prefix' : undefined,
    nonEmpty(f.suffix) ? 'suffix' : undefined,
    f.all !== undefined && f.all.length > 0 ? 'all' : undefined,
    f.any !== undefined && f.any.length > 0 ? 'any' : undefined,
    f.not !== undefined ? 'not' : undefined,
    f.cesql !== undefined && f.cesql !== '' ? 'cesql' : undefined,
  ].filter((d): d is string => d !== undefined);

const namesProblems = (m: Readonly<Record<string, string>> | undefined, at: string): string[] =>
  Object.keys(m ?? {})
    .filter((k) => !ATTRIBUTE_NAME.test(k))
    .map(
      (k) =>
        `${at}: attribute name "${k}" must start with a letter and hold only lowercase letters and digits`,
    );

const filterProblems = (f: SubscriptionsApiFilter, at: string): string[] => {
  const dialects = dialectsOf(f);
  const problems: string[] = [];
  // Knative's webhook refuses several dialects in one expression.
  if (dialects.length > 1) problems.push(`${at}: one dialect per filter, found ${dialects.join(', ')}`);
  // Knative accepts these but then skips the expression silently: almost surely a mistake, so refused here.
  if (dialects.length === 0) problems.push(`${at}: sets no dialect (Knative would skip it)`);
  for (const d of ['exact', 'prefix', 'suffix'] as const) {
    problems.push(...namesProblems(f[d], `${at}.${d}`));
    if (f[d] !== undefined && hasEmpty(f[d]))
      problems.push(`${at}.${d}: an empty value matches nothing (Knative would skip it)`);
  }
  if (dialects.includes('cesql')) problems.push(`${at}: CESQL is not supported by the broker stand-in`);
  f.all?.forEach((g, i) => problems.push(...filterProblems(g, `${at}.all[${i}]`)));
  f.any?.forEach((g, i) => problems.push(...filterProblems(g, `${at}.any[${i}]`)));
  if (f.not !== undefined) problems.push(...filterProblems(f.not, `${at}.not`));
  return problems;
};

/** What Knative's webhook would refuse in a Trigger's filters, plus expressions it would silently skip. */
export const triggerFilterProblems = (t: TriggerFilters): string[] => [
  ...namesProblems(t.attributes, 'spec.filter.attributes'),
  ...(t.filters ?? []).flatMap((f, i) => filterProblems(f, `spec.filters[${i}]`)),
];
