/**
 * Property-based fuzzing of every operation a service's OpenAPI document (`/docs/json`) lists,
 * so a new endpoint is fuzzed without anyone remembering to (issue 6 §3).
 *
 * Each case is one hostile request: malformed, oversized, deeply nested or wrongly typed
 * bodies, bad query and path parameters, bad encodings (`%zz`, invalid UTF-8), huge or many
 * headers, with no token, a garbage one or a valid one. Cases are drawn with fast-check from a
 * printed seed (`SPL_FUZZ_SEED` replays a run) and run one by one; every answer goes through
 * the oracle and a failure is recorded, not thrown, so one run reports every failing operation.
 */
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';

export interface Operation {
  method: string;
  /** The OpenAPI path template, `/v1/organisations/{slug}`. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyProperties: string[];
  hasBody: boolean;
}

interface OpenApiDoc {
  paths?: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of the document, in path order. */
export function listOperations(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = op.parameters ?? [];
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const bodySchemas = Object.values(op.requestBody?.content ?? {}).map((c) => c.schema ?? {});
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...new Set([...templated, ...params.filter((p) => p.in === 'path').map((p) => p.name)])],
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProperties: [...new Set(bodySchemas.flatMap((s) => Object.keys(s.properties ?? {})))],
        hasBody: method !== 'get' && method !== 'delete',
      });
    }
  }
  return ops;
}

/** Strings that break parsers, validators and SQL: encodings, sizes, numbers, prototypes. */
const hostileLiteral = fc.constantFrom(
  '%zz',
  '%ff%fe%fd',
  '%c0%af',
  '%e0%a4%a',
  '%00',
  '..',
  '%2e%2e',
  '..%2f..%2fadmin',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '-1',
  '1e308',
  'NaN',
  '9'.repeat(400),
  'a'.repeat(5000),
  '\u0000',
  '𝕏𝕐',
  'ÿ',
  '',
);

/** Any string, percent-encoded so it survives the URL, or a hostile literal left raw. */
const urlPart = fc.oneof(
  hostileLiteral,
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.integer().map(String),
);

/** A JSON value of the wrong type for whatever the schema wants. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  hostileLiteral,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

interface Body {
  kind: string;
  contentType?: string;
  payload?: string | Buffer;
}

function bodyArbitrary(op: Operation): fc.Arbitrary<Body> {
  const keys = fc.constantFrom(...op.bodyProperties, '__proto__', 'constructor', 'extra');
  return fc.oneof(
    fc.dictionary(keys, wrongValue, { maxKeys: 8 }).map((v) => ({
      kind: 'schema keys, wrong values',
      contentType: 'application/json',
      payload: JSON.stringify(v),
    })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({
      kind: 'any JSON',
      contentType: 'application/json',
      payload: JSON.stringify(v) ?? 'null',
    })),
    fc.integer({ min: 2_000, max: 50_000 }).chain((n) =>
      fc.constantFrom(
        { kind: 'deep arrays', contentType: 'application/json', payload: `${'['.repeat(n)}${']'.repeat(n)}` },
        {
          kind: 'deep objects',
          contentType: 'application/json',
          payload: `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
        },
      ),
    ),
    fc.constantFrom(3 * 1024 * 1024, 17 * 1024 * 1024).map((n) => ({
      kind: 'oversized',
      contentType: 'application/json',
      payload: `{"a":"${'x'.repeat(n)}"}`,
    })),
    fc.string({ unit: 'binary', maxLength: 60 }).map((s) => ({
      kind: 'malformed JSON',
      contentType: 'application/json',
      payload: `{${s}`,
    })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({
      kind: 'invalid UTF-8',
      contentType: 'application/json',
      payload: Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
        Buffer.from(bytes),
        Buffer.from('"}'),
      ]),
    })),
    fc
      .tuple(
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
          'application/cloudevents+json',
          'application/cloudevents-batch+json',
          ';;;',
        ),
        fc.string({ unit: 'binary', maxLength: 80 }),
      )
      .map(([contentType, payload]) => ({ kind: 'odd content type', contentType, payload })),
    fc.constant({ kind: 'no body' }),
  );
}

const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/);

function headersArbitrary(tokens: string[]): fc.Arbitrary<{ kind: string; headers: Record<string, string> }> {
  const auth = fc.oneof(
    fc.constant<Record<string, string>>({}),
    ...tokens.map((t) => fc.constant({ authorization: `Bearer ${t}` })),
    fc
      .oneof(
        hostileLiteral,
        fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
        fc.constant('Bearer eyJhbGciOiJub25lIn0.e30.'),
        fc.constant(`Bearer ${'A'.repeat(6_000)}`),
        fc.constant('Basic %%%'),
      )
      .map((v) => ({ authorization: v.replace(/[^\t\x20-\x7e]/g, '?') })),
  );
  const extra = fc.oneof(
    fc.constant({ kind: 'plain', headers: {} as Record<string, string> }),
    // Node's HTTP parser refuses more than 16 KiB of headers (431) before the app sees them
    // (test/hostile/gateway-raw-socket.test.ts); this is the most that reaches a handler.
    fc.constant({ kind: 'huge header', headers: { 'x-fuzz': 'a'.repeat(8 * 1024) } }),
    fc
      .dictionary(headerName, fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), {
        minKeys: 100,
        maxKeys: 200,
      })
      .map((headers) => ({ kind: 'many headers', headers })),
    fc
      .record({
        'x-request-id': fc.oneof(hostileLiteral, fc.string({ unit: 'grapheme-ascii', maxLength: 300 })),
        accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ';;', 'application/json;q=x'),
        'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'deflate, gzip', 'x'),
      })
      .map((headers) => ({ kind: 'odd standard headers', headers })),
  );
  return fc.tuple(auth, extra).map(([a, e]) => ({
    kind: e.kind,
    headers: Object.fromEntries(
      Object.entries({ ...e.headers, ...a }).map(([k, v]) => [k, v.replace(/[^\t\x20-\x7e]/g, '?')]),
    ),
  }));
}

export interface HostileCase {
  op: Operation;
  kind: string;
  request: InjectOptions;
}

/** One hostile request for `op`; `tokens` are valid bearer tokens to try besides none or garbage. */
export function hostileRequest(op: Operation, tokens: string[]): fc.Arbitrary<HostileCase> {
  const pathValues = fc.tuple(...op.pathParams.map(() => urlPart));
  const query = fc.array(
    fc.tuple(fc.constantFrom(...op.queryParams, 'limit', 'cursor', '__proto__', 'a[b][c]'), urlPart),
    { maxLength: 6 },
  );
  const body = op.hasBody
    ? bodyArbitrary(op)
    : fc.oneof(fc.constant<Body>({ kind: 'no body' }), bodyArbitrary(op));
  return fc.record({ pathValues, query, body, headers: headersArbitrary(tokens) }).map((c) => {
    let i = 0;
    const path = op.path.replace(/\{[^}]+\}/g, () => c.pathValues[i++] ?? 'x').replace(/\*$/, 'a/%zz');
    const qs = c.query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
    const headers = { ...c.headers.headers };
    if (c.body.contentType) headers['content-type'] = c.body.contentType;
    return {
      op,
      kind: `${c.body.kind}; ${c.headers.kind}`,
      request: {
        method: op.method as InjectOptions['method'],
        url: qs ? `${path}?${qs}` : path,
        headers,
        ...(c.body.payload !== undefined ? { payload: c.body.payload } : {}),
      },
    };
  });
}

