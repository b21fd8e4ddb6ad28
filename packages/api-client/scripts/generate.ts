/**
 * `pnpm gen:clients`: rebuilds the registry's typed client.
 *
 * 1. services/registry/scripts/export-openapi.ts builds the registry in-process and writes
 *    its OpenAPI document to openapi/registry.json. It runs as a child process: a package
 *    never imports a service.
 *    Biome then formats it as the rest of the repository.
 * 2. openapi-typescript turns that document into src/registry.generated.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTypes } from './render-types.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageDir, '../..');
const documentFile = join(packageDir, 'openapi/registry.json');
const typesFile = join(packageDir, 'src/registry.generated.ts');

const exported = spawnSync(
  'pnpm',
  ['exec', 'tsx', 'services/registry/scripts/export-openapi.ts', '--out', documentFile],
  { cwd: repoRoot, stdio: 'inherit' },
);
if (exported.status !== 0) {
  process.stderr.write('gen:clients: exporting the registry OpenAPI document failed\n');
  process.exit(exported.status ?? 1);
}

// Formatted as the repository's lint wants it, so `pnpm lint` passes on a fresh generation.
const formatted = spawnSync(
  'pnpm',
  ['exec', 'biome', 'format', '--write', '--files-max-size=8388608', documentFile],
  {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
if (formatted.status !== 0) {
  process.stderr.write('gen:clients: biome could not format the OpenAPI document\n');
  process.exit(formatted.status ?? 1);
}

writeFileSync(typesFile, await renderTypes(readFileSync(documentFile, 'utf8')));
process.stderr.write(`gen:clients: wrote ${relative(repoRoot, typesFile)}\n`);
