// A small JSON-schema validator that reports the first error the way Python jsonschema 3.2.0 (the version Quay
// pins) does: `validate()` picks the best match (the shallowest error, first in iteration order) and `str(error)`
// is the message followed by the failing schema and instance, pretty-printed by pprint. Only the keywords Quay's
// request schemas use are implemented.
import { isJsonObject, type Json, type JsonObject } from './json.js';
import { pythonPformat, pythonRepr } from './python-repr.js';

export interface SchemaError {
  readonly message: string;
  readonly validator: string;
  /** Path inside the instance (jsonschema's relative_path). */
  readonly path: readonly (string | number)[];
  /** Path inside the schema, ending with the failing keyword (relative_schema_path). */
  readonly schemaPath: readonly (string | number)[];
  readonly schema: JsonObject;
  readonly instance: Json;
}

const isType = (instance: Json, type: string): boolean => {
  switch (type) {
    case 'object':
      return isJsonObject(instance);
    case 'array':
      return Array.isArray(instance);
    case 'string':
      return typeof instance === 'string';
    case 'boolean':
      return typeof instance === 'boolean';
    case 'null':
      return instance === null;
    case 'integer':
      return typeof instance === 'number' && Number.isInteger(instance);
    case 'number':
      return typeof instance === 'number';
    default:
      return true;
  }
};

const equal = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

// The order in which keywords are checked. Quay's schemas are Python dicts written type → description → required
// → properties (or type → description → enum); the Swagger copy has its keys sorted, so the order is fixed here.
const KEYWORD_ORDER = [
  'type',
  'enum',
  'required',
  'properties',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'items',
  'minItems',
  'uniqueItems',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'not',
];

type Path = readonly (string | number)[];