/** Why the answer breaks the oracle, or null: never 5xx; every 4xx a problem+json (OAuth2: RFC 6749 JSON). */
export function judgeAnswer(op: Operation, res: LightMyRequestResponse): string | null {
  if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 200)}`;
  if (res.statusCode < 400) return null;
  const type = String(res.headers['content-type'] ?? '');
  if (type.startsWith('application/problem+json')) return null;
  if (op.path.endsWith('/oauth2/token') && type.startsWith('application/json')) {
    try {
      if (typeof (JSON.parse(res.body) as { error?: unknown }).error === 'string') return null;
    } catch {}
  }
  return `answered ${res.statusCode} as ${type || 'no content type'}: ${res.body.slice(0, 120)}`;
}

export interface FuzzFailure {
  operation: string;
  kind: string;
  url: string;
  why: string;
}

export interface FuzzReport {
  service: string;
  operations: number;
  cases: number;
  byStatus: Record<string, number>;
  failures: FuzzFailure[];
  seed: number;
}

export const FUZZ_SEED = Number(process.env.SPL_FUZZ_SEED ?? Date.now() % 2 ** 31);
export const FUZZ_RUNS = Number(process.env.SPL_FUZZ_RUNS ?? 20);

/**
 * Runs `numRuns` hostile cases against every operation. `afterCase` adds its own checks
 * (nothing stored, still alive) and returns why it failed, or null.
 */
export async function fuzzOperations(input: {
  service: string;
  operations: Operation[];
  inject: (req: InjectOptions) => Promise<LightMyRequestResponse>;
  tokens: string[];
  numRuns?: number;
  afterCase?: (c: HostileCase, res: LightMyRequestResponse) => Promise<string | null>;
}): Promise<FuzzReport> {
  const report: FuzzReport = {
    service: input.service,
    operations: input.operations.length,
    cases: 0,
    byStatus: {},
    failures: [],
    seed: FUZZ_SEED,
  };
  for (const [n, op] of input.operations.entries()) {
    const cases = fc.sample(hostileRequest(op, input.tokens), {
      numRuns: input.numRuns ?? FUZZ_RUNS,
      seed: FUZZ_SEED + n,
    });
    for (const c of cases) {
      report.cases++;
      const fail = (why: string) =>
        report.failures.push({
          operation: `${op.method} ${op.path}`,
          kind: c.kind,
          url: String(c.request.url).slice(0, 200),
          why,
        });
      let res: LightMyRequestResponse;
      try {
        res = await input.inject(c.request);
      } catch (err) {
        fail(`inject threw: ${(err as Error).message}`);
        continue;
      }
      const status = `${Math.floor(res.statusCode / 100)}xx`;
      report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
      const why = judgeAnswer(op, res) ?? (input.afterCase ? await input.afterCase(c, res) : null);
      if (why) fail(why);
    }
  }
  return report;
}

/** One line per service for the log and docs/hardening.md. */
export function printReport(report: FuzzReport): void {
  const statuses = Object.entries(report.byStatus)
    .sort()
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  process.stdout.write(
    `[hostile] ${report.service}: ${report.operations} operations, ${report.cases} cases (${statuses}), ` +
      `${report.failures.length} failures, seed ${report.seed}\n`,
  );
  for (const f of report.failures.slice(0, 20))
    process.stdout.write(`  ✗ ${f.operation} [${f.kind}] ${f.url}: ${f.why}\n`);
}
