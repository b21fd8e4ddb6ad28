/**
 * `pnpm test`'s last step: every log line the whole test run's services wrote
 * (SPL_TEST_LOG_DIR, test/support/run-logs.ts) is searched for credentials — the hub's client
 * secrets (`spl_sk_…`), webhook secrets (`whsec_…`), JSON Web Tokens (`eyJ….eyJ….…`), the
 * fixed secrets of the test fixtures — and for the `dikecualikan` sentinel values the tests
 * send. The hub never logs any of them (ARCHITECTURE; BKS 59(9)(c)); a match fails the run,
 * naming the file, the line and the kind, never the value.
 *
 *   tsx scripts/scan-test-logs.ts <dir>
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';

const PATTERNS: Array<[kind: string, pattern: RegExp]> = [
  ['client secret (spl_sk_)', /spl_sk_[A-Za-z0-9_-]{20,}/],
  ['webhook secret (whsec_)', /whsec_[A-Za-z0-9+/=]{20,}/],
  ['JSON Web Token', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  // Fixed secrets of the fixtures (test-registry.ts, test-gateway.ts, the demo) and the
  // restricted values the hostile and OWASP suites send.
  ['fixture secret', /secret-for-tests-only|dataplane-secret-0123456789/],
  ['dikecualikan sentinel', /Siti Rahayu Dikecualikan/],
];

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: scan-test-logs <dir>\n');
  process.exit(2);
}
let fileCount = 0;
let lineCount = 0;
let bytes = 0;
const leaks: string[] = [];
for (const file of files(dir)) {
  fileCount++;
  bytes += statSync(file).size;
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    n++;
    for (const [kind, pattern] of PATTERNS)
      if (pattern.test(line)) leaks.push(`${relative(dir, file)}:${n}: ${kind}`);
  }
  lineCount += n;
}
process.stdout.write(
  `log scan: ${fileCount} files, ${lineCount.toLocaleString('en')} lines, ${(bytes / 1048576).toFixed(1)} MiB of service logs from the whole run; ${leaks.length} lines with a credential or restricted value\n`,
);
if (leaks.length) {
  for (const leak of leaks.slice(0, 50)) process.stdout.write(`  ${leak}\n`);
  if (leaks.length > 50) process.stdout.write(`  … and ${leaks.length - 50} more\n`);
  process.exitCode = 1;
}
