import { type HtmlPage, html, percent, renderPage } from '../html/html-page.js';
import { availabilityByPeriod, availabilityTotals, nextPeriod, periodStart } from '../sla/availability.js';
import { overlaps } from '../sla/availability-report.js';
import { listMaintenanceWindows } from '../sla/maintenance-windows.js';
import type { Sql } from '../store/database.js';

/**
 * The status page (issue 5 §3): each published API version's current state and its uptime
 * over the last 90 UTC days, one bar a day coloured by the day's availability against the
 * API's SLA target (BKS 60(3)(m)), days touched by a maintenance window marked.
 *
 * The public page lists `publik` and `terbatas` APIs; the operator view adds `rahasia` and
 * `dikecualikan` ones, which must not be known to exist outside the hub's staff.
 */
export const STATUS_DAYS = 90;

/** How a day's bar is coloured. */
export type DayVerdict = 'up' | 'degraded' | 'down' | 'nodata';
/** Below the target but at least this: degraded rather than down. */
const DEGRADED_FLOOR = 0.9;

export const PUBLIC_CLASSIFICATIONS = ['publik', 'terbatas'] as const;

export interface StatusDay {
  day: string;
  verdict: DayVerdict;
  availability: number | null;
  probes: number;
  up: number;
  maintenance: boolean;
}

export interface StatusRow {
  org: string;
  orgName: string;
  api: string;
  apiName: string;
  version: string;
  classification: string;
  slaTarget: number;
  /** From the last probe; `maintenance` while a window is open. */
  current: 'up' | 'down' | 'maintenance' | 'unknown';
  lastProbeAt: string | null;
  uptime: number | null;
  days: StatusDay[];
}

export function dayVerdict(availability: number | null, targetPercent: number): DayVerdict {
  if (availability === null) return 'nodata';
  if (availability * 100 >= targetPercent) return 'up';
  return availability >= DEGRADED_FLOOR ? 'degraded' : 'down';
}

