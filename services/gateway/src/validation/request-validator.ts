import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import {
  escapePointer,
  isObject,
  nodeAt,
  prepareDocument,
  resolveObject,
  unescapePointer,
} from './openapi-document.js';
import { buildPathMatcher, type PathMatcher } from './path-matcher.js';

/**
 * Validates a request against its API version's OpenAPI 3.0/3.1 document (issue 3, point 7):
 * path, query and header parameters and the JSON request body, before the request reaches the
 * upstream.
 *
 * Everything is compiled when the validator is built — the path matcher, and per operation one
 * ajv function for each parameter location and each JSON media type of the body — so a request
 * costs a trie walk, a JSON.parse and a few generated functions (STYLE "Hot paths"; figures in
 * bench/gateway-validation.ts).
 *
 * What a request is told: JSON pointers into the request (`/path/nik`, `/query/limit`,
 * `/headers/x-trace`, `/body/items/0/nama`) and ajv's messages, which name the schema's
 * constraint and never the value (`must match pattern "^[0-9]{16}$"`). A NIK in a path or a
 * body never comes back in a 400 detail, nor is it logged from one (UU PDP 27/2022); object
 * keys that the schema does not declare (a map keyed by NIK) are shown as `*` in pointers.
 *
 * Decisions:
 * - No path template matches → 400 with pointer `/path` ("no operation of the API matches this
 *   path"). The route itself exists (the gateway answered 404 for a missing API before us), so
 *   this is a request outside the API's contract, which the public contract answers with 400;
 *   a 404 here would read like the upstream's own "not found" (the demo's unknown NIK).
 * - A template matches but has no operation for the method → 405 with `allow`, the methods of
 *   that path (RFC 9110 §15.5.6 wants an `Allow` header). Methods are matched exactly: HEAD is
 *   not folded into GET, as the registry's `route.methods` does not fold them either.
 * - A body on an operation that declares none is passed on unvalidated; a missing body when
 *   `requestBody.required` → 400 at `/body`.
 * - A body whose content type the operation does not declare (wildcards `type/*` and `*∕*`
 *   honoured; none given counts as undeclared) → 415 with `accept`. `application/json` and
 *   `*+json` bodies are parsed and validated; other declared media types pass unvalidated.
 * - A query parameter that is not an array but is given twice → 400: the upstream might read
 *   the other copy than the one validated (HTTP parameter pollution).
 * - Cookie parameters, `allowReserved` and exploded `form` objects without declared properties
 *   are not checked.
 * - A schema ajv cannot compile (e.g. a `pattern` that is not a valid `u`-flag regex) leaves
 *   that one part unvalidated; it is listed in `problems` for the caller to log once per
 *   snapshot, rather than making the whole API unusable.
 */

export interface ValidationProblem {
  /** JSON pointer into the request: `/path/…`, `/query/…`, `/headers/…`, `/body…`, `/method`. */
  pointer: string;
  message: string;
}

export type ValidationOutcome =
  | { ok: true }
  | {
      ok: false;
      status: 400 | 405 | 415;
      errors: ValidationProblem[];
      /** With 405: the methods the matched path declares, for the `Allow` header. */
      allow?: readonly string[];
      /** With 415: the media types the operation declares, for an `Accept` header. */
      accept?: readonly string[];
    };

export interface RequestToValidate {
  /** Upper case, as on the wire. */
  method: string;
  /** The `{rest}` of `/{org}/{api}/{version}/{rest}`, starting with '/', still percent-encoded. */
  path: string;
  query: URLSearchParams;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | undefined;
  contentType: string | undefined;
}

export interface RequestValidator {
  validate(req: RequestToValidate): ValidationOutcome;
  /** Parts of the document that could not be compiled and are therefore not validated. */
  readonly problems: readonly ValidationProblem[];
}

