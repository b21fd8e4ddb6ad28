import type { paths } from '@spl/api-client';
import { type CliContext, callRegistry } from '../context.js';
import { loadHubFile } from '../hub-file.js';
import { checkSecretsFile, writeSecretsFile } from '../output.js';

type HubDocument = NonNullable<paths['/v1/apply']['post']['requestBody']>['content']['application/json'];
export type ApplyReport = paths['/v1/apply']['post']['responses'][200]['content']['application/json'];
export type ApplyItem = ApplyReport['items'][number];

export interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  /** Where credentials this apply issues are written (0600); never printed. */
  credentialsOut?: string;
}

/** One line per item: what happened, to what, and why. */
export function formatApplyItem(item: ApplyItem): string {
  return `${item.result.padEnd(12)} ${item.kind} ${item.id}${item.detail ? ` — ${item.detail}` : ''}`;
}

/**
 * `spl apply -f hub.yaml`: resolves the file's openapiFile and secretRef entries, sends it to
 * POST /v1/apply and prints the report. The registry makes only the transitions the caller's
 * roles allow; the others come back `pending` or `refused`, which is not an error.
 */
export async function applyHubFile(ctx: CliContext, options: ApplyOptions): Promise<ApplyReport> {
  const document = loadHubFile(options.file, ctx.env);
  const credentialsPath = options.credentialsOut
    ? checkSecretsFile(options.credentialsOut, ctx.cwd)
    : undefined;

  const report = await callRegistry(
    ctx,
    ctx.client.POST('/v1/apply', {
      // The registry checks the document against the same schemas as its REST API.
      body: document as unknown as HubDocument,
      ...(options.dryRun ? { params: { query: { dryRun: true } } } : {}),
    }),
  );

  for (const item of report.items) ctx.io.out(formatApplyItem(item));
  const counts = new Map<string, number>();
  for (const item of report.items) counts.set(item.result, (counts.get(item.result) ?? 0) + 1);
  const summary = [...counts].map(([result, n]) => `${n} ${result}`).join(', ') || 'nothing to do';
  ctx.io.err(options.dryRun ? `dry run, nothing was changed: ${summary}` : summary);

  const issued = report.issuedCredentials;
  if (issued.length) {
    const names = issued.map((c) => `${c.kind} ${c.id} (${c.clientId})`).join(', ');
    if (credentialsPath) {
      writeSecretsFile(credentialsPath, { registryUrl: ctx.registryUrl, credentials: issued });
      ctx.io.err(`credentials issued for ${names}: written to ${options.credentialsOut} (mode 0600)`);
    } else {
      ctx.io.err(
        `credentials issued for ${names} and not shown; rerun with --credentials-out <file> next time, ` +
          'or rotate them with spl rotate-secret --credentials-out <file>',
      );
    }
  }
  return report;
}
