import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type ChainVerdict, URL_DIGEST_KEY_INFO, verifyEvidenceDir } from '@spl/evidence-log';
import { createSecretBox, parseMasterKey } from '@spl/secret-box';
import type { Command } from 'commander';
import type { CliIo } from '../context.js';
import { CliError } from '../errors.js';

/**
 * `spl evidence verify <dir>`: checks the gateway's evidence log offline — every segment's
 * links, seq continuity, checkpoint counts and Ed25519 signatures — and names the first
 * broken record (file and seq), exit 1. `<dir>` is one instance's directory or the evidence
 * root `<SPL_DATA_DIR>/gateway/evidence` (every instance's chain is checked).
 */
export function verifyEvidence(io: CliIo, dir: string, options: { json?: boolean } = {}): ChainVerdict[] {
  if (!existsSync(dir)) throw new CliError(`no such directory: ${dir}`);
  const verdicts = verifyEvidenceDir(dir);
  if (verdicts.length === 0) throw new CliError(`no evidence segments under ${dir}`);
  if (options.json) io.out(JSON.stringify(verdicts, null, 2));
  else
    for (const v of verdicts) {
      const counts = `${v.records} records, ${v.checkpoints} checkpoints, ${v.segments} segments`;
      if (v.ok) {
        const tail = v.unsealed > 0 ? ` (${v.unsealed} records after the last checkpoint)` : '';
        io.out(`evidence chain ${v.instanceId} intact: ${counts}, head ${v.head}${tail}`);
      } else {
        const b = v.broken;
        io.out(
          `evidence chain ${v.instanceId} BROKEN at ${b.file}:${b.line}${b.seq === null ? '' : ` seq ${b.seq}`}: ${b.reason} — ${b.detail} (verified before it: ${counts})`,
        );
      }
    }
  const broken = verdicts.find((v) => !v.ok);
  if (broken && !broken.ok)
    throw new CliError(`evidence chain broken at ${broken.broken.file} seq ${broken.broken.seq ?? '?'}`);
  return verdicts;
}

/**
 * `spl evidence url-digest <path>`: the `urlDigest` the gateway records for a path and query
 * (e.g. `/disdukcapil/kependudukan/v1/penduduk/3299…`), so an auditor can find a call in the
 * log without the log holding the path: HMAC-SHA256 under the key derived from the hub's
 * master key (SPL_MASTER_KEY, or --master-key-file), or plain SHA-256 with --sha256 for logs
 * whose key.json says `urlDigest: sha256`.
 */
export function urlDigest(
  io: CliIo,
  url: string,
  options: { masterKeyFile?: string; sha256?: boolean; env?: Record<string, string | undefined> },
): string {
  if (!url.startsWith('/'))
    throw new CliError('give the path and query as the gateway received it, starting with /');
  let digest: string;
  if (options.sha256) digest = createHash('sha256').update(url).digest('hex');
  else {
    const text = options.masterKeyFile
      ? readFileSync(options.masterKeyFile, 'utf8')
      : (options.env ?? process.env).SPL_MASTER_KEY;
    if (!text)
      throw new CliError('the master key is needed: set SPL_MASTER_KEY or pass --master-key-file <file>');
    let key: Buffer;
    try {
      key = createSecretBox(parseMasterKey(text.trim())).deriveKey(URL_DIGEST_KEY_INFO);
    } catch (err) {
      throw new CliError(`not a master key: ${(err as Error).message}`);
    }
    digest = createHmac('sha256', key).update(url).digest('hex');
  }
  io.out(digest);
  return digest;
}

/** Adds `spl evidence verify` and `url-digest` to the program (they need no registry or credentials). */
export function registerEvidenceCommands(
  program: Command,
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
): void {
  const evidence = program
    .command('evidence')
    .description("the gateway's evidence log (hash chain over request/response digests)");
  evidence
    .command('url-digest')
    .description('the urlDigest the gateway records for a path and query (to find a call in the log)')
    .argument('<path>', 'path and query as received, e.g. /org/api/v1/items?q=1')
    .option('--master-key-file <file>', 'the hub master key (default: SPL_MASTER_KEY)')
    .option('--sha256', 'plain SHA-256 (logs whose key.json says urlDigest: sha256)')
    .action((url: string, opts: { masterKeyFile?: string; sha256?: boolean }) => {
      urlDigest(io, url, { ...opts, env });
    });
  evidence
    .command('verify')
    .description('verify evidence segments offline; names the first broken record')
    .argument('<dir>', 'an instance directory, or <SPL_DATA_DIR>/gateway/evidence for all instances')
    .option('--json', 'machine-readable output')
    .action((dir: string, opts: { json?: boolean }) => {
      verifyEvidence(io, dir, opts);
    });
}
