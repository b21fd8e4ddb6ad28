import { existsSync } from 'node:fs';
import { type ChainVerdict, verifyEvidenceDir } from '@spl/evidence-log';
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

/** Adds `spl evidence verify` to the program (it needs no registry or credentials). */
export function registerEvidenceCommands(program: Command, io: CliIo): void {
  program
    .command('evidence')
    .description("the gateway's evidence log (hash chain over request/response digests)")
    .command('verify')
    .description('verify evidence segments offline; names the first broken record')
    .argument('<dir>', 'an instance directory, or <SPL_DATA_DIR>/gateway/evidence for all instances')
    .option('--json', 'machine-readable output')
    .action((dir: string, opts: { json?: boolean }) => {
      verifyEvidence(io, dir, opts);
    });
}
