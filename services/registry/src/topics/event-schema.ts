import { canonicalJson, sha256Hex } from '@spl/audit-chain';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { escapePointer } from '../apis/openapi-document.js';
import { errors } from '../errors.js';

/** The dialect every event data schema is written in (the broker validates with ajv's 2020 build). */
export const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** A schema that is a valid JSON Schema 2020-12, and its content address. */
export interface CheckedEventSchema {
  schema: Record<string, unknown>;
  /** sha256 hex of its canonical JSON (RFC 8785), as OpenAPI documents are addressed. */
  hash: string;
}

const addFormats = addFormatsModule as unknown as FormatsPlugin;

// An unknown keyword or format is most likely a typo the publisher wants to hear about
// (strictSchema); ajv's other strict checks are lint about valid schemas (a tuple without
// maxItems, `required` naming an undeclared property) and stay off. The instance only ever
// compiles here, never validates events (the broker does that).
const ajv = new Ajv2020({
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: true,
  validateFormats: true,
});
addFormats(ajv);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(detail: string, problems: Array<{ pointer: string; message: string }>): never {
  throw errors.SPL_INVALID_EVENT_SCHEMA(detail, { extensions: { errors: problems } });
}

/** `$ref`s must point inside the schema: resolving others would make the registry fetch URLs. */
function externalReferences(schema: Record<string, unknown>): Array<{ pointer: string; message: string }> {
  const found: Array<{ pointer: string; message: string }> = [];
  const walk = (node: unknown, pointer: string) => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${pointer}/${i}`);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if ((key === '$ref' || key === '$dynamicRef') && typeof value === 'string' && !value.startsWith('#'))
        found.push({ pointer: at, message: `external reference ${JSON.stringify(value)} is not allowed` });
      else walk(value, at);
    }
  };
  walk(schema, '');
  return found;
}

/**
 * Checks that `input` is a JSON Schema 2020-12 ajv can compile, and addresses it by content.
 * Throws SPL_INVALID_EVENT_SCHEMA with JSON pointers into the schema (`errors[].pointer`,
 * prefixed `body:/schema`), so nothing is stored for a bad schema.
 */
export function checkEventSchema(input: unknown): CheckedEventSchema {
  if (!isObject(input))
    invalid('the event schema must be a JSON object', [
      { pointer: 'body:/schema', message: 'is not an object' },
    ]);
  const schema = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  if (schema.$schema !== undefined && schema.$schema !== JSON_SCHEMA_2020_12)
    invalid(`the event schema must be JSON Schema 2020-12 ($schema ${JSON_SCHEMA_2020_12})`, [
      { pointer: 'body:/schema/$schema', message: `must be ${JSON_SCHEMA_2020_12} or absent` },
    ]);
  const external = externalReferences(schema);
  if (external.length)
    invalid(
      'the event schema refers outside itself',
      external.map((p) => ({ ...p, pointer: `body:/schema${p.pointer}` })),
    );
  // `$id` would register the schema in ajv's shared instance; check a copy without it.
  const { $id: _id, ...checked } = schema;
  if (!ajv.validateSchema(checked)) {
    const problems = (ajv.errors ?? []).map((e) => ({
      pointer: `body:/schema${e.instancePath}`,
      message: e.message ?? 'is not valid JSON Schema 2020-12',
    }));
    invalid('the event schema is not a valid JSON Schema 2020-12', problems);
  }
  try {
    ajv.compile(checked);
  } catch (err) {
    invalid('the event schema does not compile', [
      { pointer: 'body:/schema', message: (err as Error).message },
    ]);
  } finally {
    // ajv caches by schema object; every upload is a new one, so forget it.
    ajv.removeSchema(checked);
  }
  return { schema, hash: sha256Hex(canonicalJson(schema)) };
}
