/**
 * How long the registry takes to compile the data-plane snapshot at regional scale
 * (issue 2, point 11: "well under a second" for 10,000 API versions).
 *
 *   pnpm bench:snapshot             # PostgreSQL at SPL_BENCH_DATABASE_URL, in a fresh schema
 *   pnpm bench:snapshot --pglite    # also the embedded store
 *
 * Data: 200 organisations, 2,000 APIs, 10,000 published versions sharing ~500 distinct
 * OpenAPI documents, 2,000 applications, 20,000 subscriptions — inserted in bulk with
 * generate_series, so set-up takes seconds. Times a cold compile (empty OpenAPI cache, as
 * after a registry start) and 5 warm ones (as after a change), each including the JSON
 * text the registry serves; and, for the data plane's side, parsing + schema validation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseSnapshot } from '../packages/snapshot/src/index.js';
import {
  compileSnapshotContent,
  createCompileCache,
  snapshotTextOf,
} from '../services/registry/src/snapshot/compile-snapshot.js';
import {
  createPgliteDatabase,
  createPostgresDatabase,
  type Database,
} from '../services/registry/src/store/database.js';
import { migrate } from '../services/registry/src/store/migrate.js';

const DATABASE_URL = process.env.SPL_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ORGS = 200;
const APIS_PER_ORG = 10;
const VERSIONS_PER_API = 5;
const DOCUMENTS = 500;
const APPS_PER_ORG = 10;
const SUBSCRIPTIONS_PER_APP = 10;
const WARM_RUNS = 5;

/** A realistic mid-sized OpenAPI 3.1 document: a handful of paths and schemas (~6 KB). */
function openapiDocument(n: number): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (let p = 0; p < 6; p++)
    paths[`/resource-${n}-${p}/{id}`] = {
      get: {
        operationId: `get${n}x${p}`,
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{16}$' } },
          { name: 'fields', in: 'query', schema: { type: 'string', maxLength: 200 } },
        ],
        responses: {
          '200': {
            description: 'Found',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/Record${p}` } } },
          },
          '404': { description: 'Not found' },
        },
      },
      post: {
        operationId: `post${n}x${p}`,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: `#/components/schemas/Record${p}` } } },
        },
        responses: { '201': { description: 'Created' } },
      },
    };
  const schemas: Record<string, unknown> = {};
  for (let p = 0; p < 6; p++)
    schemas[`Record${p}`] = {
      type: 'object',
      required: ['nik', 'nama'],
      properties: {
        nik: { type: 'string', pattern: '^[0-9]{16}$', 'x-spl-classification': 'dikecualikan' },
        nama: { type: 'string', maxLength: 200 },
        alamat: { type: 'string', maxLength: 500 },
        tanggalLahir: { type: 'string', format: 'date' },
        status: { type: 'string', enum: ['aktif', 'nonaktif', 'pindah', 'meninggal'] },
      },
    };
  return {
    openapi: '3.1.0',
    info: { title: `Layanan ${n}`, version: '1.0.0', description: `Dokumen OpenAPI contoh nomor ${n}.` },
    paths,
    components: { schemas },
  };
}

