// A small kustomize renderer for the project's own kustomizations, so that the tests and the local stack see exactly
// what `kubectl apply -k` would apply without needing kubectl or kustomize on the machine. It implements the subset
// the project uses — `resources` (files and kustomization directories), `images`, `patches` with inline JSON 6902
// operations, inline `replacements` (dotted field paths with indexes and `*`, the delimiter/index options), and
// dropping `config.kubernetes.io/local-config` objects from the final output — and refuses everything else by name,
// so a kustomization that outgrows it fails loudly instead of rendering something kustomize would not. Like
// kustomize, it refuses files outside a kustomization's root and a resource registered twice.
// (test/integration/manifests compares its output with `kubectl kustomize` where present.)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

interface ImageRule {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
  readonly digest?: string;
}

interface PatchTarget {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

interface JsonPatchOp {
  readonly op: 'add' | 'remove' | 'replace' | 'test';
  readonly path: string;
  readonly value?: unknown;
}

interface Selector {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

interface Replacement {
  readonly source: Selector & { readonly fieldPath: string };
  readonly targets: readonly {
    readonly select: Selector;
    readonly fieldPaths: readonly string[];
    readonly delimiter?: string;
    readonly index?: number;
  }[];
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'images', 'patches', 'replacements']);
const SELECTOR_FIELDS = ['group', 'version', 'kind', 'name', 'namespace'] as const;
/** kustomize drops objects with this annotation from its output: inputs of the build, e.g. a replacement's source. */
export const LOCAL_CONFIG_ANNOTATION = 'config.kubernetes.io/local-config';
const FILE_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

const fail = (where: string, message: string): never => {
  throw new Error(`${where}: ${message}`);
};

/** The identity kustomize keys resources by: group/version kind namespace/name. */
export const objectId = (o: KubeObject): string =>
  `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export const kustomizationFile = (dir: string): string | undefined =>
  FILE_NAMES.map((f) => join(dir, f)).find((f) => existsSync(f));

const isKubeObject = (u: unknown): u is KubeObject =>
  isRecord(u) &&
  typeof u.apiVersion === 'string' &&
  typeof u.kind === 'string' &&
  isRecord(u.metadata) &&
  typeof u.metadata.name === 'string' &&
  u.metadata.name !== '';

/** Every object of a YAML stream, empty documents skipped; each must have apiVersion, kind and metadata.name. */
export const parseObjects = (text: string, where: string): KubeObject[] =>
  parseAllDocuments(text).flatMap((doc, i): KubeObject[] => {
    const at = `${where} document ${i + 1}`;
    if (doc.errors.length > 0) return fail(at, doc.errors.map((e) => e.message).join('; '));
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    return isKubeObject(value)
      ? [value]
      : fail(at, 'is not an object with apiVersion, kind and metadata.name');
  });

const within = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const stringField = (o: Record<string, unknown>, key: string, where: string): string | undefined => {
  const v = o[key];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : fail(where, `${key} must be a string`);
};

const readImages = (raw: unknown, where: string): ImageRule[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return fail(where, 'images must be a list');
  return raw.map((entry: unknown, i) => {
    const at = `${where} images[${i}]`;
    if (!isRecord(entry)) return fail(at, 'must be a mapping');
    for (const key of Object.keys(entry))
      if (!['name', 'newName', 'newTag', 'digest'].includes(key)) fail(at, `unsupported field ${key}`);
    const name = stringField(entry, 'name', at) ?? fail(at, 'has no name');
    const newName = stringField(entry, 'newName', at);
    const newTag = stringField(entry, 'newTag', at);
    const digest = stringField(entry, 'digest', at);
    return {
      name,
      ...(newName === undefined ? {} : { newName }),
      ...(newTag === undefined ? {} : { newTag }),
      ...(digest === undefined ? {} : { digest }),
    };
  });
};

const readPatches = (raw: unknown, where: string): { target: PatchTarget; ops: JsonPatchOp[] }[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return fail(where, 'patches must be a list');
  return raw.map((entry: unknown, i) => {
    const at = `${where} patches[${i}]`;
    if (!isRecord(entry)) return fail(at, 'must be a mapping');
    for (const key of Object.keys(entry))
      if (!['target', 'patch'].includes(key))
        fail(at, `unsupported field ${key} (only inline JSON 6902 patches)`);
    const target = entry.target;
    if (!isRecord(target)) return fail(at, 'needs a target (only JSON 6902 patches are supported)');
    for (const key of Object.keys(target))
      if (!['group', 'version', 'kind', 'name', 'namespace'].includes(key))
        fail(at, `unsupported target field ${key}`);
    const text = stringField(entry, 'patch', at) ?? fail(at, 'needs an inline patch');
    const ops: unknown = parseAllDocuments(text)[0]?.toJS();
    if (!Array.isArray(ops)) return fail(at, 'the patch must be a list of JSON 6902 operations');
    const checked = ops.map((op: unknown, j): JsonPatchOp => {
      const o = `${at} op ${j + 1}`;
      if (!isRecord(op) || typeof op.path !== 'string') return fail(o, 'needs op and path');
      if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace' && op.op !== 'test')
        return fail(o, `unsupported op ${String(op.op)}`);
      if (op.op !== 'remove' && !('value' in op)) return fail(o, 'needs a value');
      return { op: op.op, path: op.path, ...('value' in op ? { value: op.value } : {}) };
    });
    const t: PatchTarget = {};
    for (const key of ['group', 'version', 'kind', 'name', 'namespace'] as const) {
      const v = stringField(target, key, at);
      if (v !== undefined) Object.assign(t, { [key]: v });
    }
    return { target: t, ops: checked };
  });
};

const readSelector = (raw: unknown, at: string, extra: readonly string[] = []): Selector => {
  if (!isRecord(raw)) return fail(at, 'must be a mapping');
  for (const key of Object.keys(raw))
    if (!(SELECTOR_FIELDS as readonly string[]).includes(key) && !extra.includes(key))
      fail(at, `unsupported field ${key}`);
  const out: Selector = {};
  for (const key of SELECTOR_FIELDS) {
    const v = stringField(raw, key, at);
    if (v !== undefined) Object.assign(out, { [key]: v });
  }
  return out;
};

const readReplacements = (raw: unknown, where: string): Replacement[] => {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return fail(where, 'replacements must be a list');
  return raw.map((entry: unknown, i): Replacement => {
    const at = `${where} replacements[${i}]`;
    if (!isRecord(entry)) return fail(at, 'must be a mapping');
    for (const key of Object.keys(entry))
      if (!['source', 'targets'].includes(key))
        fail(at, `unsupported field ${key} (only inline replacements)`);
    const source = readSelector(entry.source, `${at} source`, ['fieldPath']);
    const fieldPath =
      (isRecord(entry.source) ? stringField(entry.source, 'fieldPath', `${at} source`) : undefined) ??
      'metadata.name';
    if (!Array.isArray(entry.targets) || entry.targets.length === 0) return fail(at, 'needs targets');
    const targets = entry.targets.map((t: unknown, j) => {
      const tat = `${at} targets[${j}]`;
      if (!isRecord(t)) return fail(tat, 'must be a mapping');
      for (const key of Object.keys(t))
        if (!['select', 'fieldPaths', 'options'].includes(key)) fail(tat, `unsupported field ${key}`);
      const select = readSelector(t.select, `${tat} select`);
      const paths: unknown = t.fieldPaths;
      if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string'))
        return fail(tat, 'fieldPaths must be a non-empty list of strings');
      const options: unknown = t.options ?? {};
      if (!isRecord(options)) return fail(tat, 'options must be a mapping');
      for (const key of Object.keys(options))
        if (!['delimiter', 'index'].includes(key)) fail(tat, `unsupported option ${key}`);
      const delimiter = stringField(options, 'delimiter', tat);
      const index = options.index;
      if (index !== undefined && (typeof index !== 'number' || !Number.isInteger(index)))
        return fail(tat, 'options.index must be an integer');
      if (index !== undefined && delimiter === undefined)
        return fail(tat, 'options.index needs options.delimiter');
      return {
        select,
        fieldPaths: paths,
        ...(delimiter === undefined ? {} : { delimiter }),
        ...(index === undefined ? {} : { index }),
      };
    });
    return { source: { ...source, fieldPath }, targets };
  });
};

const groupVersion = (apiVersion: string): { group: string; version: string } => {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
};

const matches = (o: KubeObject, t: PatchTarget | Selector): boolean => {
  const gv = groupVersion(o.apiVersion);
  return (
    (t.group === undefined || t.group === gv.group) &&
    (t.version === undefined || t.version === gv.version) &&
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === o.metadata.name) &&
    (t.namespace === undefined || t.namespace === o.metadata.namespace)
  );
};

const pointer = (path: string, where: string): string[] => {
  if (path === '') return [];
  if (!path.startsWith('/')) return fail(where, `path ${path} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
};