export interface CompileOptions {
  /**
   * The regex engine for `pattern` and `patternProperties` (ajv's `code.regExp`). Default:
   * JavaScript's backtracking RegExp, so a publisher's catastrophic pattern can cost CPU on
   * long inputs; an RE2 binding plugs in here.
   */
  regExp?: NonNullable<Options['code']>['regExp'];
  /**
   * Compile each operation on its first request instead of at construction. Default false.
   * Compiling costs ≈ 1–2 ms per schema (bench/gateway-validation.ts), so a cold start from a
   * snapshot with hundreds of distinct documents takes seconds eagerly; lazily, the first
   * request to each operation pays its own share once. `problems` then grows as operations are
   * first used.
   */
  lazy?: boolean;
}

type Location = 'path' | 'query' | 'header';

interface CompiledParameter {
  /** Name as declared; lower case for headers. */
  name: string;
  shape: 'scalar' | 'array' | 'object';
  style: string;
  explode: boolean;
  /** A parameter described by `content: application/json` instead of `schema`. */
  isJson: boolean;
  /** For exploded form objects: the property names to collect from the query. */
  properties: string[];
}

interface ParameterGroup {
  parameters: CompiledParameter[];
  validate: ValidateFunction | undefined;
}

interface MediaRule {
  validate: ValidateFunction | undefined;
}

interface BodyRule {
  required: boolean;
  /** By media type essence (lower case, no parameters); may hold `type/*` and `*∕*`. */
  media: Map<string, MediaRule>;
  accept: string[];
}

interface CompiledOperation {
  path: ParameterGroup | undefined;
  query: ParameterGroup | undefined;
  header: ParameterGroup | undefined;
  body: BodyRule | undefined;
}

/** An operation compiled at construction, or on first use with `lazy`. */
interface LazyOperation {
  compiled: CompiledOperation | undefined;
  compile: () => CompiledOperation;
}

interface CompiledPathItem {
  operations: Map<string, LazyOperation>;
  allow: string[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** OAS 3.1 §4.8.12.1: header parameters with these names are ignored. */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const DOCUMENT_ID = 'urn:spl:openapi';
const OK: ValidationOutcome = Object.freeze({ ok: true });
const NO_OPERATION: ValidationOutcome = Object.freeze({
  ok: false,
  status: 400,
  errors: [{ pointer: '/path', message: 'no operation of the API matches this path' }],
});

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

function newAjv(dialect: '3.0' | '3.1', coerce: boolean, options: CompileOptions): Ajv {
  const ajvOptions: Options = {
    // OpenAPI documents carry `x-…`, `example`, `discriminator`, `xml`…: unknown keywords are ignored.
    strict: false,
    allErrors: false,
    logger: false,
    // The registry validated the document; checking it against the meta-schema again costs ms.
    validateSchema: false,
    coerceTypes: coerce ? 'array' : false,
    ...(options.regExp ? { code: { regExp: options.regExp } } : {}),
  };
  // 3.0 schemas are rewritten to draft-07 terms (openapi-document.ts); 3.1 is JSON Schema 2020-12.
  const ajv = dialect === '3.1' ? new Ajv2020(ajvOptions) : new Ajv(ajvOptions);
  addFormats(ajv);
  return ajv;
}

function refTo(pointer: string): { $ref: string } {
  // A pointer segment may hold `{`, `}` or spaces (`/paths/~1penduduk~1{nik}`): URI-encode each.
  const encoded = pointer
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  return { $ref: `${DOCUMENT_ID}#${encoded}` };
}

function typesOf(schema: unknown): string[] {
  if (!isObject(schema)) return [];
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === 'string');
  return [];
}

function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json');
}

function essenceOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** Compiles the validator of one OpenAPI 3.0 or 3.1 document (parsed JSON). */
export function compileRequestValidator(input: object, options: CompileOptions = {}): RequestValidator {
  const { document, dialect, declaredNames } = prepareDocument(input);
  const problems: ValidationProblem[] = [];
  let paramAjv: Ajv | undefined;
  let bodyAjv: Ajv | undefined;
  const ajvFor = (coerce: boolean): Ajv => {
    if (coerce) {
      if (!paramAjv) {
        paramAjv = newAjv(dialect, true, options);
        paramAjv.addSchema(document, DOCUMENT_ID);
      }
      return paramAjv;
    }
    if (!bodyAjv) {
      bodyAjv = newAjv(dialect, false, options);
      bodyAjv.addSchema(document, DOCUMENT_ID);
    }
    return bodyAjv;
  };
  // Media types often share one component schema: compile it once.
  const bodyValidators = new Map<string, ValidateFunction | undefined>();
  const compileBodySchema = (pointer: string): ValidateFunction | undefined => {
    const node = nodeAt(document, `#${pointer}`);
    const target =
      isObject(node) &&
      typeof node.$ref === 'string' &&
      node.$ref.startsWith('#/') &&
      Object.keys(node).length === 1
        ? node.$ref.slice(1)
        : pointer;
    if (!bodyValidators.has(target)) bodyValidators.set(target, compile(refTo(target), false, pointer));
    return bodyValidators.get(target);
  };
  const compile = (schema: object, coerce: boolean, where: string): ValidateFunction | undefined => {
    try {
      return ajvFor(coerce).compile(schema);
    } catch (err) {
      problems.push({ pointer: where, message: `not validated: ${(err as Error).message}` });
      return undefined;
    }
  };

  const compileParameters = (
    declared: Array<{ node: Record<string, unknown>; pointer: string }>,
    location: Location,
    operationPointer: string,
  ): ParameterGroup | undefined => {
    const parameters: CompiledParameter[] = [];
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const { node, pointer } of declared) {
      if (node.in !== location || typeof node.name !== 'string') continue;
      const name = location === 'header' ? node.name.toLowerCase() : node.name;
      if (location === 'header' && IGNORED_HEADERS.has(name)) continue;
      let schemaPointer: string | undefined;
      let isJson = false;
      if (node.schema !== undefined) schemaPointer = `${pointer}/schema`;
      else if (isObject(node.content)) {
        const [mediaType] = Object.keys(node.content);
        if (mediaType && isJsonMediaType(essenceOf(mediaType))) {
          isJson = true;
          const media = resolveObject(
            document,
            node.content[mediaType],
            `${pointer}/content/${escapePointer(mediaType)}`,
          );
          if (media && media.node.schema !== undefined) schemaPointer = `${media.pointer}/schema`;
        }
      }
      const schema = schemaPointer
        ? resolveObject(document, nodeAt(document, `#${schemaPointer}`), schemaPointer)
        : undefined;
      const types = typesOf(schema?.node);
      const shape = isJson
        ? 'scalar'
        : types.includes('array')
          ? 'array'
          : types.includes('object')
            ? 'object'
            : 'scalar';
      const style = typeof node.style === 'string' ? node.style : location === 'query' ? 'form' : 'simple';
      parameters.push({
        name,
        shape,
        style,
        explode: typeof node.explode === 'boolean' ? node.explode : style === 'form',
        isJson,
        properties: isObject(schema?.node.properties) ? Object.keys(schema.node.properties) : [],
      });
      properties[name] = schemaPointer ? refTo(schemaPointer) : {};
      if (node.required === true || location === 'path') required.push(name);
    }
    if (parameters.length === 0) return undefined;
    const validate = compile(
      { type: 'object', properties, required },
      true,
      `${operationPointer}/parameters(${location})`,
    );
    return { parameters, validate };
  };

  const compileBody = (
    operation: Record<string, unknown>,
    operationPointer: string,
  ): BodyRule | undefined => {
    const requestBody = resolveObject(document, operation.requestBody, `${operationPointer}/requestBody`);
    if (!requestBody || !isObject(requestBody.node.content)) return undefined;
    const media = new Map<string, MediaRule>();
    for (const [mediaType, raw] of Object.entries(requestBody.node.content)) {
      const essence = essenceOf(mediaType);
      const resolved = resolveObject(
        document,
        raw,
        `${requestBody.pointer}/content/${escapePointer(mediaType)}`,
      );
      let validate: ValidateFunction | undefined;
      // A JSON body is validated when the declared type can be JSON (`application/json`,
      // `…+json`, or a wildcard the JSON request falls under).
      if (
        resolved &&
        resolved.node.schema !== undefined &&
        (isJsonMediaType(essence) || essence.endsWith('/*'))
      )
        validate = compileBodySchema(`${resolved.pointer}/schema`);
      if (!media.has(essence)) media.set(essence, { validate });
    }
    return { required: requestBody.node.required === true, media, accept: [...media.keys()] };
  };

  const items: Array<{ template: string; value: CompiledPathItem }> = [];
  const paths = isObject(document.paths) ? document.paths : {};
  for (const [template, raw] of Object.entries(paths)) {
    if (!template.startsWith('/')) continue;
    const item = resolveObject(document, raw, `/paths/${escapePointer(template)}`);
    if (!item) continue;
    const shared = parametersOf(document, item.node.parameters, `${item.pointer}/parameters`);
    const operations = new Map<string, LazyOperation>();
    for (const method of HTTP_METHODS) {
      const operation = item.node[method];
      if (!isObject(operation)) continue;
      const operationPointer = `${item.pointer}/${method}`;
      // Operation-level parameters override path-level ones with the same name and location.
      const own = parametersOf(document, operation.parameters, `${operationPointer}/parameters`);
      const merged = [
        ...shared.filter((s) => !own.some((o) => o.node.name === s.node.name && o.node.in === s.node.in)),
        ...own,
      ];
      const lazy: LazyOperation = {
        compiled: undefined,
        compile: () => {
          lazy.compiled ??= {
            path: compileParameters(merged, 'path', operationPointer),
            query: compileParameters(merged, 'query', operationPointer),
            header: compileParameters(merged, 'header', operationPointer),
            body: compileBody(operation, operationPointer),
          };
          return lazy.compiled;
        },
      };
      if (!options.lazy) lazy.compile();
      operations.set(method.toUpperCase(), lazy);
    }
    items.push({ template, value: { operations, allow: [...operations.keys()] } });
  }
  const matcher: PathMatcher<CompiledPathItem> = buildPathMatcher(items);

  return {
    problems,
    validate(req) {
      const found = matcher.match(req.path, (item) => item.operations.has(req.method));
      if (!found) {
        const other = matcher.match(req.path);
        if (!other) return NO_OPERATION;
        return {
          ok: false,
          status: 405,
          errors: [{ pointer: '/method', message: 'the path does not declare this method' }],
          allow: other.value.allow,
        };
      }
      const lazy = found.value.operations.get(req.method)!;
      const operation = lazy.compiled ?? lazy.compile();
      const body = operation.body;
      const hasBody = req.body !== undefined && req.body.length > 0;
      let media: MediaRule | undefined;
      let essence = '';
      if (body && hasBody) {
        essence = req.contentType ? essenceOf(req.contentType) : '';
        media =
          essence === ''
            ? undefined
            : (body.media.get(essence) ??
              body.media.get(`${essence.slice(0, essence.indexOf('/'))}/*`) ??
              body.media.get('*/*'));
        if (!media)
          return {
            ok: false,
            status: 415,
            errors: [
              {
                pointer: '/headers/content-type',
                message: `the operation accepts ${body.accept.join(', ')}`,
              },
            ],
            accept: body.accept,
          };
      }

      let errors: ValidationProblem[] | undefined;
      const add = (problem: ValidationProblem | undefined) => {
        if (!problem) return;
        errors ??= [];
        errors.push(problem);
      };
      if (operation.path)
        add(checkGroup(operation.path, 'path', pathValues(operation.path, found.params), declaredNames));
      if (operation.query)
        add(checkGroup(operation.query, 'query', queryValues(operation.query, req.query), declaredNames));
      if (operation.header)
        add(
          checkGroup(operation.header, 'headers', headerValues(operation.header, req.headers), declaredNames),
        );
      if (body) {
        if (!hasBody) {
          if (body.required) add({ pointer: '/body', message: 'is required' });
        } else if (media?.validate && isJsonMediaType(essence)) {
          let parsed: unknown;
          let isParsed = true;
          try {
            parsed = JSON.parse(req.body!.toString('utf8'));
          } catch {
            // V8's SyntaxError quotes the text around the fault: never pass it on.
            isParsed = false;
            add({ pointer: '/body', message: 'is not valid JSON' });
          }
          if (isParsed && !media.validate(parsed))
            add(problemOf('/body', media.validate.errors, parsed, declaredNames));
        }
      }
      return errors ? { ok: false, status: 400, errors } : OK;
    },
  };
}

