/**
 * What OpenAPI request validation costs the gateway per request, and what compiling a
 * document costs per snapshot (issue 3, point 7; the hot-path note measured ajv on a 202-byte
 * body at ≈ 2 µs).
 *
 *   pnpm exec tsx bench/gateway-validation.ts
 *
 * In-process, one thread, no I/O: each case runs a warm-up, then a timed loop, three rounds;
 * the best round is printed (the others are noise from the shared cores).
 */
import { performance } from 'node:perf_hooks';
import {
  compileRequestValidator,
  type RequestToValidate,
} from '../services/gateway/src/validation/request-validator.js';
import { kependudukan31, NIK, perizinan30 } from '../services/gateway/test/validation/fixtures.js';

const WARM_UP = 50_000;
const ITERATIONS = 500_000;
const ROUNDS = 3;

function measure(name: string, run: () => unknown): void {
  for (let i = 0; i < WARM_UP; i++) run();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) run();
    best = Math.min(best, ((performance.now() - start) * 1000) / ITERATIONS);
  }
  console.log(`${name.padEnd(58)} ${best.toFixed(2).padStart(7)} µs`);
}

function timeCompile(name: string, document: object, runs: number, lazy = false): void {
  compileRequestValidator(document, { lazy });
  const start = performance.now();
  for (let i = 0; i < runs; i++) compileRequestValidator(document, { lazy });
  console.log(`${name.padEnd(58)} ${((performance.now() - start) / runs).toFixed(2).padStart(7)} ms`);
}

const validator = compileRequestValidator(kependudukan31);

// 202 bytes, like the body of the note's measurements.
const body = Buffer.from(
  JSON.stringify({
    nik: NIK,
    nama: 'Siti Aminah binti Abdullah Rahman Wijayakusuma Pratiwi Sulistyaningrum',
    tanggalLahir: '1985-01-01',
  }).padEnd(202, ' '),
);
const post: RequestToValidate = {
  method: 'POST',
  path: '/verifikasi',
  query: new URLSearchParams(),
  headers: { 'content-type': 'application/json' },
  body,
  contentType: 'application/json',
};
const lookup: RequestToValidate = {
  ...post,
  method: 'GET',
  path: `/penduduk/${NIK}`,
  body: undefined,
  contentType: undefined,
};
const list: RequestToValidate = {
  ...lookup,
  path: '/penduduk',
  query: new URLSearchParams('kecamatan=Contoh+Utara&limit=50&offset=100'),
};
const refused: RequestToValidate = { ...lookup, path: '/penduduk/123' };

if (!validator.validate(post).ok || !validator.validate(lookup).ok || !validator.validate(list).ok)
  throw new Error('the bench requests must be valid');

console.log(`node ${process.version}, ${ITERATIONS.toLocaleString('en')} iterations, best of ${ROUNDS}`);
console.log(`per request (body ${body.length} bytes):`);
measure('JSON.parse of the body alone (baseline)', () => JSON.parse(body.toString('utf8')));
measure('POST /verifikasi, 202-byte JSON body', () => validator.validate(post));
measure('GET /penduduk/{nik}, path parameter', () => validator.validate(lookup));
measure('GET /penduduk?kecamatan&limit&offset, 3 query parameters', () => validator.validate(list));
measure('GET /penduduk/123, refused (400)', () => validator.validate(refused));
console.log('per document, when a snapshot brings it:');
timeCompile('compile kependudukan (3.1, 7 paths)', kependudukan31, 20);
timeCompile('compile perizinan (3.0, 2 paths)', perizinan30, 20);
timeCompile('compile kependudukan with { lazy: true } (matcher only)', kependudukan31, 20, true);
