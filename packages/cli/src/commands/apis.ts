import type { paths } from '@spl/api-client';
import { type CliContext, callRegistry } from '../context.js';
import { formatJson, formatRecord, formatTable } from '../output.js';
import { formatApiRef, parseApiRef } from '../refs.js';

type CatalogQuery = NonNullable<paths['/v1/apis']['get']['parameters']['query']>;

/** Values the catalog filters accept; `satisfies` keeps them in step with the registry's schema. */
export const CLASSIFICATIONS = [
  'publik',
  'terbatas',
  'rahasia',
  'dikecualikan',
] as const satisfies readonly NonNullable<CatalogQuery['classification']>[];
export const LIFECYCLE_STATES = [
  'draft',
  'submitted',
  'kelaikan_operasi',
  'kelaikan_keamanan',
  'published',
  'deprecated',
  'retired',
] as const satisfies readonly NonNullable<CatalogQuery['state']>[];

/** APIs per page; the registry allows up to 200. */
export const PAGE_SIZE = 50;

export interface ListApisOptions {
  q?: string;
  tag?: string;
  org?: string;
  classification?: CatalogQuery['classification'];
  state?: CatalogQuery['state'];
  limit?: number;
  offset?: number;
  json?: boolean;
}

/** `spl list apis`: the catalog, filtered as a consuming agency searches it. */
export async function listApis(ctx: CliContext, options: ListApisOptions = {}) {
  const { json, limit = PAGE_SIZE, offset = 0, ...filters } = options;
  const query: CatalogQuery = {
    ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
    limit,
    offset,
  };
  const page = await callRegistry(ctx, ctx.client.GET('/v1/apis', { params: { query } }));
  if (json) {
    ctx.io.out(formatJson(page));
    return page;
  }
  if (!page.items.length) {
    ctx.io.err('no APIs match');
    return page;
  }
  ctx.io.out(
    formatTable(
      ['API', 'NAME', 'CLASSIFICATION', 'VERSIONS', 'TAGS'],
      page.items.map((a) => [
        `${a.org}/${a.slug}`,
        a.name,
        a.classification,
        a.versions.map((v) => `${v.version} (${v.state})`).join(', '),
        a.tags.join(', '),
      ]),
    ),
  );
  if (page.total > page.offset + page.items.length) {
    ctx.io.err(
      `${page.items.length} of ${page.total} shown; use --offset ${page.offset + page.items.length} for more`,
    );
  }
  return page;
}

/** `spl show api <org>/<api>[/<version>]`: one API, or one version. */
export async function showApi(ctx: CliContext, ref: string, options: { json?: boolean } = {}) {
  const { org, api, version } = parseApiRef(ref, 'optional');
  const answer = version
    ? await callRegistry(
        ctx,
        ctx.client.GET('/v1/apis/{org}/{api}/versions/{version}', {
          params: { path: { org, api, version } },
        }),
      )
    : await callRegistry(ctx, ctx.client.GET('/v1/apis/{org}/{api}', { params: { path: { org, api } } }));
  if (options.json) {
    ctx.io.out(formatJson(answer));
    return answer;
  }
  ctx.io.out(formatApiRef({ org, api, ...(version ? { version } : {}) }));
  const { versions, ...rest } = answer as typeof answer & {
    versions?: Array<{ version: string; state: string }>;
  };
  ctx.io.out(formatRecord(rest));
  if (versions)
    ctx.io.out(`versions: ${versions.map((v) => `${v.version} (${v.state})`).join(', ') || '(none)'}`);
  return answer;
}