function parametersOf(
  document: Record<string, unknown>,
  list: unknown,
  pointer: string,
): Array<{ node: Record<string, unknown>; pointer: string }> {
  if (!Array.isArray(list)) return [];
  const out: Array<{ node: Record<string, unknown>; pointer: string }> = [];
  for (const [i, raw] of list.entries()) {
    const resolved = resolveObject(document, raw, `${pointer}/${i}`);
    if (resolved) out.push(resolved);
  }
  return out;
}

/** Values that failed to decode before schema validation: a problem of their own. */
class DecodeFailure {
  constructor(readonly problem: ValidationProblem) {}
}

type GroupValues = Record<string, unknown> | DecodeFailure;

function checkGroup(
  group: ParameterGroup,
  prefix: string,
  values: GroupValues,
  declaredNames: ReadonlySet<string>,
): ValidationProblem | undefined {
  if (values instanceof DecodeFailure) return values.problem;
  if (!group.validate || group.validate(values)) return undefined;
  return problemOf(`/${prefix}`, group.validate.errors, values, declaredNames);
}

function decodeValue(raw: string, name: string, location: string): string | DecodeFailure {
  try {
    return decodeURIComponent(raw);
  } catch {
    return new DecodeFailure({
      pointer: `/${location}/${escapePointer(name)}`,
      message: 'is not valid percent-encoding',
    });
  }
}

