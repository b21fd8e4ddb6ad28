import { randomUUID } from 'node:crypto';
import { canonicalJson, sha256Hex } from '@spl/audit-chain';
import { upstreamSecretContext } from '@spl/snapshot';
import { SYSTEM_ACTOR } from '../../src/auth/principal.js';
import type { TestRegistry } from '../helpers/test-registry.js';

/** The plaintext upstream secret of `dinkes/faskes/v1`; must never appear in a snapshot. */
export const UPSTREAM_SECRET = 'plaintext-upstream-secret-7f3a9c';

export const FASKES_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Fasilitas kesehatan', version: '1.0.0' },
  paths: { '/faskes': { get: { responses: { '200': { description: 'ok' } } } } },
};

export interface SnapshotFixture {
  ids: {
    faskesV1: string;
    faskesV2: string;
    faskesV3: string;
    arsipV1: string;
    portal: string;
    splpApp: string;
  };
  portalClientId: string;
  openapiHash: string;
}

/**
 * Rows written straight into the store (the APIs/applications routes belong to other
 * work), in one audited transaction so the registry sees a change:
 *
 *   dinkes ─┬─ faskes ─┬─ v1 published  (header auth, sealed secret)
 *           │          ├─ v2 deprecated (sunset)
 *           │          └─ v3 draft
 *           └─ arsip ──── v1 retired
 *   disdukcapil ─ portal (client credentials) ─┬─ faskes v1  approved
 *                                              ├─ faskes v2  suspended
 *                                              ├─ faskes v3  pending    (draft: not listed)
 *                                              └─ arsip v1   approved   (retired: not listed)
 *   splp (trusted issuer) ─ splp-app (federated) ── faskes v1 rejected (not listed)
 */
export async function seedSnapshotFixture(r: TestRegistry): Promise<SnapshotFixture> {
  const id = () => randomUUID();
  const ids = {
    faskesV1: id(),
    faskesV2: id(),
    faskesV3: id(),
    arsipV1: id(),
    portal: id(),
    splpApp: id(),
  };
  const dinkes = id();
  const disdukcapil = id();
  const faskes = id();
  const arsip = id();
  const splp = id();
  const portalClientId = `portal-${id().slice(0, 8)}`;
  const openapiHash = sha256Hex(canonicalJson(FASKES_DOCUMENT));
  const upstream = JSON.stringify({ urls: ['http://127.0.0.1:8090/faskes'], timeoutMs: 5000 });
  const plan = JSON.stringify({ requestsPerMinute: 600, bodyLimitBytes: 65536 });
  const none = JSON.stringify({ kind: 'none' });

  await r.ctx.mutate(SYSTEM_ACTOR, async (tx, audit) => {
    await tx.query(
      `INSERT INTO organisations (id, slug, name, kind) VALUES
         ($1, 'dinkes', 'Dinas Kesehatan', 'perangkat-daerah'),
         ($2, 'disdukcapil', 'Disdukcapil', 'perangkat-daerah')`,
      [dinkes, disdukcapil],
    );
    await tx.query(
      `INSERT INTO trusted_issuers (id, slug, issuer, jwks_url, audience, algorithms, client_claim)
       VALUES ($1, 'splp', 'https://splp.example.go.id', 'https://splp.example.go.id/jwks', 'spl', '{ES256,RS256}', 'azp')`,
      [splp],
    );
    await tx.query(
      `INSERT INTO apis (id, org_id, slug, name, classification) VALUES
         ($1, $3, 'faskes', 'Fasilitas kesehatan', 'terbatas'),
         ($2, $3, 'arsip', 'Arsip', 'publik')`,
      [faskes, arsip, dinkes],
    );
    await tx.query('INSERT INTO openapi_documents (hash, document, source) VALUES ($1, $2, $3)', [
      openapiHash,
      JSON.stringify(FASKES_DOCUMENT),
      JSON.stringify(FASKES_DOCUMENT),
    ]);
    await tx.query(
      `INSERT INTO api_versions (id, api_id, version, state, openapi_hash, restricted_fields, methods,
                                 upstream, upstream_auth, upstream_secret, plan, sunset_at) VALUES
         ($1, $5, 'v1', 'published',  $7, '{nik}', '{GET}', $8, $9, $10, $11, NULL),
         ($2, $5, 'v2', 'deprecated', $7, '{}',    '{GET}', $8, $12, NULL, $11, '2030-01-01T00:00:00Z'),
         ($3, $5, 'v3', 'draft',      $7, '{}',    '{GET}', $8, $12, NULL, $11, NULL),
         ($4, $6, 'v1', 'retired',    $7, '{}',    '{GET}', $8, $12, NULL, $11, NULL)`,
      [
        ids.faskesV1,
        ids.faskesV2,
        ids.faskesV3,
        ids.arsipV1,
        faskes,
        arsip,
        openapiHash,
        upstream,
        JSON.stringify({ kind: 'header', name: 'X-Api-Key' }),
        r.ctx.secretBox.seal(JSON.stringify({ value: UPSTREAM_SECRET }), upstreamSecretContext(ids.faskesV1)),
        plan,
        none,
      ],
    );
    await tx.query(
      `INSERT INTO applications (id, org_id, slug, name, trusted_issuer_id, external_client_id) VALUES
         ($1, $3, 'portal', 'Portal layanan', NULL, NULL),
         ($2, $3, 'splp-app', 'Aplikasi SPLP', $4, 'splp-client-42')`,
      [ids.portal, ids.splpApp, disdukcapil, splp],
    );
    await tx.query(
      `INSERT INTO oauth_clients (client_id, kind, org_id, application_id, roles)
       VALUES ($1, 'application', $2, $3, '{consumer}')`,
      [portalClientId, disdukcapil, ids.portal],
    );
    const sub = (app: string, version: string, state: string) => [id(), app, version, state];
    const rows = [
      sub(ids.portal, ids.faskesV1, 'approved'),
      sub(ids.portal, ids.faskesV2, 'suspended'),
      sub(ids.portal, ids.faskesV3, 'pending'),
      sub(ids.portal, ids.arsipV1, 'approved'),
      sub(ids.splpApp, ids.faskesV1, 'rejected'),
    ];
    for (const row of rows)
      await tx.query(
        `INSERT INTO subscriptions (id, application_id, version_id, purpose, state, requested_by)
         VALUES ($1, $2, $3, 'pelayanan publik', $4, 'test')`,
        row,
      );
    await audit({ action: 'test.seed', entityType: 'test', entityId: 'snapshot-fixture' });
  });
  return { ids, portalClientId, openapiHash };
}
