import { validate } from '@readme/openapi-parser';
import { canonicalJson, sha256Hex } from '@spl/audit-chain';
import { parse as parseYaml } from 'yaml';
import { errors } from '../errors.js';
import type { OpenApiSource } from '../routes/apis/schemas.js';

/** Where a document is wrong: a JSON pointer into it and what is wrong there. */
export interface OpenApiProblem {
  pointer: string;
  message: string;
}

/** A document that parsed, validated, and what the hub derives from it. */
export interface CheckedOpenApi {
  document: Record<string, unknown>;
  /** The text as given (a JSON object is kept as its JSON). */
  source: string;
  /** sha256 hex of the canonical JSON (RFC 8785) of the document: its content address. */
  hash: string;
  /** HTTP methods the document declares, uppercased and sorted (the gateway answers others with 405). */
  methods: string[];
  /** JSON pointers of every schema property marked `x-spl-classification: dikecualikan`. */
  restrictedFields: string[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const RESTRICTED = 'dikecualikan';

function invalid(detail: string, problems: OpenApiProblem[]): never {
  throw errors.SPL_INVALID_OPENAPI(detail, { extensions: { errors: problems } });
}

export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** The property names behind restricted-field pointers (`/…/properties/nik` → `nik`), deduplicated. */
export function restrictedFieldNames(pointers: readonly string[]): string[] {
  const names = new Set<string>();
  for (const p of pointers) names.add(unescapePointer(p.slice(p.lastIndexOf('/') + 1)));
  return [...names].sort();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the upload: an object as is, a string as JSON or YAML (YAML is a superset of JSON). */
function parseSource(
  input: OpenApiSource,
  maxBytes: number,
): { document: Record<string, unknown>; source: string } {
  const source = typeof input === 'string' ? input : JSON.stringify(input);
  const size = Buffer.byteLength(source);
  if (size > maxBytes)
    throw errors.SPL_PAYLOAD_TOO_LARGE(`the OpenAPI document is ${size} bytes; the limit is ${maxBytes}`);
  if (typeof input !== 'string')
    return { document: structuredClone(input) as Record<string, unknown>, source };
  let parsed: unknown;
  try {
    // Aliases are capped (yaml's default maxAliasCount) so a "billion laughs" document cannot blow up.
    parsed = parseYaml(source, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const linePos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const where = linePos ? ` at line ${linePos.line}, column ${linePos.col}` : '';
    invalid(`the OpenAPI document is neither JSON nor YAML${where}`, [
      { pointer: '', message: `not JSON or YAML${where}: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
  if (!isObject(parsed))
    invalid('the OpenAPI document must be a JSON or YAML object', [
      { pointer: '', message: 'the document is not an object' },
    ]);
  // Round-trip so YAML-only values (dates, big numbers) become what the stored JSON holds.
  return { document: JSON.parse(JSON.stringify(parsed)) as Record<string, unknown>, source };
}

function resolveLocal(document: unknown, ref: string): boolean {
  if (ref === '#') return true;
  if (!ref.startsWith('#/')) return false;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = unescapePointer(decodeURIComponent(raw));
    } catch {
      return false;
    }
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return false;
    if (node === undefined) return false;
  }
  return true;
}

/**
 * Every `$ref` must point inside the document. External references (files, URLs) are
 * refused rather than resolved: resolving them would let an upload read the registry's
 * files or make it call arbitrary hosts (SSRF).
 */
function checkReferences(document: Record<string, unknown>): OpenApiProblem[] {
  const problems: OpenApiProblem[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${pointer}/${i}`);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (key === '$ref' && typeof value === 'string') {
        if (!value.startsWith('#'))
          problems.push({
            pointer: at,
            message: `external reference ${JSON.stringify(value)} is not allowed`,
          });
        else if (!resolveLocal(document, value))
          problems.push({ pointer: at, message: `reference ${JSON.stringify(value)} points to nothing` });
      } else walk(value, at);
    }
  };
  walk(document, '');
  return problems;
}

/**
 * Maps each line of `JSON.stringify(value, null, 2)` to the pointer of what starts there.
 * The validator reports schema errors as a code frame over that very text; the line it
 * marks gives us the pointer.
 */
function linePointers(value: unknown): string[] {
  const lines: string[] = [];
  const visit = (node: unknown, pointer: string) => {
    lines.push(pointer);
    if (Array.isArray(node)) {
      if (node.length === 0) return;
      for (const [i, item] of node.entries()) visit(item, `${pointer}/${i}`);
      lines.push(pointer);
    } else if (isObject(node)) {
      const entries = Object.entries(node).filter(([, v]) => v !== undefined);
      if (entries.length === 0) return;
      for (const [k, v] of entries) visit(v, `${pointer}/${escapePointer(k)}`);
      lines.push(pointer);
    }
  };
  visit(value, '');
  return lines;
}

function problemOfMessage(raw: string, pointers: string[] | null): OpenApiProblem {
  const [head = raw, frame = ''] = raw.split('\n\n');
  const marked = /^>\s*(\d+)\s*\|/m.exec(frame);
  const line = marked ? Number(marked[1]) : 0;
  const pointer = pointers && line > 0 ? (pointers[line - 1] ?? '') : '';
  const hint = /\^\s*(.+)$/m.exec(frame)?.[1]?.trim();
  const message = head.replace(/^[A-Z]+ /, '').trim();
  return { pointer, message: hint && !message.includes(hint) ? `${message} (${hint})` : message };
}

/** HTTP methods of every path item (a path item may be a local `$ref`, resolved in `dereferenced`). */
function declaredMethods(dereferenced: Record<string, unknown>): string[] {
  const methods = new Set<string>();
  const paths = isObject(dereferenced.paths) ? dereferenced.paths : {};
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    for (const m of HTTP_METHODS) if (isObject(item[m])) methods.add(m.toUpperCase());
  }
  return [...methods].sort();
}

/** Every property (anywhere: paths, components, nested schemas) marked `x-spl-classification: dikecualikan`. */
function findRestrictedFields(document: Record<string, unknown>): string[] {
  const found: string[] = [];
  const walk = (node: unknown, pointer: string) => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${pointer}/${i}`);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (key === 'properties' && isObject(value)) {
        for (const [name, schema] of Object.entries(value))
          if (isObject(schema) && schema['x-spl-classification'] === RESTRICTED)
            found.push(`${at}/${escapePointer(name)}`);
      }
      walk(value, at);
    }
  };
  walk(document, '');
  return found;
}

/**
 * Parses and validates an uploaded OpenAPI document with @readme/openapi-parser, accepting
 * OpenAPI 3.0 and 3.1 only. Throws SPL_INVALID_OPENAPI with `errors: [{pointer, message}]`
 * (or SPL_PAYLOAD_TOO_LARGE); the caller stores nothing in that case.
 */
export async function checkOpenApi(input: OpenApiSource, maxBytes: number): Promise<CheckedOpenApi> {
  const { document, source } = parseSource(input, maxBytes);
  const version = document.openapi;
  if (typeof version !== 'string' || !/^3\.[01]\.\d+$/.test(version)) {
    const given =
      typeof document.swagger === 'string' ? `Swagger ${document.swagger}` : JSON.stringify(version);
    invalid('only OpenAPI 3.0 and 3.1 documents are accepted', [
      {
        pointer: document.swagger !== undefined && version === undefined ? '/swagger' : '/openapi',
        message: `expected "openapi": "3.0.x" or "3.1.x", got ${given ?? 'nothing'}`,
      },
    ]);
  }
  const refProblems = checkReferences(document);
  if (refProblems.length) invalid('the OpenAPI document has references that cannot be resolved', refProblems);

  // The validator dereferences its argument in place; give it a copy and keep the original.
  const dereferenced = structuredClone(document);
  let result: Awaited<ReturnType<typeof validate>>;
  try {
    result = await validate(dereferenced as never, {
      resolve: { external: false, file: false },
      // Circular references stay as `$ref`s, so the copy stays a tree we can walk.
      dereference: { circular: 'ignore' },
      validate: { errors: { colorize: false } },
    });
  } catch (err) {
    invalid('the OpenAPI document could not be validated', [
      { pointer: '', message: (err as Error).message },
    ]);
  }
  if (!result.valid) {
    let pointers: string[] | null = null;
    try {
      pointers = linePointers(dereferenced);
    } catch {
      pointers = null;
    }
    const problems = result.errors.map((e) => problemOfMessage(e.message, pointers));
    if (result.additionalErrors > 0)
      problems.push({ pointer: '', message: `and ${result.additionalErrors} more errors` });
    invalid(`the OpenAPI document is not valid: ${problems[0]?.message ?? 'unknown error'}`, problems);
  }
  return {
    document,
    source,
    hash: sha256Hex(canonicalJson(document)),
    methods: declaredMethods(dereferenced),
    restrictedFields: findRestrictedFields(document),
  };
}