async function seed(db: Database): Promise<void> {
  const docs = Array.from({ length: DOCUMENTS }, (_, n) => {
    const document = openapiDocument(n);
    const text = JSON.stringify(document);
    return { hash: createHash('sha256').update(text).digest('hex'), document, source: text };
  });
  const hashes = docs.map((d) => d.hash);
  const apis = ORGS * APIS_PER_ORG;
  const versions = apis * VERSIONS_PER_API;
  const apps = ORGS * APPS_PER_ORG;
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO organisations (id, slug, name, kind)
       SELECT 'o' || i, 'pd-' || lpad(i::text, 3, '0'), 'Perangkat Daerah ' || i, 'perangkat-daerah'
         FROM generate_series(1, $1::int) i`,
      [ORGS],
    );
    await tx.query(
      `INSERT INTO openapi_documents (hash, document, source)
       SELECT d->>'hash', d->'document', d->>'source' FROM jsonb_array_elements($1::jsonb) d`,
      [JSON.stringify(docs)],
    );
    await tx.query(
      `INSERT INTO apis (id, org_id, slug, name, classification)
       SELECT 'a' || i, 'o' || ((i - 1) / $2::int + 1), 'layanan-' || lpad(((i - 1) % $2::int)::text, 2, '0'),
              'Layanan ' || i, (ARRAY['publik', 'terbatas', 'rahasia', 'dikecualikan'])[i % 4 + 1]
         FROM generate_series(1, $1::int) i`,
      [apis, APIS_PER_ORG],
    );
    // Every fourth version authenticates to its upstream with a header whose value is sealed.
    await tx.query(
      `INSERT INTO api_versions (id, api_id, version, state, openapi_hash, restricted_fields, methods,
                                 upstream, upstream_auth, upstream_secret, plan)
       SELECT 'v' || i, 'a' || ((i - 1) / $2::int + 1), 'v' || ((i - 1) % $2::int + 1), 'published',
              ($3::text[])[i % $4::int + 1], '{nik}', '{GET,POST}',
              jsonb_build_object('urls', jsonb_build_array('http://10.0.' || (i % 250) || '.10:8080/api/' || i),
                                 'timeoutMs', 10000),
              CASE WHEN i % 4 = 0 THEN '{"kind": "header", "name": "X-Api-Key"}'::jsonb ELSE '{"kind": "none"}'::jsonb END,
              CASE WHEN i % 4 = 0 THEN 'v1.bench.' || md5(i::text) || '.' || md5((i + 1)::text) || '.' || md5((i + 2)::text) END,
              jsonb_build_object('requestsPerMinute', 600, 'bodyLimitBytes', 1048576)
         FROM generate_series(1, $1::int) i`,
      [versions, VERSIONS_PER_API, hashes, DOCUMENTS],
    );
    await tx.query(
      `INSERT INTO applications (id, org_id, slug, name)
       SELECT 'app' || i, 'o' || ((i - 1) / $2::int + 1), 'aplikasi-' || ((i - 1) % $2::int), 'Aplikasi ' || i
         FROM generate_series(1, $1::int) i`,
      [apps, APPS_PER_ORG],
    );
    await tx.query(
      `INSERT INTO oauth_clients (client_id, kind, org_id, application_id, roles)
       SELECT 'client-app' || i, 'application', 'o' || ((i - 1) / $2::int + 1), 'app' || i, '{consumer}'
         FROM generate_series(1, $1::int) i`,
      [apps, APPS_PER_ORG],
    );
    // Application a subscribes to versions (7a + 997k) mod N: distinct for k < 10.
    await tx.query(
      `INSERT INTO subscriptions (id, application_id, version_id, purpose, state, requested_by)
       SELECT 's' || a || '-' || k, 'app' || a, 'v' || ((a * 7 + k * 997) % $3::int + 1), 'pelayanan',
              CASE WHEN k = 9 THEN 'pending' WHEN k = 8 THEN 'suspended' ELSE 'approved' END, 'bench'
         FROM generate_series(1, $1::int) a, generate_series(0, $2::int - 1) k`,
      [apps, SUBSCRIPTIONS_PER_APP, versions],
    );
    await tx.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_key)
       VALUES ('bench-key', 'ES256', $1, 'v1.sealed')`,
      [
        JSON.stringify({
          kty: 'EC',
          crv: 'P-256',
          x: 'x'.repeat(43),
          y: 'y'.repeat(43),
          kid: 'bench-key',
          alg: 'ES256',
          use: 'sig',
        }),
      ],
    );
    await tx.query(
      `INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id, prev_hash, hash)
       VALUES (1, now(), '{}', 'bench.seed', 'bench', 'bench', '0', '0')`,
    );
    await tx.query('ANALYZE');
  });
}

interface Row {
  store: string;
  coldMs: number;
  warm: number[];
  bytes: number;
  routes: number;
  subscriptions: number;
  parseMs: number;
}

async function measure(store: string, db: Database): Promise<Row> {
  await migrate(db);
  const seedStart = performance.now();
  await seed(db);
  console.error(`${store}: seeded in ${Math.round(performance.now() - seedStart)} ms`);
  const cache = createCompileCache();
  const compile = async () => {
    const start = performance.now();
    const now = new Date();
    const compiled = await compileSnapshotContent(db, {
      issuer: 'https://hub.example.go.id',
      audience: 'spl',
      now,
      cache,
    });
    const text = snapshotTextOf(compiled, now);
    return { ms: performance.now() - start, text, compiled };
  };
  const cold = await compile();
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) warm.push((await compile()).ms);
  const parseStart = performance.now();
  const parsed = parseSnapshot(cold.text);
  const parseMs = performance.now() - parseStart;
  return {
    store,
    coldMs: cold.ms,
    warm: warm.sort((a, b) => a - b),
    bytes: Buffer.byteLength(cold.text),
    routes: parsed.routes.length,
    subscriptions: parsed.subscriptions.length,
    parseMs,
  };
}

async function benchPostgres(): Promise<Row> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = createPostgresDatabase({ url: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = createPostgresDatabase({ url: DATABASE_URL, schema, max: 4 });
  try {
    return await measure('postgresql', db);
  } finally {
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  }
}

async function benchPglite(): Promise<Row> {
  const db = await createPgliteDatabase({});
  try {
    return await measure('pglite', db);
  } finally {
    await db.close();
  }
}

const rows: Row[] = [await benchPostgres()];
if (process.argv.includes('--pglite')) rows.push(await benchPglite());

const ms = (n: number) => n.toFixed(1);
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
console.log(
  `\nsnapshot compile: ${ORGS} organisations, ${ORGS * APIS_PER_ORG} APIs, ${ORGS * APIS_PER_ORG * VERSIONS_PER_API} published versions, ${DOCUMENTS} OpenAPI documents, ${ORGS * APPS_PER_ORG} applications, ${ORGS * APPS_PER_ORG * SUBSCRIPTIONS_PER_APP} subscriptions\n`,
);
console.table(
  rows.map((r) => ({
    store: r.store,
    'cold ms': ms(r.coldMs),
    'warm min ms': ms(r.warm[0]!),
    'warm median ms': ms(median(r.warm)),
    'warm max ms': ms(r.warm.at(-1)!),
    'JSON MB': (r.bytes / 1024 / 1024).toFixed(2),
    routes: r.routes,
    subscriptions: r.subscriptions,
    'parse+validate ms': ms(r.parseMs),
  })),
);