function* iterErrors(instance: Json, schema: JsonObject): Generator<SchemaError> {
  const make = (validator: string, message: string): SchemaError => ({
    message,
    validator,
    path: [],
    schemaPath: [validator],
    schema,
    instance,
  });
  const descend = function* (
    value: Json,
    sub: Json,
    keyword: string,
    path: Path,
    schemaPath: Path,
  ): Generator<SchemaError> {
    if (!isJsonObject(sub)) return;
    for (const e of iterErrors(value, sub)) {
      yield { ...e, path: [...path, ...e.path], schemaPath: [keyword, ...schemaPath, ...e.schemaPath] };
    }
  };
  for (const keyword of KEYWORD_ORDER) {
    if (!(keyword in schema)) continue;
    const v = schema[keyword] as Json;
    switch (keyword) {
      case 'type': {
        const types = Array.isArray(v) ? (v as readonly Json[]) : [v];
        if (!types.some((t) => typeof t === 'string' && isType(instance, t))) {
          yield make(
            'type',
            `${pythonRepr(instance)} is not of type ${types.map((t) => pythonRepr(t)).join(', ')}`,
          );
        }
        break;
      }
      case 'enum': {
        const options = Array.isArray(v) ? (v as readonly Json[]) : [];
        if (!options.some((o) => equal(o, instance))) {
          yield make('enum', `${pythonRepr(instance)} is not one of ${pythonRepr(options)}`);
        }
        break;
      }
      case 'required':
        if (isJsonObject(instance) && Array.isArray(v)) {
          for (const name of v as readonly Json[]) {
            if (typeof name === 'string' && !(name in instance)) {
              yield make('required', `${pythonRepr(name)} is a required property`);
            }
          }
        }
        break;
      case 'properties':
        if (isJsonObject(instance) && isJsonObject(v)) {
          for (const [name, sub] of Object.entries(v)) {
            if (name in instance) yield* descend(instance[name] as Json, sub, 'properties', [name], [name]);
          }
        }
        break;
      case 'minimum':
        if (typeof instance === 'number' && typeof v === 'number' && instance < v) {
          yield make('minimum', `${pythonRepr(instance)} is less than the minimum of ${pythonRepr(v)}`);
        }
        break;
      case 'maximum':
        if (typeof instance === 'number' && typeof v === 'number' && instance > v) {
          yield make('maximum', `${pythonRepr(instance)} is greater than the maximum of ${pythonRepr(v)}`);
        }
        break;
      case 'minLength':
        if (typeof instance === 'string' && typeof v === 'number' && Array.from(instance).length < v) {
          yield make('minLength', `${pythonRepr(instance)} is too short`);
        }
        break;
      case 'maxLength':
        if (typeof instance === 'string' && typeof v === 'number' && Array.from(instance).length > v) {
          yield make('maxLength', `${pythonRepr(instance)} is too long`);
        }
        break;
      case 'pattern':
        if (typeof instance === 'string' && typeof v === 'string' && !new RegExp(v, 'u').test(instance)) {
          yield make('pattern', `${pythonRepr(instance)} does not match ${pythonRepr(v)}`);
        }
        break;
      case 'items':
        if (Array.isArray(instance)) {
          for (const [i, item] of (instance as readonly Json[]).entries()) {
            yield* descend(item, v, 'items', [i], []);
          }
        }
        break;
      case 'minItems':
        if (Array.isArray(instance) && typeof v === 'number' && instance.length < v) {
          yield make('minItems', `${pythonRepr(instance)} is too short`);
        }
        break;
      case 'uniqueItems':
        if (Array.isArray(instance) && v === true) {
          const seen = new Set((instance as readonly Json[]).map((x) => JSON.stringify(x)));
          if (seen.size !== instance.length)
            yield make('uniqueItems', `${pythonRepr(instance)} has non-unique elements`);
        }
        break;
      case 'additionalProperties':
        if (isJsonObject(instance) && v === false) {
          const known = isJsonObject(schema['properties']) ? schema['properties'] : {};
          const extras = Object.keys(instance).filter((k) => !(k in known));
          if (extras.length > 0) {
            const listed = extras.map((e) => pythonRepr(e)).join(', ');
            yield make(
              'additionalProperties',
              `Additional properties are not allowed (${listed} ${extras.length === 1 ? 'was' : 'were'} unexpected)`,
            );
          }
        }
        break;
      case 'anyOf':
      case 'oneOf': {
        const subs = Array.isArray(v) ? (v as readonly Json[]) : [];
        const passing = subs.filter(
          (s) => isJsonObject(s) && iterErrors(instance, s).next().done === true,
        ).length;
        if (passing === 0)
          yield make(keyword, `${pythonRepr(instance)} is not valid under any of the given schemas`);
        else if (keyword === 'oneOf' && passing > 1) {
          yield make(keyword, `${pythonRepr(instance)} is valid under each of ${pythonRepr(subs)}`);
        }
        break;
      }
      case 'not':
        if (isJsonObject(v) && iterErrors(instance, v).next().done === true) {
          yield make('not', `${pythonRepr(v)} is not allowed for ${pythonRepr(instance)}`);
        }
        break;
    }
  }
}

/** jsonschema.validate: the best match among all errors, or undefined when the instance is valid. */
export const firstSchemaError = (instance: Json, schema: JsonObject): SchemaError | undefined => {
  let best: SchemaError | undefined;
  for (const error of iterErrors(instance, schema)) {
    if (best === undefined || error.path.length < best.path.length) best = error;
  }
  return best;
};

const formatIndex = (indices: Path): string =>
  indices.length === 0 ? '' : `[${indices.map((i) => pythonRepr(i)).join('][')}]`;

const indent = (text: string): string =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

/** str(ValidationError) in jsonschema 3.2.0. */
export const describeSchemaError = (e: SchemaError): string =>
  `${e.message}\n\nFailed validating ${pythonRepr(e.validator)} in schema${formatIndex(e.schemaPath.slice(0, -1))}:\n` +
  `${indent(pythonPformat(e.schema))}\n\nOn instance${formatIndex(e.path)}:\n${indent(pythonPformat(e.instance))}`;
