import { type CliContext, callRegistry } from '../context.js';
import { CliError } from '../errors.js';

/** `spl audit verify`: recomputes the audit hash chain on the registry; exit 1 when broken. */
export async function verifyAudit(ctx: CliContext) {
  const verdict = await callRegistry(ctx, ctx.client.GET('/v1/audit/verify'));
  if (!verdict.ok) {
    throw new CliError(
      `audit chain broken at record ${verdict.firstBrokenSeq} (${verdict.records} records): ${verdict.reason}`,
    );
  }
  ctx.io.out(`audit chain intact: ${verdict.records} records${verdict.head ? `, head ${verdict.head}` : ''}`);
  return verdict;
}