/** RFC 6902 add/remove/replace/test on a deep copy. */
export const applyJsonPatch = (doc: unknown, ops: readonly JsonPatchOp[], where: string): unknown => {
  const root: unknown = structuredClone(doc);
  for (const op of ops) {
    const keys = pointer(op.path, where);
    const last = keys.pop();
    if (last === undefined) return fail(where, 'patching the whole document is not supported');
    let parent: unknown = root;
    for (const k of keys) {
      parent = Array.isArray(parent) ? parent[Number(k)] : isRecord(parent) ? parent[k] : undefined;
      if (parent === undefined) return fail(where, `${op.op} ${op.path}: ${k} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        return fail(where, `${op.op} ${op.path}: no index ${last}`);
      if (op.op !== 'add' && index >= parent.length)
        return fail(where, `${op.op} ${op.path}: no index ${last}`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'remove') parent.splice(index, 1);
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else if (JSON.stringify(parent[index]) !== JSON.stringify(op.value))
        return fail(where, `test ${op.path} failed`);
    } else if (isRecord(parent)) {
      if (op.op !== 'add' && !(last in parent))
        return fail(where, `${op.op} ${op.path}: ${last} does not exist`);
      if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value);
      else if (op.op === 'remove') Reflect.deleteProperty(parent, last);
      else if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        return fail(where, `test ${op.path} failed`);
    } else return fail(where, `${op.op} ${op.path}: the parent is not a container`);
  }
  return root;
};

/** Like kustomize: a patch that removes the last annotation (or label) leaves no empty map behind. */
const withoutEmptyMetadataMaps = (o: unknown): unknown => {
  if (!isRecord(o) || !isRecord(o.metadata)) return o;
  const metadata = { ...o.metadata };
  for (const key of ['annotations', 'labels'])
    if (isRecord(metadata[key]) && Object.keys(metadata[key]).length === 0)
      Reflect.deleteProperty(metadata, key);
  return { ...o, metadata };
};

/** name[:tag][@digest], where the name may hold a registry port (host:5000/x). */
const splitImage = (image: string): { name: string; tag?: string; digest?: string } => {
  const at = image.indexOf('@');
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const rest = at < 0 ? image : image.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > rest.lastIndexOf('/');
  return {
    name: hasTag ? rest.slice(0, colon) : rest,
    ...(hasTag ? { tag: rest.slice(colon + 1) } : {}),
    ...(digest === undefined ? {} : { digest }),
  };
};

const setImage = (image: string, rules: readonly ImageRule[]): string => {
  const parts = splitImage(image);
  const rule = rules.find((r) => r.name === parts.name);
  if (rule === undefined) return image;
  const name = rule.newName ?? parts.name;
  if (rule.digest !== undefined) return `${name}@${rule.digest}`;
  const tag = rule.newTag ?? parts.tag;
  const digest = rule.newTag === undefined ? parts.digest : undefined;
  return `${name}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
};

/** kustomize's images transformer: every `image` of a `containers` or `initContainers` list, at any depth. */
const withImages = (value: unknown, rules: readonly ImageRule[]): unknown => {
  if (Array.isArray(value)) return value.map((v) => withImages(v, rules));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'containers' || k === 'initContainers') && Array.isArray(v))
      out[k] = v.map((c: unknown) => {
        const withNested = withImages(c, rules);
        return isRecord(withNested) && typeof withNested.image === 'string'
          ? { ...withNested, image: setImage(withNested.image, rules) }
          : withNested;
      });
    else out[k] = withImages(v, rules);
  }
  return out;
};

