import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { type CliContext, callRegistry } from '../context.js';
import { CliError } from '../errors.js';
import { formatJson, formatTable } from '../output.js';

/** What `-o FILE` writes, by the file's extension. */
const OUTPUTS = {
  '.html': 'the printable report (HTML; print it to PDF from a browser)',
  '.json': 'the report as JSON',
  '.svg': 'the integration map (SVG)',
  '.png': 'the integration map (PNG)',
  '.dot': 'the integration map (Graphviz DOT)',
} as const;
type OutputKind = keyof typeof OUTPUTS;

export const REPORT_OUTPUTS = Object.keys(OUTPUTS).join(', ');

/**
 * `spl report spbe --period 2026`: the Indikator 18 evidence of Permen PANRB 59/2020
 * (docs/spbe.md). Prints the level with its reasons and the coverage table; `--json` prints
 * the whole report; `-o report.html|report.json|map.svg|map.png|map.dot` writes a file.
 */
export async function reportSpbe(
  ctx: CliContext,
  options: { period: string; json?: boolean; output?: string },
) {
  const query = { params: { query: { period: options.period } } };
  if (options.output) {
    const kind = extname(options.output).toLowerCase() as OutputKind;
    if (!(kind in OUTPUTS))
      throw new CliError(`-o ${options.output}: the file must end in one of ${REPORT_OUTPUTS}`);
    const path = resolve(ctx.cwd, options.output);
    let body: string | Uint8Array;
    if (kind === '.html')
      body = await callRegistry(ctx, ctx.client.GET('/v1/spbe/report.html', { ...query, parseAs: 'text' }));
    else if (kind === '.json')
      body = `${formatJson(await callRegistry(ctx, ctx.client.GET('/v1/spbe/report', query)))}\n`;
    else {
      const format = kind.slice(1) as 'svg' | 'png' | 'dot';
      const map = await callRegistry(
        ctx,
        ctx.client.GET('/v1/spbe/map', {
          params: { query: { period: options.period, format } },
          parseAs: 'arrayBuffer',
        }),
      );
      body = new Uint8Array(map as ArrayBuffer);
    }
    writeFileSync(path, body);
    ctx.io.err(`wrote ${OUTPUTS[kind]} of ${options.period} to ${options.output}`);
    return;
  }

  const report = await callRegistry(ctx, ctx.client.GET('/v1/spbe/report', query));
  if (options.json) {
    ctx.io.out(formatJson(report));
    return report;
  }
  const lines = [
    `SPBE Indikator 18, period ${report.period.label}: level ${report.level} of 5`,
    ...report.levels.flatMap((l) => [
      `  ${l.met ? '✓' : '✗'} level ${l.level} — ${l.title}`,
      ...l.reasons.map((r) => `      ${r}`),
    ]),
    '',
    formatTable(
      ['ORGANISATION', 'ROSTER', 'STATUS', 'APIS', 'SUBSCRIPTIONS USED', 'CALLS MADE', 'CALLS SERVED'],
      report.coverage.items.map((c) => [
        c.org,
        c.onRoster ? 'yes' : '',
        c.status,
        String(c.publishedApis + c.publishedTopics),
        String(c.consumedSubscriptions),
        String(c.callsMade),
        String(c.callsServed),
      ]),
    ),
    '',
    `${report.apis.length} APIs using the hub, ${report.federation.length} trusted issuers, ${report.reviews.length} reviews; -o report.html for the printable report with the map`,
  ];
  ctx.io.out(lines.join('\n'));
  return report;
}