export async function loadStatus(
  db: Sql,
  input: { now: Date; includeRestricted: boolean },
): Promise<StatusRow[]> {
  const versions = await db.query<{
    id: string;
    api_id: string;
    org: string;
    org_name: string;
    api: string;
    api_name: string;
    version: string;
    classification: string;
    sla_target: number;
  }>(
    `SELECT v.id, a.id AS api_id, o.slug AS org, o.name AS org_name, a.slug AS api, a.name AS api_name, v.version,
            a.classification, a.sla_target
       FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
      WHERE v.state IN ('published', 'deprecated') AND ($1::boolean OR a.classification = ANY($2))
      ORDER BY o.slug, a.slug, v.version`,
    [input.includeRestricted, [...PUBLIC_CLASSIFICATIONS]],
  );
  const today = periodStart(input.now, 'day');
  const from = new Date(today.getTime() - (STATUS_DAYS - 1) * 24 * 3_600_000);
  const to = nextPeriod(today, 'day');
  const versionIds = versions.map((v) => v.id);
  const [periods, totals, windows, last] = await Promise.all([
    availabilityByPeriod(db, { versionIds, from, to, granularity: 'day' }),
    availabilityTotals(db, { versionIds, from, to }),
    listMaintenanceWindows(db, { apiIds: [...new Set(versions.map((v) => v.api_id))], from, to }),
    db.query<{ version_id: string; at: Date; ok: boolean }>(
      `SELECT DISTINCT ON (version_id) version_id, at, ok FROM probe_results
        WHERE version_id = ANY($1) AND at <= $2 ORDER BY version_id, at DESC`,
      [versionIds, input.now.toISOString()],
    ),
  ]);
  const lastOf = new Map(last.map((l) => [l.version_id, l]));
  return versions.map((v) => {
    const target = Number(v.sla_target);
    const own = windows.filter((w) => w.api_id === v.api_id);
    const probe = lastOf.get(v.id);
    const isInMaintenance = own.some(
      (w) => new Date(w.starts_at) <= input.now && input.now < new Date(w.ends_at),
    );
    return {
      org: v.org,
      orgName: v.org_name,
      api: v.api,
      apiName: v.api_name,
      version: v.version,
      classification: v.classification,
      slaTarget: target,
      current: isInMaintenance ? 'maintenance' : !probe ? 'unknown' : probe.ok ? 'up' : 'down',
      lastProbeAt: probe ? new Date(probe.at).toISOString() : null,
      uptime: totals.get(v.id)?.availability ?? null,
      days: periods.get(v.id)!.map((p) => ({
        day: p.start.toISOString().slice(0, 10),
        verdict: dayVerdict(p.availability, target),
        availability: p.availability,
        probes: p.probes,
        up: p.up,
        maintenance: own.some((w) => overlaps(w, p.start, nextPeriod(p.start, 'day'))),
      })),
    };
  });
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#12355b;color:#fff;padding:1rem 1.5rem}header h1{margin:0;font-size:1.35rem}
header p{margin:.25rem 0 0;opacity:.85;font-size:.9rem}
main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem}
.api{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}
.api h2{font-size:1rem;margin:0;display:flex;justify-content:space-between;gap:1rem}
.meta{color:#555;font-size:.85rem;margin:.15rem 0 .5rem}
.state{font-size:.85rem;padding:.05rem .5rem;border-radius:999px;color:#fff}
.state.up{background:#1f883d}.state.down{background:#cf222e}.state.maintenance{background:#0969da}.state.unknown{background:#6e7781}
.bars{display:flex;gap:2px;height:34px;align-items:stretch}
.bar{flex:1;border-radius:2px;min-width:3px;box-sizing:border-box}
.bar.up{background:#2da44e}.bar.degraded{background:#d4a72c}.bar.down{background:#cf222e}.bar.nodata{background:#d0d7de}
.bar.maintenance{border-top:6px solid #0969da}
.legend{display:flex;justify-content:space-between;color:#555;font-size:.8rem;margin-top:.25rem}
.key{font-size:.8rem;color:#555}.key span{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle;margin:0 .2rem 0 .8rem;border-radius:2px}
.key .up{background:#2da44e}.key .degraded{background:#d4a72c}.key .down{background:#cf222e}.key .nodata{background:#d0d7de}.key .maintenance{background:#0969da}`;

const CURRENT_LABEL = {
  up: 'Normal',
  down: 'Gangguan',
  maintenance: 'Pemeliharaan',
  unknown: 'Belum diperiksa',
} as const;

function dayTitle(d: StatusDay): string {
  const measured =
    d.availability === null ? 'tidak ada data' : `${percent(d.availability)} (${d.up}/${d.probes} probe)`;
  return `${d.day}: ${measured}${d.maintenance ? ', pemeliharaan' : ''}`;
}

export function renderStatusPage(rows: StatusRow[], input: { now: Date; operatorView: boolean }): HtmlPage {
  const body = html`<header><h1>Status Sistem Penghubung Layanan${input.operatorView ? ' — tampilan operator' : ''}</h1>
<p>Ketersediaan tiap API selama ${STATUS_DAYS} hari terakhir (UTC), diukur oleh probe hub terhadap target SLA
(BKS 60(3)(m): paling rendah 95 %). Diperbarui ${input.now.toISOString()}.</p></header>
<main>
<p class="key">Satu batang per hari:<span class="up"></span>memenuhi target<span class="degraded"></span>di bawah target<span class="down"></span>di bawah 90 %<span class="nodata"></span>tidak ada data<span class="maintenance"></span>pemeliharaan</p>
${
  rows.length === 0
    ? html`<p>Belum ada API yang diterbitkan.</p>`
    : rows.map(
        (
          r,
        ) => html`<section class="api" data-api="${r.org}/${r.api}/${r.version}" data-classification="${r.classification}">
<h2><span>${r.apiName} <small>${r.org}/${r.api} ${r.version}</small></span><span class="state ${r.current}">${CURRENT_LABEL[r.current]}</span></h2>
<p class="meta">${r.orgName} · target ${r.slaTarget} % · ${STATUS_DAYS} hari: ${percent(r.uptime, 3)}${
          input.operatorView ? ` · ${r.classification}` : ''
        }</p>
<div class="bars">${r.days.map(
          (d) =>
            html`<span class="bar ${d.verdict}${d.maintenance ? ' maintenance' : ''}" data-day="${d.day}" data-verdict="${d.verdict}" data-maintenance="${String(d.maintenance)}" title="${dayTitle(d)}"></span>`,
        )}</div>
<div class="legend"><span>${r.days[0]?.day}</span><span>${r.days.at(-1)?.day}</span></div>
</section>`,
      )
}
</main>`;
  return renderPage({ title: 'Status SPL', style: STYLE, body });
}
