import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATED_BANNER, renderTypes } from '../scripts/render-types.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageDir, '../..');
const committedDocument = join(packageDir, 'openapi/registry.json');
const committedTypes = join(packageDir, 'src/registry.generated.ts');
const tmp = mkdtempSync(join(tmpdir(), 'spl-openapi-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface OpenapiDocument {
  paths?: Record<string, Record<string, unknown>>;
}

/** `METHOD /path` of each operation added, removed or changed, for the failure message. */
function describeChanges(before: OpenapiDocument, after: OpenapiDocument): string[] {
  const operations = (doc: OpenapiDocument) =>
    new Map(
      Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as const),
      ),
    );
  const a = operations(before);
  const b = operations(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => !isDeepStrictEqual(a.get(k), b.get(k)));
}

describe('the generated registry client', () => {
  it('was generated from the OpenAPI document the registry serves today', () => {
    const out = join(tmp, 'registry.json');
    // A child process, because a package never imports a service.
    const run = spawnSync(
      'pnpm',
      ['exec', 'tsx', 'services/registry/scripts/export-openapi.ts', '--out', out],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    expect(run.status, `export-openapi failed:\n${run.stderr}`).toBe(0);
    // Compared as data: the committed file is formatted by biome, the fresh one is not.
    const current = JSON.parse(readFileSync(out, 'utf8')) as OpenapiDocument;
    const committed = JSON.parse(readFileSync(committedDocument, 'utf8')) as OpenapiDocument;
    if (!isDeepStrictEqual(current, committed)) {
      expect.fail(
        `packages/api-client/openapi/registry.json is out of date: run pnpm gen:clients\n` +
          `  changed: ${describeChanges(committed, current).join(', ') || 'document header or components'}`,
      );
    }
  }, 120_000);

  it('has types generated from the committed OpenAPI document, with the do-not-edit banner', async () => {
    const types = readFileSync(committedTypes, 'utf8');
    expect(types.startsWith(GENERATED_BANNER)).toBe(true);
    if (types !== (await renderTypes(readFileSync(committedDocument, 'utf8')))) {
      expect.fail(
        'packages/api-client/src/registry.generated.ts is stale or edited by hand: run pnpm gen:clients',
      );
    }
  });
});