/** kustomize's field path: dot-separated keys, list indexes, and `*` for every element of a list. */
const fieldPathParts = (path: string, where: string): string[] => {
  const parts = path.split('.');
  if (parts.some((p) => p === '' || p.includes('[')))
    return fail(where, `field path ${path}: only dotted keys, indexes and * are supported`);
  return parts;
};

const lookup = (value: unknown, parts: readonly string[], where: string, path: string): unknown => {
  let at: unknown = value;
  for (const p of parts) {
    at = Array.isArray(at) ? at[Number(p)] : isRecord(at) ? at[p] : undefined;
    if (at === undefined) return fail(where, `unable to find field ${path} in the replacement source`);
  }
  return at;
};

/** A copy of `value` with every scalar at `parts` set by `set`; a missing field fails like kustomize. */
const setAt = (
  value: unknown,
  parts: readonly string[],
  set: (old: unknown) => unknown,
  where: string,
  path: string,
): unknown => {
  const [head, ...rest] = parts;
  if (head === undefined) return set(value);
  const missing = (): never => fail(where, `unable to find field "${path}" in replacement target`);
  if (Array.isArray(value)) {
    if (head === '*') return value.map((v) => setAt(v, rest, set, where, path));
    const i = Number(head);
    if (!Number.isInteger(i) || i < 0 || i >= value.length) return missing();
    return value.map((v: unknown, j) => (j === i ? setAt(v, rest, set, where, path) : v));
  }
  if (isRecord(value) && head in value)
    return { ...value, [head]: setAt(value[head], rest, set, where, path) };
  return missing();
};

/** kustomize's delimiter option: replace part `index` of the value split at `delimiter`; past either end, add one. */
const withPart = (old: string, value: string, delimiter: string, index: number): string => {
  const parts = old.split(delimiter);
  if (index < 0) return [value, ...parts].join(delimiter);
  if (index >= parts.length) return [...parts, value].join(delimiter);
  return parts.map((p, i) => (i === index ? value : p)).join(delimiter);
};

