import type { SpbeReport } from '../routes/spbe/schemas.js';

/**
 * The SPBE report as one self-contained, printable HTML page (A4, no external resources):
 * what Dinas Kominfo hands in as "bukti dukung" for Indikator 18. Every value from the store
 * is HTML-escaped; the map is the SVG Graphviz drew, inlined.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(2)} %`);

function table(header: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Drops the XML prolog and doctype Graphviz writes, so the SVG can sit inside HTML. */
function inlineSvg(svg: string): string {
  return svg.replace(/^[\s\S]*?(<svg\b)/, '$1');
}

export function renderReportHtml(report: SpbeReport, mapSvg: string): string {
  const e = escapeHtml;
  const levels = report.levels
    .map(
      (l) =>
        `<li class="${l.met ? 'met' : 'missed'}"><strong>Level ${l.level} — ${e(l.title)}: ${l.met ? 'met' : 'missed'}</strong><ul>${l.reasons
          .map((r) => `<li>${e(r)}</li>`)
          .join('')}</ul></li>`,
    )
    .join('');
  const c = report.coverage;
  const coverage = table(
    [
      'Organisation',
      'Slug',
      'Kind',
      'Roster',
      'Status',
      'APIs published',
      'Topics',
      'Subscriptions used',
      'Calls made',
      'Calls served',
    ],
    c.items.map((r) => [
      e(r.name),
      e(r.org),
      e(r.kind),
      r.onRoster ? 'yes' : '',
      `<span class="s-${r.status}">${r.status}</span>`,
      n(r.publishedApis),
      n(r.publishedTopics),
      n(r.consumedSubscriptions),
      n(r.callsMade),
      n(r.callsServed),
    ]),
    'No organisations are registered.',
  );
  const apis = table(
    [
      'Owner',
      'API',
      'Kind',
      'Versions',
      'Consumers',
      'Calls',
      'Successful',
      '5xx rate',
      'SLA target',
      'Availability',
    ],
    report.apis.map((a) => [
      e(a.org),
      `${e(a.name)}<br><code>${e(a.api)}</code>`,
      a.kind,
      e(a.versions.join(', ')),
      e(a.consumers.join(', ')),
      n(a.calls),
      n(a.successfulCalls),
      pct(a.errorRate),
      `${a.slaTarget} %`,
      a.availability.measured && a.availability.percent !== undefined
        ? `${a.availability.percent.toFixed(2)} % ${a.availability.meetsTarget ? '(meets target)' : '(below target)'}`
        : e(a.availability.note),
    ]),
    'No API was published through the hub in the period.',
  );
  const federation = table(
    ['Issuer', 'Issuer URL', 'Description', 'Applications', 'Calls', 'Successful', 'APIs called'],
    report.federation.map((f) => [
      e(f.slug),
      `<code>${e(f.issuer)}</code>`,
      e(f.description),
      n(f.applications),
      n(f.calls),
      n(f.successfulCalls),
      e(f.apis.map((a) => `${a.org}/${a.api} (${n(a.calls)})`).join(', ')),
    ]),
    'No trusted issuer (national SPLP or another region) is connected.',
  );
  const reviews =
    report.reviews.length === 0
      ? '<p class="empty">No review of the hub is recorded.</p>'
      : report.reviews
          .map(
            (r) =>
              `<section class="review"><h3>${e(r.slug)} — ${e(r.reviewedOn)}</h3><p><strong>Scope:</strong> ${e(r.scope)}${
                r.reviewer ? `<br><strong>Reviewer:</strong> ${e(r.reviewer)}` : ''
              }</p>${table(
                ['Finding', 'Description', 'Improvement actions'],
                r.findings.map((f) => [
                  e(f.code),
                  e(f.description),
                  f.actions.length === 0
                    ? '<em>none</em>'
                    : f.actions
                        .map(
                          (a) =>
                            `${e(a.code)}: ${e(a.description)} — <strong>${a.status}</strong>${a.dueOn ? ` (due ${e(a.dueOn)})` : ''}`,
                        )
                        .join('<br>'),
                ]),
                'No findings.',
              )}</section>`,
          )
          .join('');

  return `<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<title>SPBE Indikator 18 — ${e(report.period.label)}</title>
<style>
  @page { size: A4 landscape; margin: 12mm; }
  body { font-family: "Liberation Sans", Helvetica, Arial, sans-serif; font-size: 10pt; color: #222; margin: 0 auto; max-width: 1400px; }
  h1 { font-size: 16pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 16pt; border-bottom: 1px solid #999; page-break-after: avoid; }
  h3 { font-size: 11pt; } .meta { color: #555; }
  .level { font-size: 28pt; font-weight: bold; }
  table { border-collapse: collapse; width: 100%; margin: 6pt 0; page-break-inside: auto; } tr { page-break-inside: avoid; }
  th, td { border: 1px solid #bbb; padding: 3pt 5pt; text-align: left; vertical-align: top; } th { background: #f0f0f0; }
  li.met > strong { color: #1d6b37; } li.missed > strong { color: #a3262a; }
  .s-both { background: #b9e4c9; } .s-publishes { background: #cfe2ff; } .s-consumes { background: #ffe8b3; } .s-neither { background: #eeeeee; }
  .map svg { max-width: 100%; height: auto; max-height: 180mm; } .empty { color: #777; font-style: italic; }
  .legend span { padding: 1pt 6pt; margin-right: 6pt; }
</style>
</head>
<body>
<h1>Tingkat Kematangan Penggunaan Sistem Penghubung Layanan</h1>
<p class="meta">${e(report.indicator)}<br>Period ${e(report.period.label)} (${e(report.period.from.slice(0, 10))} to ${e(report.period.to.slice(0, 10))}, exclusive; reviews measured as of ${e(report.period.asOf.slice(0, 10))}) · generated ${e(report.generatedAt)}</p>
<p>Computed level: <span class="level">${report.level}</span> of 5</p>
<ol class="levels">${levels}</ol>

<h2>Coverage of Perangkat Daerah</h2>
<p>${n(c.rosterSize)} PDs on the roster: ${n(c.both)} publish and consume, ${n(c.publishes)} only publish, ${n(c.consumes)} only consume, ${n(c.neither)} neither.</p>
${coverage}

<h2>APIs and topics using the hub</h2>
${apis}

<h2>Federation</h2>
${federation}

<h2>Reviews and follow-up</h2>
${reviews}

<h2>Integration map</h2>
<p class="legend"><span class="s-both">publishes and consumes</span><span class="s-publishes">publishes</span><span class="s-consumes">consumes</span><span class="s-neither">neither</span> Thick border: on the roster. Edges run from the API owner to the consumer, wider with more calls; dashed: federated hub; dotted: no traffic in the period.</p>
<div class="map">${inlineSvg(mapSvg)}</div>
</body>
</html>
`;
}