function parseJsonValue(text: string, name: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new DecodeFailure({
      pointer: `/${location}/${escapePointer(name)}`,
      message: 'is not valid JSON',
    });
  }
}

/** `k1,v1,k2,v2` (or `k1=v1,k2=v2` exploded) into an object. */
function pairsToObject(parts: string[], explode: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (explode) {
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
    }
  } else for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

/** Path parameters: `simple` (default), `label` (`.a.b`) and `matrix` (`;id=a,b`), OAS §4.8.12.4. */
function pathValues(group: ParameterGroup, raw: Record<string, string>): GroupValues {
  const values: Record<string, unknown> = {};
  for (const p of group.parameters) {
    let text = raw[p.name];
    if (text === undefined) continue;
    let separator = ',';
    if (p.style === 'label' && text.startsWith('.')) {
      text = text.slice(1);
      if (p.explode) separator = '.';
    } else if (p.style === 'matrix' && text.startsWith(';')) {
      const prefix = `;${p.name}=`;
      text = text.startsWith(prefix) ? text.slice(prefix.length) : text.slice(1);
      if (p.explode) separator = `;${p.name}=`;
    }
    if (p.shape === 'scalar') {
      const decoded = decodeValue(text, p.name, 'path');
      if (decoded instanceof DecodeFailure) return decoded;
      const value = p.isJson ? parseJsonValue(decoded, p.name, 'path') : decoded;
      if (value instanceof DecodeFailure) return value;
      values[p.name] = value;
      continue;
    }
    const parts: string[] = [];
    for (const part of text.split(separator)) {
      const decoded = decodeValue(part, p.name, 'path');
      if (decoded instanceof DecodeFailure) return decoded;
      parts.push(decoded);
    }
    values[p.name] = p.shape === 'array' ? parts : pairsToObject(parts, p.explode);
  }
  return values;
}