const applyReplacements = (
  objects: readonly KubeObject[],
  replacements: readonly Replacement[],
  where: string,
): KubeObject[] => {
  let out = [...objects];
  for (const [i, r] of replacements.entries()) {
    const at = `${where} replacements[${i}]`;
    const sources = out.filter((o) => matches(o, r.source));
    if (sources.length !== 1)
      fail(at, `the source must select exactly one resource, it selects ${sources.length}`);
    const [source] = sources as [KubeObject];
    const value = lookup(source, fieldPathParts(r.source.fieldPath, at), at, r.source.fieldPath);
    const text =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : fail(at, `${r.source.fieldPath} is not a scalar`);
    for (const [j, t] of r.targets.entries()) {
      const tat = `${at} targets[${j}]`;
      // Stricter than kustomize: a target that selects nothing is a typo.
      if (!out.some((o) => matches(o, t.select))) fail(tat, 'selects no resource');
      out = out.map((o) => {
        if (!matches(o, t.select)) return o;
        let next: unknown = o;
        for (const path of t.fieldPaths)
          next = setAt(
            next,
            fieldPathParts(path, tat),
            (old) => {
              if (t.delimiter === undefined) return text;
              if (typeof old !== 'string') return fail(tat, `${path}: the delimiter option needs a string`);
              return withPart(old, text, t.delimiter, t.index ?? 0);
            },
            `${tat} on ${objectId(o)}`,
            path,
          );
        return next as KubeObject;
      });
    }
  }
  return out;
};

const render = (dir: string, seen: readonly string[]): KubeObject[] => {
  const root = resolve(dir);
  if (seen.some((s) => within(root, s)))
    fail(
      root,
      `cycle: it contains ${seen.find((s) => within(root, s)) ?? ''}, which is already being rendered`,
    );
  const file = kustomizationFile(root) ?? fail(root, 'has no kustomization.yaml');
  const where = relative(process.cwd(), file) || file;
  const k: unknown = parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS();
  if (!isRecord(k)) return fail(where, 'is not a mapping');
  for (const key of Object.keys(k)) if (!SUPPORTED_FIELDS.has(key)) fail(where, `unsupported field ${key}`);
  if (k.kind !== undefined && k.kind !== 'Kustomization')
    fail(where, `kind ${JSON.stringify(k.kind)} is not supported`);

  const resources = k.resources ?? [];
  if (!Array.isArray(resources)) return fail(where, 'resources must be a list');
  const objects: KubeObject[] = [];
  const ids = new Set<string>();
  for (const entry of resources) {
    if (typeof entry !== 'string') return fail(where, 'each resource must be a path');
    if (/^[a-z]+:\/\//i.test(entry) || entry.startsWith('github.com/'))
      return fail(where, `remote resource ${entry} is not supported`);
    const path = resolve(root, entry);
    if (!existsSync(path)) return fail(where, `resource ${entry} does not exist`);
    let found: KubeObject[];
    if (statSync(path).isDirectory()) found = render(path, [...seen, root]);
    else {
      // kustomize's default load restrictor: a file resource must lie under the kustomization's root.
      if (!within(root, path)) return fail(where, `file ${entry} is outside the kustomization root`);
      found = parseObjects(readFileSync(path, 'utf8'), relative(process.cwd(), path));
    }
    for (const o of found) {
      const id = objectId(o);
      if (ids.has(id)) return fail(where, `${id} is registered twice`);
      ids.add(id);
      objects.push(o);
    }
  }

  const images = readImages(k.images, where);
  const patches = readPatches(k.patches, where);
  // Stricter than kustomize, which ignores it: a patch whose target matches nothing is a typo.
  for (const [i, p] of patches.entries())
    if (!objects.some((o) => matches(o, p.target))) fail(where, `patches[${i}] matches no resource`);
  const replacements = readReplacements(k.replacements, where);
  const transformed = objects.map((o) => {
    let out: unknown = o;
    for (const [i, p] of patches.entries())
      if (matches(o, p.target))
        out = withoutEmptyMetadataMaps(
          applyJsonPatch(out, p.ops, `${where} patches[${i}] on ${objectId(o)}`),
        );
    return (images.length === 0 ? out : withImages(out, images)) as KubeObject;
  });
  // kustomize runs replacements after its other transformers, in the kustomization that declares them.
  return applyReplacements(transformed, replacements, where);
};

/**
 * Renders the kustomization in `dir` (like `kustomize build dir`, in resource order). Objects marked local-config
 * are dropped last, as kustomize does, so that kustomizations including one another can still read them.
 */
export const kustomize = (dir: string): KubeObject[] =>
  render(dir, []).filter((o) => o.metadata.annotations?.[LOCAL_CONFIG_ANNOTATION] !== 'true');
