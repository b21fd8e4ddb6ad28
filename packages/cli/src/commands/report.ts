import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CliContext, callRegistry } from '../context.js';
import { CliError } from '../errors.js';

export const MONEV_FORMATS = ['json', 'csv', 'html'] as const;
export type MonevFormat = (typeof MONEV_FORMATS)[number];

/**
 * `spl report monev`: the monev report (BKS 89(2)) for [from, to) and an organisation or the
 * whole hub, as JSON, CSV or printable HTML, to stdout or a file.
 */
export async function reportMonev(
  ctx: CliContext,
  opts: { from: string; to: string; org?: string; format?: MonevFormat; out?: string },
): Promise<string> {
  for (const [name, value] of [
    ['--from', opts.from],
    ['--to', opts.to],
  ] as const)
    if (Number.isNaN(Date.parse(value)))
      throw new CliError(`${name} must be a date-time, e.g. 2026-01-01T00:00:00Z`);
  const format = opts.format ?? 'json';
  const query = {
    from: new Date(opts.from).toISOString(),
    to: new Date(opts.to).toISOString(),
    ...(opts.org ? { org: opts.org } : {}),
    format,
  };
  const text =
    format === 'json'
      ? `${JSON.stringify(await callRegistry(ctx, ctx.client.GET('/v1/reports/monev', { params: { query } })), null, 2)}\n`
      : ((await callRegistry(
          ctx,
          ctx.client.GET('/v1/reports/monev', { params: { query }, parseAs: 'text' }),
        )) as string);
  if (opts.out) {
    const file = resolve(ctx.cwd, opts.out);
    writeFileSync(file, text);
    ctx.io.err(`monev report written to ${file}`);
  } else ctx.io.out(text.replace(/\n$/, ''));
  return text;
}