const QUERY_SEPARATORS: Record<string, string> = { form: ',', spaceDelimited: ' ', pipeDelimited: '|' };

/** Query parameters: `form` (default), `spaceDelimited`, `pipeDelimited`, `deepObject`. */
function queryValues(group: ParameterGroup, query: URLSearchParams): GroupValues {
  const values: Record<string, unknown> = {};
  for (const p of group.parameters) {
    if (p.shape === 'object' && p.style === 'deepObject') {
      const object: Record<string, string> = {};
      let isPresent = false;
      const prefix = `${p.name}[`;
      for (const [key, value] of query) {
        if (!key.startsWith(prefix) || !key.endsWith(']')) continue;
        object[key.slice(prefix.length, -1)] = value;
        isPresent = true;
      }
      if (isPresent) values[p.name] = object;
      continue;
    }
    if (p.shape === 'object' && p.explode) {
      const object: Record<string, string> = {};
      let isPresent = false;
      for (const property of p.properties) {
        const value = query.get(property);
        if (value === null) continue;
        object[property] = value;
        isPresent = true;
      }
      if (isPresent) values[p.name] = object;
      continue;
    }
    const all = query.getAll(p.name);
    if (all.length === 0) continue;
    if (p.shape === 'array' && p.explode) {
      values[p.name] = all;
      continue;
    }
    if (all.length > 1)
      return new DecodeFailure({ pointer: `/query/${escapePointer(p.name)}`, message: 'must be given once' });
    const text = all[0]!;
    if (p.shape === 'scalar') {
      const value = p.isJson ? parseJsonValue(text, p.name, 'query') : text;
      if (value instanceof DecodeFailure) return value;
      values[p.name] = value;
    } else {
      const parts = text.split(QUERY_SEPARATORS[p.style] ?? ',');
      values[p.name] = p.shape === 'array' ? parts : pairsToObject(parts, false);
    }
  }
  return values;
}

/** Header parameters: `simple`, OAS §4.8.12.4. */
function headerValues(
  group: ParameterGroup,
  headers: Record<string, string | string[] | undefined>,
): GroupValues {
  const values: Record<string, unknown> = {};
  for (const p of group.parameters) {
    const raw = headers[p.name];
    if (raw === undefined) continue;
    const text = typeof raw === 'string' ? raw : raw.join(', ');
    if (p.shape === 'scalar') {
      const value = p.isJson ? parseJsonValue(text, p.name, 'headers') : text;
      if (value instanceof DecodeFailure) return value;
      values[p.name] = value;
    } else {
      const parts = text.split(',').map((s) => s.trim());
      values[p.name] = p.shape === 'array' ? parts : pairsToObject(parts, p.explode);
    }
  }
  return values;
}

/**
 * The request-side pointer of ajv's (first) error. Array indices and property names some schema
 * of the document declares are shown; any other key comes from the caller's data (a map keyed by
 * NIK) and is shown as `*`.
 */
function problemOf(
  prefix: string,
  errors: ErrorObject[] | null | undefined,
  data: unknown,
  declaredNames: ReadonlySet<string>,
): ValidationProblem {
  const error = errors?.[0];
  if (!error) return { pointer: prefix, message: 'is invalid' };
  let pointer = prefix;
  let node: unknown = data;
  if (error.instancePath !== '') {
    // In a parameter group the first key is the parameter's declared name.
    let isDeclared = prefix !== '/body';
    for (const raw of error.instancePath.slice(1).split('/')) {
      const segment = unescapePointer(raw);
      if (Array.isArray(node)) {
        pointer += `/${raw}`;
        node = node[Number(segment)];
      } else {
        pointer += isDeclared || declaredNames.has(segment) ? `/${raw}` : '/*';
        node = isObject(node) ? node[segment] : undefined;
      }
      isDeclared = false;
    }
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    if (typeof missing === 'string')
      return { pointer: `${pointer}/${escapePointer(missing)}`, message: 'is required' };
  }
  return { pointer, message: error.message ?? 'is invalid' };
}
