import { type HtmlPage, html, percent, renderPage } from '../html/html-page.js';
import type { MonevReport } from './monev-report.js';

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const MONEV_CSV_COLUMNS = [
  'section',
  'org',
  'name',
  'version',
  'state',
  'calls',
  'client_errors',
  'server_errors',
  'error_rate',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'probes',
  'probes_up',
  'probes_excluded',
  'availability',
  'sla_target',
  'meets_target',
  'incidents',
  'down_seconds',
  'top_consumers',
  'events',
  'deliveries',
  'failed_deliveries',
  'dead_letters',
  'refused',
] as const;

/**
 * One table: a row per API version (`section` api) then a row per topic (`section` topic),
 * columns that do not apply left empty. Ratios as decimals (0.95), not percent.
 */
export function renderMonevCsv(report: MonevReport): string {
  const lines = [MONEV_CSV_COLUMNS.join(',')];
  const row = (values: Partial<Record<(typeof MONEV_CSV_COLUMNS)[number], unknown>>) =>
    lines.push(MONEV_CSV_COLUMNS.map((c) => csvField(values[c])).join(','));
  for (const a of report.apis)
    row({
      section: 'api',
      org: a.org,
      name: a.api,
      version: a.version,
      state: a.state,
      calls: a.calls,
      client_errors: a.clientErrors,
      server_errors: a.serverErrors,
      error_rate: a.errorRate,
      p50_ms: a.latencyMs.p50,
      p95_ms: a.latencyMs.p95,
      p99_ms: a.latencyMs.p99,
      probes: a.probes,
      probes_up: a.probesUp,
      probes_excluded: a.probesExcluded,
      availability: a.availability,
      sla_target: a.slaTarget === null ? null : a.slaTarget / 100,
      meets_target: a.meetsTarget,
      incidents: a.incidents.length,
      down_seconds: a.incidents.reduce((s, i) => s + (i.durationSeconds ?? 0), 0),
      top_consumers: a.topConsumers.map((c) => `${c.application}:${c.calls}`).join(' '),
    });
  for (const t of report.topics)
    row({
      section: 'topic',
      org: t.org,
      name: t.topic,
      events: t.events,
      deliveries: t.deliveries,
      failed_deliveries: t.failedDeliveries,
      dead_letters: t.deadLetters,
      refused: t.refused,
    });
  return `${lines.join('\r\n')}\r\n`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1a1a1a}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin-bottom:1rem}
th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
.miss{color:#a40000;font-weight:600}.meet{color:#1d6b2a}.note{color:#555}
@media print{body{margin:0;font-size:11px}h2{break-after:avoid}tr{break-inside:avoid}}`;

const ms = (v: number | null) => (v === null ? '–' : `≤ ${v} ms`);

/** The printable page: a table of APIs, their incidents, and the topics. */
export function renderMonevHtml(report: MonevReport): HtmlPage {
  const scope = report.org ?? 'seluruh hub';
  const body = html`<h1>Laporan monev SPL — ${scope}</h1>
<p class="note">Periode ${report.from} s.d. ${report.to} (UTC) · dibuat ${report.generatedAt}. Ketersediaan diukur oleh
probe hub terhadap target SLA tiap API (BKS 60(3)(m): paling rendah 95 %); jendela pemeliharaan tidak dihitung.</p>
<h2>API</h2>
<table id="apis">
<thead><tr><th>API</th><th>State</th><th>Calls</th><th>4xx</th><th>5xx</th><th>Error rate</th><th>p50</th><th>p95</th><th>p99</th>
<th>Availability</th><th>Target</th><th>Incidents</th><th>Top consumers</th></tr></thead>
<tbody>${report.apis.map(
    (
      a,
    ) => html`<tr data-api="${a.org}/${a.api}/${a.version}"><td>${a.org}/${a.api} ${a.version}</td><td>${a.state}</td>
<td>${a.calls}</td><td>${a.clientErrors}</td><td>${a.serverErrors}</td><td>${percent(a.errorRate)}</td>
<td>${ms(a.latencyMs.p50)}</td><td>${ms(a.latencyMs.p95)}</td><td>${ms(a.latencyMs.p99)}</td>
<td class="${a.meetsTarget === false ? 'miss' : a.meetsTarget ? 'meet' : ''}">${percent(a.availability, 3)}</td>
<td>${a.slaTarget === null ? '–' : `${a.slaTarget} %`}</td><td>${a.incidents.length}</td>
<td>${a.topConsumers.map((c) => `${c.application} (${c.calls})`).join(', ')}</td></tr>`,
  )}</tbody>
</table>
<h2>Incidents</h2>
${
  report.apis.some((a) => a.incidents.length)
    ? html`<table id="incidents"><thead><tr><th>API</th><th>Start</th><th>End</th><th>Duration</th><th>Failed probes</th></tr></thead><tbody>${report.apis.flatMap(
        (a) =>
          a.incidents.map(
            (
              i,
            ) => html`<tr><td>${a.org}/${a.api} ${a.version}</td><td>${i.start}</td><td>${i.end ?? 'ongoing'}</td>
<td>${i.durationSeconds === null ? '–' : `${i.durationSeconds} s`}</td><td>${i.probes}</td></tr>`,
          ),
      )}</tbody></table>`
    : html`<p class="note">No incidents.</p>`
}
<h2>Topics</h2>
${
  report.topicsNote
    ? html`<p class="note" id="topics-note">${report.topicsNote}</p>`
    : html`<table id="topics"><thead><tr><th>Topic</th><th>Events</th><th>Deliveries</th><th>Failed deliveries</th><th>Dead letters</th><th>Refused</th></tr></thead><tbody>${report.topics.map(
        (
          t,
        ) => html`<tr><td>${t.org}/${t.topic}</td><td>${t.events}</td><td>${t.deliveries}</td><td>${t.failedDeliveries}</td>
<td>${t.deadLetters}</td><td>${t.refused}</td></tr>`,
      )}</tbody></table>`
}`;
  return renderPage({
    title: `Monev SPL ${scope} ${report.from.slice(0, 10)}–${report.to.slice(0, 10)}`,
    style: STYLE,
    body,
  });
}
