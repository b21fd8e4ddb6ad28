import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errors } from '../../src/errors.js';

const docs = readFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../../docs/errors.md'),
  'utf8',
);
const gatewaySection = docs.slice(docs.indexOf('## Gateway'));

// Keeps the catalogue and its documentation in step (as fastify's test/internals/errors.test.js does).
describe('the gateway error catalogue', () => {
  it.each(Object.values(errors).map((f) => [f.spec.code, f.spec.status] as const))(
    '%s is documented in the gateway section with status %i',
    (code, status) => {
      const cells = gatewaySection
        .split('\n')
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .find((c) => c[1] === `\`${code}\``);
      expect(cells, `${code} is missing from the Gateway section of docs/errors.md`).toBeDefined();
      expect(cells![2]).toBe(String(status));
    },
  );
});
