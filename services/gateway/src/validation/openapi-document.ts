/**
 * What the validator needs to know about an OpenAPI document before compiling: its dialect,
 * local `$ref` resolution, and a copy whose Schema Objects ajv can compile as they are.
 *
 * Only local references (`#/…`) are followed: the registry refuses external ones when a
 * document is uploaded (services/registry/src/apis/openapi-document.ts), so meeting one here
 * means the document did not come through the registry, and it is treated as unresolvable.
 */

export type Dialect = '3.0' | '3.1';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

export function dialectOf(document: Record<string, unknown>): Dialect {
  return typeof document.openapi === 'string' && document.openapi.startsWith('3.0') ? '3.0' : '3.1';
}

/** The node at a local JSON pointer (`#/components/schemas/Nik`), or undefined. */
export function nodeAt(document: unknown, ref: string): unknown {
  if (ref === '#') return document;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = unescapePointer(decodeURIComponent(raw));
    } catch {
      return undefined;
    }
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/**
 * Follows `$ref` (Reference Objects: parameters, request bodies, path items, media types) to
 * the object it names, with the pointer where that object lives. Gives up on a cycle, an
 * external reference or a reference to nothing.
 */
export function resolveObject(
  document: unknown,
  node: unknown,
  pointer: string,
): { node: Record<string, unknown>; pointer: string } | undefined {
  let current = node;
  let at = pointer;
  for (let hops = 0; hops < 16; hops++) {
    if (!isObject(current)) return undefined;
    const ref = current.$ref;
    if (typeof ref !== 'string') return { node: current, pointer: at };
    if (!ref.startsWith('#')) return undefined;
    current = nodeAt(document, ref);
    at = ref.slice(1);
  }
  return undefined;
}

const SUBSCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMAS = [
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
];

/**
 * A deep copy of the document with every Schema Object made compilable for requests:
 *
 * - 3.0 (an extended subset of JSON Schema draft-04, OAS 3.0.3 §4.7.24): `nullable: true`
 *   becomes a `null` member of `type`/`enum` (or an `anyOf` with `{type: 'null'}`), and the
 *   draft-04 boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric form. `nullable`
 *   beside a `$ref` is dropped, as 3.0 ignores a Reference Object's siblings.
 * - both: a `readOnly` property is taken out of `required`, since a client never sends it
 *   (OAS 3.0.3 §4.7.24.1, "relevant only for responses").
 *
 * Also returns every property name a schema declares: the only instance keys an error pointer
 * may show (see `safePointer` in request-validator.ts).
 */
export function prepareDocument(input: object): {
  document: Record<string, unknown>;
  dialect: Dialect;
  declaredNames: Set<string>;
} {
  const document = structuredClone(input) as Record<string, unknown>;
  const dialect = dialectOf(document);
  const declaredNames = new Set<string>();
  const seen = new WeakSet<object>();

  const visitSchema = (schema: unknown): void => {
    if (!isObject(schema) || seen.has(schema)) return;
    seen.add(schema);
    if (dialect === '3.0') convertFrom30(schema);
    unrequireReadOnly(document, schema);
    if (isObject(schema.properties))
      for (const name of Object.keys(schema.properties)) declaredNames.add(name);
    for (const key of SUBSCHEMA_MAPS) {
      const map = schema[key];
      if (isObject(map)) for (const sub of Object.values(map)) visitSchema(sub);
    }
    for (const key of SUBSCHEMA_LISTS) {
      const list = schema[key];
      if (Array.isArray(list)) for (const sub of list) visitSchema(sub);
    }
    for (const key of SUBSCHEMAS) {
      const sub = schema[key];
      if (Array.isArray(sub)) for (const item of sub) visitSchema(item);
      else visitSchema(sub);
    }
  };

  // Schema Objects sit under `components.schemas` and under the `schema` member of Parameter,
  // Header and Media Type Objects; nowhere else in an OpenAPI document.
  const visitDocument = (node: unknown, parentKey: string): void => {
    if (Array.isArray(node)) {
      for (const item of node) visitDocument(item, '');
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema') visitSchema(value);
      else if (key === 'schemas' && parentKey === 'components' && isObject(value))
        for (const s of Object.values(value)) visitSchema(s);
      else if (key === 'example' || key === 'examples') continue;
      else visitDocument(value, key);
    }
  };
  visitDocument(document, '');
  return { document, dialect, declaredNames };
}

function convertFrom30(schema: Record<string, unknown>): void {
  if (typeof schema.$ref === 'string') {
    delete schema.nullable;
    return;
  }
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof schema[flag] !== 'boolean') continue;
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      schema[flag] = schema[bound];
      delete schema[bound];
    } else delete schema[flag];
  }
  if (typeof schema.nullable !== 'boolean') return;
  const nullable = schema.nullable;
  delete schema.nullable;
  if (!nullable) return;
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (schema.type === undefined && schema.enum === undefined) {
    const inner = { ...schema };
    for (const key of Object.keys(schema)) delete schema[key];
    schema.anyOf = [inner, { type: 'null' }];
  }
}

function unrequireReadOnly(document: unknown, schema: Record<string, unknown>): void {
  const { properties, required } = schema;
  if (!isObject(properties) || !Array.isArray(required)) return;
  const kept = required.filter((name) => {
    const property = typeof name === 'string' ? resolveObject(document, properties[name], '') : undefined;
    return property?.node.readOnly !== true;
  });
  if (kept.length !== required.length) schema.required = kept;
}
